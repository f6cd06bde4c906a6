"""``python``: OpenAI's python grader, user code's ``grade(sample, item)`` run in an OS sandbox, one process per sample."""

from __future__ import annotations

import ast
import json
import math
import os
import threading
import time
from typing import Any, Literal

from pydantic import Field, field_validator

from rft_core import (
    GradeError,
    Grader,
    GraderConfig,
    Item,
    OpenAIMapping,
    Result,
    Sample,
    Status,
    hookimpl,
    missing_imports,
    sandbox,
)

from ._supervisor import _Died, _LoadError, _LoadTimeout, _STARTUP_GRACE, _Worker, _top_level_names, _unserialisable

__all__ = ["OPENAI_IMAGE_PACKAGES", "PythonGrader"]

RUNTIME_ERROR = "python_grader_runtime_error"
SERVER_ERROR = "python_grader_server_error"
PARSE_ERROR = "python_grader_parse_error"

# The third-party packages OpenAI's graders guide lists for its python-grader image (tag 2025-05-08),
# by the module a grader imports: the `openai-python` extra installs them (pyproject.toml).
OPENAI_IMAGE_PACKAGES = {
    "numpy": "numpy==2.2.4",
    "scipy": "scipy==1.15.2",
    "sympy": "sympy==1.13.3",
    "pandas": "pandas==2.2.3",
    "rapidfuzz": "rapidfuzz==3.10.1",
    "sklearn": "scikit-learn==1.6.1",
    "rouge_score": "rouge-score==0.1.2",
    "deepdiff": "deepdiff==8.4.2",
    "jsonschema": "jsonschema==4.23.0",
    "pydantic": "pydantic==2.10.6",
    "yaml": "pyyaml==6.0.2",
    "nltk": "nltk==3.9.1",
    "sqlparse": "sqlparse==0.5.3",
    "rdkit": "rdkit==2024.9.6",
    "skbio": "scikit-bio==0.6.3",
    "ast_grep_py": "ast-grep-py==0.36.2",
}


