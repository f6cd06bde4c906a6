"""Config fields and checks that graders of several families share: the input size cap and
regexes that run under a timeout.

A regex in a spec reads model output, so it runs with the ``regex`` module's timeout: a
pattern that backtracks for too long is the sample's ``timeout`` status, never a hung grade.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import regex
from pydantic import AfterValidator

from .errors import GradeError
from .types import Status

__all__ = ["RegexField", "check_input", "compile_pattern", "finditer_with_timeout", "search_with_timeout"]


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


def search_with_timeout(pattern: regex.Pattern, text: str, timeout: float, full: bool = False) -> bool:
    """Whether the pattern matches (anywhere, or the whole text); a timeout becomes status timeout."""
    try:
        match = pattern.fullmatch(text, timeout=timeout) if full else pattern.search(text, timeout=timeout)
    except TimeoutError:
        raise _regex_timeout(pattern, timeout) from None
    return match is not None


def finditer_with_timeout(pattern: regex.Pattern, text: str, timeout: float) -> Iterator[regex.Match]:
    """The pattern's matches in ``text``; running over ``timeout`` seconds becomes status timeout."""
    try:
        yield from pattern.finditer(text, timeout=timeout)
    except TimeoutError:
        raise _regex_timeout(pattern, timeout) from None


def _regex_timeout(pattern: regex.Pattern, timeout: float) -> GradeError:
    return GradeError(f"regex {pattern.pattern!r} ran over {timeout}s", status=Status.TIMEOUT, code="timeout_error")
