"""Config fields and checks that graders of several families share: the input size cap and
regexes that run under a timeout.

A regex in a spec reads model output, so it runs with the ``regex`` module's timeout: a
pattern that backtracks for too long is the sample's ``timeout`` status, never a hung grade.

It first runs holding the interpreter lock. The ``regex`` module otherwise releases the lock for
every match, and where another thread is waiting for it (``rft serve``'s event loop while a batch
is graded) each release hands the lock over and back: a context switch per match, for matches that
take microseconds. A match still running after ``HELD_SECONDS`` runs again from the start with the
lock released, within what is left of its timeout, so no other thread waits on a regex longer than
that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

import regex
from pydantic import AfterValidator

from .errors import GradeError
from .types import Status

__all__ = ["HELD_SECONDS", "RegexField", "check_input", "compile_pattern", "finditer_with_timeout", "search_with_timeout"]


def check_input(text: str, limit: int) -> str:
    """``text`` when it is at most ``limit`` characters, else GradeError(parse_error)."""
    if len(text) > limit:
        raise GradeError(
            f"input has {len(text):,} characters, over max_input_chars={limit:,}",
            status=Status.PARSE_ERROR,
            code="sample_parse_error",
        )
    return text


def _compiles(pattern: str) -> str:
    compile_pattern(pattern, ValueError)
    return pattern


RegexField = Annotated[str, AfterValidator(_compiles)]
"""A config field holding a regex: a pattern that does not compile fails the spec load."""


def compile_pattern(pattern: str, error: type[Exception], flags: int = 0) -> regex.Pattern:
    """Compile a regex (cached by the regex module), raising ``error`` with the reason if invalid."""
    try:
        return regex.compile(pattern, flags)
    except regex.error as exc:
        raise error(f"invalid regex {pattern!r}: {exc}") from None


HELD_SECONDS = 0.005
"""How long a regex runs holding the interpreter lock before it runs again without (Python's own
thread switch interval)."""

_T = TypeVar("_T")


def search_with_timeout(pattern: regex.Pattern, text: str, timeout: float, full: bool = False) -> bool:
    """Whether the pattern matches (anywhere, or the whole text); a timeout becomes status timeout."""
    match = pattern.fullmatch if full else pattern.search
    held = min(timeout, HELD_SECONDS)
    try:
        return match(text, timeout=held, concurrent=False) is not None
    except TimeoutError:
        pass
    return _released(pattern, timeout, held, lambda seconds: match(text, timeout=seconds, concurrent=True)) is not None


def finditer_with_timeout(pattern: regex.Pattern, text: str, timeout: float) -> Iterator[regex.Match]:
    """The pattern's matches in ``text`` (all found before the first is given); running over
    ``timeout`` seconds becomes status timeout."""
    held = min(timeout, HELD_SECONDS)
    try:
        return iter(list(pattern.finditer(text, timeout=held, concurrent=False)))
    except TimeoutError:
        pass
    return iter(_released(pattern, timeout, held,
                          lambda seconds: list(pattern.finditer(text, timeout=seconds, concurrent=True))))


def _released(pattern: regex.Pattern, timeout: float, held: float, run: Callable[[float], _T]) -> _T:
    """``run(seconds)`` (the match again, releasing the interpreter lock) for what is left of
    ``timeout`` after ``held`` seconds spent holding it; GradeError(timeout) past that."""
    if held < timeout:
        try:
            return run(timeout - held)
        except TimeoutError:
            pass
    raise _regex_timeout(pattern, timeout)


def _regex_timeout(pattern: regex.Pattern, timeout: float) -> GradeError:
    return GradeError(f"regex {pattern.pattern!r} ran over {timeout}s", status=Status.TIMEOUT, code="timeout_error")
