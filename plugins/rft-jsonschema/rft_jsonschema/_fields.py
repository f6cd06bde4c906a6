"""Field-by-field comparison: JSON paths into the output and how a value matches its reference."""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rft_core import GradeError, Result, TemplateField

from ._json import json_key, preview, to_text

__all__ = ["MISSING", "PATH_EXAMPLES", "FieldCheck", "lookup", "parse_path"]

MISSING = object()
"""What ``lookup`` returns when the path is not in the document."""

_STEP = re.compile(r'(?P<dot>\.)?(?P<name>[^.\[\]]+)|\[(?P<index>\d+)\]|\["(?P<key>[^"]*)"\]')
PATH_EXAMPLES = 'name, address.city, items[0].id, ["key.with.dots"]'


def parse_path(path: str) -> tuple[str | int, ...]:
    """The steps of a path such as ``items[0].id``; raise ValueError if it does not read."""
    steps: list[str | int] = []
    position = 0
    while position < len(path):
        found = _STEP.match(path, position)
        if found is None or (found["name"] is not None and (found["dot"] is None) != (position == 0)):
            raise ValueError(f"field path {path!r} does not read at {path[position:]!r}")
        if found["index"] is not None:
            steps.append(int(found["index"]))
        else:
            steps.append(found["name"] if found["name"] is not None else found["key"])
        position = found.end()
    if not steps:
        raise ValueError("a field path cannot be empty")
    return tuple(steps)


def lookup(document: Any, steps: tuple[str | int, ...]) -> Any:
    """The value at ``steps`` in the document, or MISSING."""
    value = document
    for step in steps:
        if isinstance(step, int) and isinstance(value, list) and step < len(value):
            value = value[step]
        elif isinstance(step, str) and isinstance(value, dict) and step in value:
            value = value[step]
        else:
            return MISSING
    return value


class FieldCheck(BaseModel):
    """How one output field is compared with its reference. A bare string is the reference."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    reference: TemplateField = Field(description="Template for the expected value, e.g. {{ item.city }}.")
    weight: float = Field(default=1.0, ge=0, allow_inf_nan=False, description="The field's share of the reward.")
    match: Literal["exact", "casefold", "number"] = Field(
        default="exact",
        description="exact: equal JSON values (a string reference is compared with the value's JSON text); "
        "casefold: equal text ignoring case and surrounding whitespace; number: numbers within tolerance.",
    )
    tolerance: float = Field(
        default=0.0,
        ge=0,
        allow_inf_nan=False,
        description="Largest absolute difference that still matches (match: number).",
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"reference": value} if isinstance(value, str) else value

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        # editors (rft schema) accept the shorthand too
        shorthand = {"type": "string", "description": "Shorthand for {reference: ...} with the defaults."}
        return {"anyOf": [shorthand, handler(core_schema)]}

    @model_validator(mode="after")
    def _tolerance_needs_number(self) -> FieldCheck:
        if self.tolerance and self.match != "number":
            raise ValueError(f"tolerance applies only to match: number (this field has match: {self.match})")
        return self

    def grade(self, value: Any, reference: Any) -> Result:
        """1.0 when the output value matches the reference, else 0.0 with what was found."""
        if value is MISSING:
            return Result(0.0, reason="missing in the output")
        if self.matches(value, reference):
            return Result(1.0)
        return Result(0.0, reason=f"got {preview(value)}, expected {preview(reference)}")

    def matches(self, value: Any, reference: Any) -> bool:
        if self.match == "number":
            expected = _number(reference)
            if expected is None:
                raise GradeError(f"reference {preview(reference)} of a match: number field is not a number")
            got = _number(value)
            return got is not None and abs(got - expected) <= self.tolerance
        if self.match == "casefold":
            return to_text(value).strip().casefold() == to_text(reference).strip().casefold()
        if isinstance(reference, str) and not isinstance(value, str):
            return to_text(value) == reference
        return json_key(value) == json_key(reference)


def _number(value: Any) -> float | None:
    """A finite float from a JSON number or numeric string; None for anything else (booleans too)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None
