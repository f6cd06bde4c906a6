"""``code``: the program in a model's output run against the item's tests in an OS sandbox; reward = share passed."""

from __future__ import annotations

import re
import threading
from typing import Literal

from pydantic import Field, model_validator

from rft_core import GradeError, Grader, GraderConfig, Item, Result, Sample, Status, TemplateField, hookimpl

from ._code_backends import LocalPython, SandboxFusion
from ._code_tests import Case, MalformedTests, judge, read_cases

__all__ = ["Code", "extract_program"]

OPENING_FENCE = re.compile(r"(`{3,}|~{3,})[ \t]*([^`]*)")
ALIASES = {"python": ("python", "py", "python3"), "cpp": ("cpp", "c++", "cc"), "nodejs": ("nodejs", "javascript", "js"),
           "typescript": ("typescript", "ts"), "bash": ("bash", "sh", "shell")}
NO_PROGRAM = "code_no_program"
COMPILE_ERROR = "code_compile_error"
TESTS_ERROR = "code_tests_error"


def extract_program(text: str, language: str, block: str = "last") -> str | None:
    """The fenced block of ``language`` (its aliases too): the last, the first, or the one whose info string names ``block``.

    >>> extract_program("try:\\n```python\\nprint(1)\\n```\\nfinal:\\n```py\\nprint(2)\\n```", "python")
    'print(2)\\n'
    """
    tags = ALIASES.get(language, (language,))
    found = []
    for info, body in _fenced_blocks(text):
        if info and info[0].lower() in tags:
            found.append((info[1:], body))
    if block == "first":
        return found[0][1] if found else None
    if block != "last":
        found = [entry for entry in found if block in entry[0]]
    return found[-1][1] if found else None


def _fenced_blocks(text: str) -> list[tuple[list[str], str]]:
    """(info words, body) of every closed fenced block, in one pass over the lines (CommonMark's rule: the
    closing fence is the opening one's character, at least as long, alone on its line)."""
    blocks = []
    fence, info, body = "", [], []
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if not fence:
            match = OPENING_FENCE.fullmatch(stripped)
            if match:
                fence, info, body = match.group(1), match.group(2).split(), []
        elif stripped.startswith(fence) and stripped == fence[0] * len(stripped):
            blocks.append((info, "".join(body)))
            fence = ""
        else:
            body.append(line)
    return blocks


