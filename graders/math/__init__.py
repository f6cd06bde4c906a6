"""``math``: is the final answer in the sample mathematically equal to the reference?

The answer is extracted (after ``</think>``, inside ``<answer>`` tags: every ``\\boxed{}``, an
answer phrase, ``#### 42``, a bare math answer, the last LaTeX span, the last number of prose,
a short text), cleaned, and parsed by our own parser into a small tree that is checked
against size caps. Numbers are compared exactly in-process; anything that needs sympy is
compared in a worker process that is killed at the deadline. Model text is never
evaluated: no ``eval``, ``exec``, ``sympify`` or ``parse_expr``.
"""

from __future__ import annotations

from functools import lru_cache
from collections.abc import Sequence
from typing import Any, Literal

import regex
from pydantic import Field, field_validator

from rft_core import GradeError, Grader, GraderConfig, Item, Result, Sample, Status, TemplateField, finditer_with_timeout, hookimpl

from ._equiv import Options, Undecided, compare
from ._choice import find_choice
from ._extract import EXTRACTORS, extract, solution_boxed
from ._parse import Caps, ParseFailure, TooComplex, clean, is_constant, parse, parse_choice
from ._phrases import has_final_phrase
from ._spans import thinking_unfinished
from ._pool import get_pool
from ._several import offers_several

__all__ = ["EXTRACTORS", "MathGrader", "extract_answer", "register_graders"]

MAX_SHORT_REFERENCE = 200  # a longer reference with a "final answer" phrase is a worked solution
Extractor = Literal["boxed", "phrase", "gsm8k", "whole", "latex", "number", "text"]


class MathConfig(GraderConfig):
    input: TemplateField = Field(default="{{ sample.output_text }}", description="Template for the text being graded.")
    reference: TemplateField = Field(
        default="{{ item.answer }}",
        description="Template for the reference answer. When it is exactly one variable holding a list, "
        "each element is an acceptable reference. A GSM8K '#### 42' or a \\boxed{} in it is extracted.",
    )
    extract: str | None = Field(
        default=None,
        description="Regex that overrides the built-in extractors: the last match is the answer, its first group "
        "if it has one. No match gives status parse_error.",
    )
    extractors: list[Extractor] = Field(
        default=list(EXTRACTORS),
        min_length=1,
        description="Built-in extraction methods, tried in this order: boxed, phrase, gsm8k, whole, latex, number, text.",
    )
    rel_tol: float = Field(
        default=1e-6, ge=0, description="Relative tolerance when either side is a decimal (inexact) number."
    )
    abs_tol: float = Field(default=1e-9, ge=0, description="Absolute tolerance when either side is a decimal number.")
    percent: bool = Field(
        default=True, description="A trailing % may be ignored: 50% equals 0.5 and also 50. False: 50% equals 0.5 only."
    )
    symbolic: bool = Field(
        default=True, description="Compare expressions with variables (simplify, then random points); False: numbers only."
    )
    multiple_choice: bool = Field(
        default=True,
        description="When every reference is a letter A-J (or '(B)'), grade the choice letter in the sample.",
    )
    partial_credit: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Reward for a wrong answer that is a number (ReFT uses 0.1); 0 means wrong is 0.",
    )
    timeout: float = Field(
        default=5.0, gt=0, description="Seconds one comparison may run in a worker before it is killed (status timeout)."
    )
    workers: int | None = Field(
        default=None, ge=1, description="Worker processes for sympy comparisons; null means one per CPU core this process may use."
    )
    worker_memory_mb: int = Field(
        default=4096, ge=0, description="Address-space limit of each worker process in MiB (0: no limit)."
    )
    max_input_chars: int = Field(
        default=1_000_000, gt=0, description="Longer sample texts get status parse_error instead of being searched."
    )
    max_answer_chars: int = Field(
        default=2000, gt=0, description="Longer extracted answers get status parse_error before any parsing."
    )
    max_nodes: int = Field(default=400, gt=0, description="Most nodes a parsed answer may have.")
    max_depth: int = Field(default=60, gt=0, description="Deepest nesting of brackets and operators in an answer.")
    max_exponent: int = Field(default=1000, gt=0, description="Largest constant exponent (also in 1e999 notation).")
    max_factorial: int = Field(default=1000, gt=0, description="Largest constant argument of n! and binomials.")
    max_digits: int = Field(
        default=10_000, gt=0, description="Most digits of a number literal or of a constant power such as 10^5000."
    )
    regex_timeout: float = Field(default=1.0, gt=0, description="Seconds the extract regex may run (status timeout).")

    @field_validator("extract")
    @classmethod
    def _extract_compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                regex.compile(pattern)
            except regex.error as exc:
                raise ValueError(f"invalid regex {pattern!r}: {exc}") from None
        return pattern