class PythonGrader(Grader):
    """Runs the spec's Python ``grade(sample, item) -> float`` in an OS sandbox (OpenAI's python grader).

    The reward is the number ``grade`` returns. An exception, a result that is not a
    finite number, or a crash gives status ``error`` (code ``python_grader_runtime_error``,
    the traceback in the reason); running past ``timeout`` gives status ``timeout``.
    One sandbox per grader (rft_core.infra.sandbox) holds a supervisor that forks a fresh process
    for every sample and reads its result from a pipe of that sample's own.

    >>> PythonGrader(source="def grade(sample, item):\\n    return float(sample['output_text'] == item['answer'])").grade("4", {"answer": "4"}).reward
    1.0
    """

    type = "python"
    openai = OpenAIMapping(
        type="python", fields=("name", "source", "image_tag", "pass_threshold"),
        # the local limits and import path: how the code is run here, not what it computes
        operational=("timeout", "memory_mb", "cpu_limit", "site_packages", "isolation"),
    )

    class Config(GraderConfig):
        source: str = Field(
            description="Python source defining grade(sample, item) -> float. sample is a dict with "
            "output_text, output_json, output_tools and choices; item is the dataset row.",
        )
        image_tag: str | None = Field(
            default=None,
            description="OpenAI's runtime image tag; accepted for compatibility and ignored "
            "(rft runs the code with the local interpreter).",
        )
        pass_threshold: float | None = Field(
            default=None,
            description="When set, metadata['passed'] says whether the reward reached it; the reward is unchanged.",
        )
        timeout: float = Field(default=120.0, gt=0, description="Seconds of wall-clock time one grade may take.")
        memory_mb: int = Field(
            default=2048, ge=0, description="Address-space limit of the worker process (RLIMIT_AS) in MiB; 0: none."
        )
        cpu_limit: float | None = Field(
            default=None,
            gt=0,
            description="CPU seconds one grade may use (RLIMIT_CPU); defaults to timeout + 1 (a backstop behind the "
            "wall clock, so a busy loop reports the timeout).",
        )
        site_packages: bool | None = Field(
            default=None,
            description="Let the code import installed packages (numpy, ...) as well as the standard library; "
            "default: true in the sandbox (the environment is mounted read-only there), false with isolation: none.",
        )
        isolation: Literal["sandbox", "none"] = Field(
            default="sandbox",
            description="sandbox: run the code in Linux namespaces through bubblewrap (the grader refuses to run "
            "where that is not possible); none: a plain subprocess with an audit hook, only for code you trust.",
        )

        @field_validator("source")
        @classmethod
        def _parses(cls, source: str) -> str:
            try:
                tree = ast.parse(source, "<grader>")
            except SyntaxError as exc:
                raise ValueError(f"the python source does not parse: {exc.msg} (line {exc.lineno})") from None
            if "grade" not in _top_level_names(tree):
                raise ValueError("the python source defines no function grade(sample, item)")
            return source

    config: Config
    transient = {"_lock": lambda grader: threading.Lock(), "_worker": lambda grader: None}
    """The worker process and its lock: a pickled grader (TRL, Ray) starts its own worker on first use."""

    def pass_threshold(self) -> float | None:
        return self.config.pass_threshold

    def __init__(self, config: Config | None = None, /, **fields: object) -> None:
        super().__init__(config, **fields)
        self._lock = threading.Lock()
        self._worker: _Worker | None = None
        self._load_error: str | None = None
        self.started = 0  # workers ever started: tests read it to see replacements

    @property
    def site_packages(self) -> bool:
        """Whether the code may import installed packages: as set, else only inside the sandbox."""
        if self.config.site_packages is not None:
            return self.config.site_packages
        return self.config.isolation == "sandbox"

    def environment_problems(self) -> list[str]:
        """Each module the source imports that it cannot import here, and what to do."""
        problems = []
        for module, why in missing_imports(self.config.source, site_packages=self.site_packages).items():
            problems.append(f"the source imports {module!r}, {why}: {_fix(module, why)}")
        return problems

    def evaluate(self, sample: Sample, item: Item) -> Result:
        return self.evaluate_batch([sample], [item])[0]

    def evaluate_batch(self, samples: list[Sample], items: list[Item]) -> list[Result]:
        results = []
        with self._lock:  # one worker per grader: the batch runs through it in order
            for sample, item in zip(samples, items):
                try:
                    results.append(self._grade_one(sample, item))
                except GradeError as exc:  # the source failed to load, or no worker started
                    results.append(self._failure(exc))
        return results

    def close(self) -> None:
        """Kill the sandbox (a new one starts on the next grade)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.kill()

    # --- one grade ------------------------------------------------------------------------

    def _grade_one(self, sample: Sample, item: Item) -> Result:
        try:
            payload = json.dumps({"sample": sample.to_dict(), "item": dict(item)}, default=_unserialisable)
        except (TypeError, ValueError) as exc:
            return Result.failure(Status.ERROR, f"{self.name}: the sample or item is not JSON: {exc}", RUNTIME_ERROR)
        worker = self._ready_worker()
        started = time.monotonic()
        try:
            # the supervisor ends the sample at its timeout itself: the margin is for the supervisor
            response = worker.request(payload.encode() + b"\n", self.config.timeout + _STARTUP_GRACE)
        except (_Died, TimeoutError) as exc:
            self.close()
            return Result.failure(Status.ERROR, f"{self.name}: the grader's supervisor failed ({exc or 'no answer'})",
                                  SERVER_ERROR)
        elapsed = time.monotonic() - started
        if "reward" not in response:
            kind = response["kind"]
            if kind in ("timeout", "cpu"):
                return Result.failure(Status.TIMEOUT, f"{self.name}: grade() {response['error']}", "timeout_error")
            return Result.failure(Status.ERROR, f"{self.name}: {response['error']}", RUNTIME_ERROR)
        reward = response["reward"]
        metadata: dict[str, Any] = {"execution_time": elapsed}
        if self.config.pass_threshold is not None:
            metadata["passed"] = reward >= self.config.pass_threshold
        return Result(reward, metadata=metadata)

    def _ready_worker(self) -> _Worker:
        if self._worker is not None and (self._worker.pid != os.getpid() or not self._worker.alive()):
            if self._worker.pid == os.getpid():
                self._worker.kill()
            self._worker = None  # forked: that worker is the parent's
        if self._worker is None:
            if self._load_error is not None:  # the same source fails the same way: no new worker per sample
                raise GradeError(self._load_error, code=PARSE_ERROR)
            sandboxed = self.config.isolation == "sandbox"
            if sandboxed and (reason := sandbox.unavailable_reason()) is not None:
                raise GradeError(
                    f"{self.name}: refusing to run the python source without OS isolation: {reason}. Install "
                    "bubblewrap and allow unprivileged user namespaces, or set 'isolation: none' on this grader "
                    "in the spec (only for code you trust)", code=SERVER_ERROR,
                )
            limits = {
                "memory_bytes": self.config.memory_mb * 1024 * 1024,
                "cpu_seconds": math.ceil(self.config.cpu_limit or self.config.timeout + 1),
                "site_packages": self.site_packages,
                "sandboxed": sandboxed,
            }
            self.started += 1
            try:
                self._worker = _Worker(self.config.source, self.config.timeout, limits)
                self._worker.wait_ready(self.config.timeout + _STARTUP_GRACE)
            except _LoadError as exc:
                self.close()
                self._load_error = f"{self.name}: the python source failed to load:\n{exc}"
                raise GradeError(self._load_error, code=PARSE_ERROR) from None
            except (TimeoutError, _LoadTimeout):
                self.close()
                raise GradeError(
                    f"{self.name}: the python source did not finish loading within {self.config.timeout:g}s",
                    status=Status.TIMEOUT, code="timeout_error",
                ) from None
            except (_Died, OSError) as exc:
                self.close()
                raise GradeError(f"{self.name}: the python grader process did not start: {exc}", code=SERVER_ERROR) from None
        return self._worker


def _fix(module: str, why: str) -> str:
    """What to do about a module the source cannot import: OpenAI's image packages come with the extra."""
    if why.startswith("installed"):
        return "set site_packages: true"
    if module in OPENAI_IMAGE_PACKAGES:
        distribution = OPENAI_IMAGE_PACKAGES[module].split("==")[0]
        return (f"OpenAI's grader image has it ({distribution}); install OpenAI's python-grader packages with "
                "pip install 'rft-graders[openai-python]'")
    return f"install it (pip install {module})"


@hookimpl
def register_graders(register):
    register(PythonGrader)