class Code(Grader):
    """Run the output's program (a fenced block) against the item's tests in an OS sandbox.

    Tests are stdin/stdout cases, call cases (``fn_name``, args, expected) or asserts; each
    runs in a fresh process with its own time and memory limits. The reward is the share of
    cases passed (``scoring: all``: 1 only if every case passes). ``metadata["verdict"]`` is
    accepted, wrong_answer, runtime_error, memory_limit, output_limit, timeout, compile_error
    or no_program, and ``metadata["cases"]`` each case's. Expected outputs never enter the
    sandbox: rft compares what the program printed or returned.

    >>> Code().grade("```python\\nprint(int(input()) * 2)\\n```", {"tests": [{"stdin": "21", "stdout": "42"}]}).reward
    1.0
    """

    type = "code"
    openai_hint = ("OpenAI has no code-execution grader: run it here (its sandbox is local), or call your own "
                   "execution service from a python grader")

    class Config(GraderConfig):
        language: str = Field(default="python", description="The program's language: the fenced block's tag "
                              "(python runs locally; others need backend: sandbox_fusion).")
        block: str = Field(default="last", description="Which fenced block: last, first, or the one whose info "
                           "string names this word (```python solution).")
        tests: TemplateField = Field(default="{{ item.tests }}", description="The item's tests: a list of "
                                     "{stdin, stdout}, {fn_name, args, expected} or assert strings, or "
                                     "{inputs, outputs, fn_name?} (JSON text accepted).")
        compare: Literal["exact", "lines", "tokens", "float"] = Field(
            default="lines", description="How stdout is compared: exact; lines (trailing spaces and blank lines "
            "ignored); tokens (any whitespace); float (tokens, numbers within float_tolerance).")
        float_tolerance: float = Field(default=1e-6, ge=0, description="Relative and absolute tolerance of float "
                                       "comparisons (float mode; returned floats in call and assert cases).")
        scoring: Literal["fraction", "all"] = Field(default="fraction", description="fraction: the share of cases "
                                                    "passed; all: 1 when every case passes, else 0.")
        timeout: float = Field(default=5.0, gt=0, le=3600, description="Seconds one case may run (a case's own "
                               "'timeout' overrides it).")
        memory_mb: int = Field(default=512, ge=0, description="Address-space limit of one case's process in MiB "
                               "(a case's own 'memory_mb' overrides it); 0: none.")
        max_output_kb: int = Field(default=1024, gt=0, description="Output (stdout, or the returned value) one case "
                                   "may write, in KiB; more is output_limit.")
        max_cases: int = Field(default=256, gt=0, description="An item with more cases is an error.")
        max_program_chars: int = Field(default=100_000, gt=0, description="A longer program is a parse_error.")
        backend: Literal["local", "sandbox_fusion"] = Field(
            default="local", description="local: Python in rft's OS sandbox (bubblewrap); sandbox_fusion: POST "
            "/run_code of a Sandbox Fusion server at 'endpoint' (stdin/stdout cases only).")
        endpoint: str | None = Field(default=None, description="sandbox_fusion: the server's base URL.")

        @model_validator(mode="after")
        def _backend_fits(self):
            if self.backend == "sandbox_fusion" and not self.endpoint:
                raise ValueError("backend sandbox_fusion needs 'endpoint' (the server's base URL, e.g. http://127.0.0.1:8080)")
            if self.backend == "local" and self.language != "python":
                raise ValueError(f"the local backend runs python only; for {self.language!r} set 'backend: "
                                 "sandbox_fusion' and its 'endpoint'")
            return self

    config: Config
    transient = {"_lock": lambda grader: threading.Lock(), "_backend": lambda grader: grader._make_backend()}
    """The sandbox and its lock: a pickled grader (TRL, Ray) starts its own sandbox on first use."""

    def __init__(self, config: Config | None = None, /, **fields: object) -> None:
        super().__init__(config, **fields)
        self._lock = threading.Lock()
        self._backend = self._make_backend()

    def _make_backend(self) -> LocalPython | SandboxFusion:
        if self.config.backend == "sandbox_fusion":
            return SandboxFusion(self.name, self.config.endpoint or "", self.config.language)
        return LocalPython(self.name)

    @property
    def sandboxes_started(self) -> int:
        """Local sandboxes this grader started (one serves every sample until it fails)."""
        return getattr(self._backend, "started", 0)

    def close(self) -> None:
        """Stop the local sandbox (a new one starts on the next grade)."""
        if isinstance(self._backend, LocalPython):
            self._backend.close()

    def evaluate(self, sample: Sample, item: Item) -> Result:
        program = self._program(sample.output_text)
        cases = self._cases(sample, item)
        with self._lock:  # one sandbox per grader: cases run through it in turn
            return self._run(program, cases)

    def _program(self, text: str) -> str:
        config = self.config
        program = extract_program(text[: config.max_program_chars * 4], config.language, config.block)
        if program is None:
            which = "" if config.block in ("last", "first") else f" named {config.block!r}"
            raise GradeError(f"{self.name}: no ```{config.language} block{which} in the output", status=Status.PARSE_ERROR,
                             code=NO_PROGRAM)
        if len(program) > config.max_program_chars:
            raise GradeError(f"{self.name}: the program is longer than max_program_chars ({config.max_program_chars})",
                             status=Status.PARSE_ERROR, code=NO_PROGRAM)
        return program

    def _cases(self, sample: Sample, item: Item) -> list[Case]:
        where = f"{self.name}: the item's tests ({self.config.tests.text})"
        try:
            cases = read_cases(self.config.tests.resolve(sample, item))
        except MalformedTests as exc:
            raise GradeError(f"{where}: {exc}; fix the dataset row", code=TESTS_ERROR) from None
        if len(cases) > self.config.max_cases:
            raise GradeError(f"{where}: {len(cases)} cases, more than max_cases ({self.config.max_cases})",
                             code=TESTS_ERROR)
        if self.config.backend == "sandbox_fusion" and any(case.kind != "stdio" for case in cases):
            raise GradeError(f"{where}: the sandbox_fusion backend runs stdin/stdout cases only", code=TESTS_ERROR)
        return cases

    def _run(self, program: str, cases: list[Case]) -> Result:
        config = self.config
        verdicts: list[str] = []
        first_failure = ""
        for number, case in enumerate(cases):
            memory_mb = config.memory_mb if case.memory_mb is None else case.memory_mb
            run = self._backend.run(program, case.request, case.timeout or config.timeout, memory_mb << 20,
                                    config.max_output_kb << 10)
            if run.compile_error is not None:
                return Result.failure(Status.PARSE_ERROR, f"{self.name}: the program does not compile: "
                                      f"{run.compile_error[:2000]}", COMPILE_ERROR, verdict="compile_error")
            verdict, why = judge(case, run, config.compare, config.float_tolerance)
            verdicts.append(verdict)
            if verdict != "passed" and not first_failure:
                first_failure = f"case {number}: {verdict} ({why})"
                if config.scoring == "all":
                    break  # the reward is 0 whatever the others do
        passed = verdicts.count("passed")
        reward = passed / len(cases) if config.scoring == "fraction" else float(passed == len(cases))
        verdict = "accepted" if passed == len(cases) else next(v for v in verdicts if v != "passed")
        reason = f"{passed}/{len(cases)} cases passed" + (f"; first failure: {first_failure}" if first_failure else "")
        return Result(reward, Status.OK, reason, metadata={"verdict": verdict, "cases": verdicts})


@hookimpl
def register_graders(register):
    register(Code)