class _Pending:
    """A comparison that needs sympy: sent to a worker, finished by ``_finish``."""

    __slots__ = ("key", "request", "extracted", "method", "numeric")

    def __init__(self, key: tuple, request: dict, extracted: str, method: str, numeric: bool) -> None:
        self.key = key
        self.request = request
        self.extracted = extracted
        self.method = method
        self.numeric = numeric


_VERDICTS = "math verdicts"  # the runtime's {(answer, references, options, caps): worker response}
_MAX_VERDICTS = 200_000


class MathGrader(Grader):
    """Mathematical equivalence of the final answer to a reference (sympy in killable workers, never eval).

    Reward 1.0 when equal, 0.0 when not (or ``partial_credit`` for a wrong number).
    Nothing extractable or parseable gives status ``parse_error``; a comparison over
    the deadline gives status ``timeout``.

    >>> MathGrader().grade("so the answer is $\\\\boxed{\\\\frac{1}{2}}$", {"answer": "0.5"}).reward
    1.0
    """

    type = "math"
    blocking = True  # a comparison may wait on a sympy worker: agrade runs it in a thread
    openai_hint = "OpenAI has no math-equivalence grader: run it here, or compare answers in a python grader"
    Config = MathConfig
    config: MathConfig

    def __init__(self, config: MathConfig | None = None, /, **fields: Any) -> None:
        super().__init__(config, **fields)
        c = self.config
        self.caps = Caps(c.max_answer_chars, c.max_nodes, c.max_depth, c.max_exponent, c.max_factorial, c.max_digits)
        self.options = Options(c.rel_tol, c.abs_tol, c.percent, c.symbolic)
        self.pattern = regex.compile(c.extract) if c.extract is not None else None
        self.extractors = tuple(c.extractors)

    # --- the grading steps ----------------------------------------------------------------

    def references(self, sample: Sample, item: Item) -> list[str]:
        value = self.config.reference.resolve(sample, item)
        values = value if isinstance(value, (list, tuple)) else [value]
        values = [reference for reference in values if reference is not None and str(reference).strip()]
        if not values:  # a row of a multi-task dataset with no math answer: skipped, not wrong
            raise GradeError("no reference answer for this row", status=Status.NOT_APPLICABLE)
        references = []
        for reference in values:
            text = reference if isinstance(reference, str) else str(reference)
            if "####" in text:
                text = text.rsplit("####", 1)[1]
            elif "\\boxed" in text or "\\fbox" in text:
                text = solution_boxed(text) or text
            elif len(text) > MAX_SHORT_REFERENCE and has_final_phrase(text):  # a worked solution: "... Final Answer: 28%"
                text = (extract(text, ("phrase",)) or (text,))[0]
            references.append(text)
        return references

    def prepare(self, sample: Sample, item: Item) -> Result | _Pending:
        """Everything that needs no sympy: a Result, or the request a worker must answer."""
        text = self.config.input.render(sample, item)
        if len(text) > self.config.max_input_chars:
            raise _parse_error(f"input has {len(text):,} characters, over max_input_chars={self.config.max_input_chars:,}")
        references = self.references(sample, item)
        if self.config.multiple_choice:
            letters = [parse_choice(reference, strict=True) for reference in references]
            if all(letters):
                return self._choice(text, letters)
        extracted, method = self._extract(text)
        if len(extracted) > self.config.max_answer_chars:
            raise _parse_error(
                f"answer {_preview(extracted)} has {len(extracted):,} characters, "
                f"over max_answer_chars={self.config.max_answer_chars:,}"
            )
        try:
            several = offers_several(extracted)  # "12, \text{Monday}, Evelyn, yes": cleaning would keep only the 12
        except TimeoutError:
            raise GradeError("answer extraction ran over its time limit", status=Status.TIMEOUT, code="timeout_error") from None
        if several:
            return Result(0.0, Status.OK, "several answers offered", {}, {"extracted": extracted, "method": method, "decided": "text"})
        answer_text = clean(extracted)
        cleaned_refs = tuple(map(_clean_reference, references))
        try:
            answer = parse(answer_text, self.caps)
        except TooComplex as exc:
            raise _parse_error(f"answer {_preview(extracted)} is too complex: {exc}") from None
        except ParseFailure as exc:
            if _plain(answer_text) in map(_plain, cleaned_refs):
                return self._verdict(1.0, extracted, method, "text")
            if all(_parse_reference(cleaned, self.caps) is None for cleaned in cleaned_refs):
                return self._verdict(0.0, extracted, method, "text")  # text against text: a real "no"
            raise _parse_error(f"cannot parse the answer {_preview(extracted)}: {exc}") from None
        numeric = is_constant(answer) and answer[0] not in ("list", "tuple", "set", "interval", "union", "eq")
        key = (answer_text, cleaned_refs, self.options.key(), self.caps.key())
        verdict = self.runtime.shared(_VERDICTS, dict).get(key)
        if verdict is not None:
            return self._finish_verdict(verdict, extracted, method, numeric, "cache")
        undecided = []
        for cleaned in cleaned_refs:
            reference = _parse_reference(cleaned, self.caps)
            if reference is None:  # a text reference ("Monday"): compare as text
                if _plain(answer_text) == _plain(cleaned):
                    return self._verdict(1.0, extracted, method, "text")
                continue
            try:
                if compare(answer, reference, self.options, quick=True):
                    return self._verdict(1.0, extracted, method, "exact")
            except Undecided:
                undecided.append(cleaned)
        if not undecided:
            return self._verdict(self._wrong(numeric), extracted, method, "exact")
        request = {"answer": answer_text, "references": undecided, "caps": list(key[3]), "options": list(key[2])}
        return _Pending(key, request, extracted, method, numeric)

    def _extract(self, text: str) -> tuple[str, str]:
        if self.pattern is not None:
            last = None
            for last in finditer_with_timeout(self.pattern, text, self.config.regex_timeout):
                pass
            if last is None or not (last.group(1) if self.pattern.groups else last.group(0)):
                raise _parse_error(f"extract pattern '{self.pattern.pattern}' found no answer in the input")  # not repr
            return (last.group(1) if self.pattern.groups else last.group(0)), "extract"
        try:
            found = extract(text, self.extractors)
        except TimeoutError:
            raise GradeError("answer extraction ran over its time limit", status=Status.TIMEOUT, code="timeout_error") from None
        if found is None:
            if thinking_unfinished(text):
                raise _parse_error("no answer: the output ends inside <think> (only the text after </think> is graded)")
            raise _parse_error(f"no answer found (tried {', '.join(self.extractors)})")
        return found

    def _choice(self, text: str, letters: list[str | None]) -> Result:
        try:
            found = find_choice(text)
        except TimeoutError:
            raise GradeError("choice extraction ran over its time limit", status=Status.TIMEOUT, code="timeout_error") from None
        if not found:
            raise _parse_error("no choice letter (A-J) found in the answer")
        # several letters are a hedge ("A or B"): never equal to the one right letter
        reward = 1.0 if len(found) == 1 and found[0] in letters else 0.0
        reason = f"several choices offered: {' or '.join(found)}" if len(found) > 1 else None
        metadata = {"extracted": " or ".join(found), "method": "choice", "decided": "exact"}
        return Result(reward, Status.OK, reason, {}, metadata)

    def _wrong(self, numeric: bool) -> float:
        return self.config.partial_credit if numeric else 0.0

    def _verdict(self, reward: float, extracted: str, method: str, decided: str) -> Result:
        return Result(reward, Status.OK, None, {}, {"extracted": extracted, "method": method, "decided": decided})

    def _finish_verdict(self, verdict: dict, extracted: str, method: str, numeric: bool, decided: str) -> Result:
        failure = _worker_failure(verdict, extracted, self.config.timeout, method, decided)
        if failure is not None:
            return failure.result()
        reward = 1.0 if verdict["equal"] else self._wrong(numeric)
        return self._verdict(reward, extracted, method, decided)

    def finish(self, pending: list[_Pending]) -> list[Result]:
        """Send the pending comparisons to the worker pool (all cores at once) and make their Results."""
        pool = get_pool(self.runtime, self.config.workers, self.config.worker_memory_mb)
        verdicts = pool.run([entry.request for entry in pending], self.config.timeout)
        known = self.runtime.shared(_VERDICTS, dict)
        results = []
        for entry, verdict in zip(pending, verdicts):
            if len(known) >= _MAX_VERDICTS:
                known.clear()
            known[entry.key] = verdict
            results.append(self._finish_verdict(verdict, entry.extracted, entry.method, entry.numeric, "sympy"))
        return results

    def warm_up(self) -> None:
        """Start the worker processes now rather than on the first comparison that needs sympy."""
        get_pool(self.runtime, self.config.workers, self.config.worker_memory_mb).warm()

    # --- the Grader interface ---------------------------------------------------------------

    def evaluate(self, sample: Sample, item: Item) -> Result:
        prepared = self.prepare(sample, item)
        return self.finish([prepared])[0] if isinstance(prepared, _Pending) else prepared

    def evaluate_batch(self, samples: list[Sample], items: list[Item]) -> list[Result]:
        results: list[Result | None] = []
        pending: list[_Pending] = []
        where: list[int] = []
        for sample, item in zip(samples, items):
            try:
                prepared = self.prepare(sample, item)
            except Exception as exc:  # noqa: BLE001 - one bad row must not fail its batch
                prepared = self._failure(exc)
            if isinstance(prepared, _Pending):
                where.append(len(results))
                pending.append(prepared)
                results.append(None)
            else:
                results.append(prepared)
        if pending:
            for index, result in zip(where, self.finish(pending)):
                results[index] = result
        return results  # type: ignore[return-value]


