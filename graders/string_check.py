"""``string_check``: OpenAI's string comparison grader, with regex and prefix/suffix operations."""

from __future__ import annotations

from typing import Literal

import regex
from pydantic import Field

from rft_core import GradeError, Result, hookimpl
from rft_core.types import Item, Sample

from ._text import TextComparisonConfig, TextGrader, compile_pattern, search_with_timeout

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

    class Config(TextComparisonConfig):
        operation: Operation = Field(default="eq", description="The comparison to make.")

    config: Config

    def evaluate(self, sample: Sample, item: Item) -> Result:
        is_pattern = self.config.operation in ("regex", "fullmatch")
        text, reference = self.inputs.texts(sample, item, normalise_reference=not is_pattern)
        return Result(1.0 if self.check(text, reference) else 0.0)

    def check(self, text: str, reference: str) -> bool:
        operation = self.config.operation
        if operation == "eq":
            return text == reference
        if operation == "ne":
            return text != reference
        if operation == "like":
            return reference in text
        if operation == "ilike":
            return reference.casefold() in text.casefold()
        if operation == "startswith":
            return text.startswith(reference)
        if operation == "endswith":
            return text.endswith(reference)
        flags = regex.IGNORECASE if self.config.casefold else 0
        pattern = compile_pattern(reference, GradeError, flags)
        return search_with_timeout(pattern, text, self.config.regex_timeout, full=operation == "fullmatch")


@hookimpl
def register_graders(register):
    register(StringCheck)
