"""``string_check``: OpenAI's string comparison grader, with regex and prefix/suffix operations."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Literal

import regex
from pydantic import Field

from rft_core import GradeError, OpenAIMapping, Result, SharedResult, compile_pattern, hookimpl, search_with_timeout

from ._compare import TextComparisonConfig, TextGrader

Operation = Literal["eq", "ne", "like", "ilike", "regex", "fullmatch", "startswith", "endswith"]


class StringCheck(TextGrader):
    """Exact string comparison: eq, ne, like, ilike (OpenAI), regex, fullmatch, startswith, endswith.

    Reward 1.0 when the check holds, else 0.0. ``like`` is "reference occurs in
    input", ``ilike`` the same ignoring case. For ``regex`` and ``fullmatch`` the
    reference is a pattern (``casefold`` makes it case-insensitive).

    >>> StringCheck(reference="{{ item.answer }}", operation="eq", casefold=True).grade("Paris", {"answer": "paris"}).reward
    1.0
    """

    type = "string_check"
    openai = OpenAIMapping(
        type="string_check", fields=("name", "input", "reference", "operation"), filled=("input", "operation"),
        values={"operation": ("eq", "ne", "like", "ilike")},
    )

    class Config(TextComparisonConfig):
        operation: Operation = Field(default="eq", description="The comparison to make.")

    config: Config

    def __init__(self, config: Config | None = None, /, **fields: object) -> None:
        super().__init__(config, **fields)
        self.reference_is_pattern = self.config.operation in ("regex", "fullmatch")
        self.check = getattr(self, f"_{self.config.operation}", None) or CHECKS[self.config.operation]
        reference = self.config.reference
        self.pattern = None  # compiled once when the pattern is a constant; a bad one fails the spec load
        if self.reference_is_pattern and not reference.variables:
            self.pattern = compile_pattern(reference.text, ValueError, self._flags())

    def _flags(self) -> int:
        return regex.IGNORECASE if self.config.casefold else 0

    def compare(self, text: str, reference: str) -> Result:
        return PASSED if self.check(text, reference) else FAILED

    def compare_batch(self, texts: list[str], references: list[str]) -> list[Result]:
        if self.reference_is_pattern:  # a row's regex can run past its timeout: that row's result alone
            return super().compare_batch(texts, references)
        return list(map(BY_HIT.__getitem__, map(self.check, texts, references)))

    def _regex(self, text: str, reference: str, full: bool = False) -> bool:
        pattern = self.pattern or compile_pattern(reference, GradeError, self._flags())
        return search_with_timeout(pattern, text, self.config.regex_timeout, full=full)

    def _fullmatch(self, text: str, reference: str) -> bool:
        return self._regex(text, reference, full=True)


PASSED, FAILED = SharedResult(1.0), SharedResult(0.0)  # every check has one of two outcomes: made once, read-only
BY_HIT = {True: PASSED, False: FAILED}


def _contains_ignoring_case(text: str, reference: str) -> bool:
    return reference.casefold() in text.casefold()


# (text, reference) -> whether the check holds, for the operations that need no regex.
CHECKS: dict[str, Callable[[str, str], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "like": operator.contains,
    "ilike": _contains_ignoring_case,
    "startswith": str.startswith,
    "endswith": str.endswith,
}


@hookimpl
def register_graders(register):
    register(StringCheck)