def extract_answer(text: str, extractors: Sequence[str] = EXTRACTORS) -> tuple[str, str] | None:
    """``(answer, extractor)``: the final answer the ``math`` grader reads in a model's output and the
    extractor that found it, or None when none finds one.

    Only the text after the last ``</think>`` counts, inside ``<answer>`` tags when there are any;
    ``extractors`` (names as in the ``extractors`` config field) are tried in order. Several
    different answers (boxes, tags) come back as one comma-separated list. Raises ValueError for
    an unknown extractor and TimeoutError when a search runs over its time limit.

    >>> extract_answer("<think>maybe 3</think>So the answer is $\\\\boxed{4}$.")
    ('4', 'boxed')
    """
    unknown = [name for name in extractors if name not in EXTRACTORS]
    if unknown:
        raise ValueError(f"unknown extractors {unknown}; the extractors are {', '.join(EXTRACTORS)}")
    return extract(text, extractors)


_clean_reference = lru_cache(maxsize=65536)(clean)  # references repeat across samples


@lru_cache(maxsize=65536)
def _parse_reference(text: str, caps: Caps) -> tuple | None:
    try:
        return parse(text, caps, decimal_comma=False)
    except ParseFailure:
        return None


def _plain(text: str) -> str:
    """The text form of an answer that is not math ("Monday", "\\text{(C)}"): no spaces, braces, case."""
    text = "".join(text.split()).casefold()
    text = regex.sub(r"\\(?:text|mbox|textbf|mathrm|mathbf)", "", text)
    return text.replace("\\", "").replace("{", "").replace("}", "")


def _preview(text: str) -> str:
    """The answer quoted as written (one backslash, not repr's two), on one line, at most 60 characters."""
    shown = " ".join(text.split())
    return "'" + (shown if len(shown) <= 60 else shown[:57] + "...") + "'"


def _worker_failure(verdict: dict, extracted: str, timeout: float, method: str, decided: str) -> GradeError | None:
    """The GradeError a worker's answer (JSON across the pipe: ``{"timeout": true}`` or ``{"error":
    message, "status": ...}``) stands for; None for a verdict."""
    if verdict.get("timeout"):
        return GradeError(
            f"the comparison of {_preview(extracted)} ran over timeout={timeout}s; the worker was killed",
            status=Status.TIMEOUT, code="timeout_error", extracted=extracted, method=method, decided=decided,
        )
    if "error" in verdict:
        status = Status(verdict.get("status", "error"))
        code = "sample_parse_error" if status is Status.PARSE_ERROR else "other_error"
        return GradeError(f"comparing {_preview(extracted)}: {verdict['error']}", status=status, code=code)
    return None


def _parse_error(message: str) -> GradeError:
    return GradeError(message, status=Status.PARSE_ERROR, code="sample_parse_error")


@hookimpl
def register_graders(register):
    register(MathGrader)
