"""Size caps on what the text metrics compare, so that no input makes one grade run for minutes.

Each grader and metric has its defaults (``DEFAULT_LIMITS``, documented in
docs/graders/index.md): long texts for the comparisons linear in their size, shorter ones where
the time grows with the product of the two sizes (rapidfuzz's ratios are bit-parallel in the
shorter text, ``partial_ratio`` and ``WRatio`` much steeper, ROUGE-L's longest common
subsequence and METEOR's alignment quadratic in Python). Over a cap is a status, never a truncated
comparison (a truncated text could pass where the whole would fail): an input over
``max_input_chars`` is the sample's ``parse_error``; a reference over ``max_reference_chars`` is
an ``error`` (the dataset or the spec is at fault).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from rft_core import GradeError

__all__ = [
    "MaxInputChars",
    "MaxReferenceChars",
    "check_reference",
    "check_reference_length",
    "default_limits",
    "resolved_limits",
]

# (grader type, metric) -> (max_input_chars, max_reference_chars) when the spec sets neither;
# metric None is the grader's row for every metric not listed
DEFAULT_LIMITS: dict[tuple[str, str | None], tuple[int, int]] = {
    ("string_check", None): (1_000_000, 1_000_000),
    ("fuzzy_match", None): (1_000_000, 10_000),
    ("fuzzy_match", "partial_ratio"): (1_000_000, 1_000),
    ("fuzzy_match", "WRatio"): (1_000_000, 1_000),
    ("text_similarity", None): (100_000, 100_000),
    ("text_similarity", "rouge_l"): (20_000, 5_000),
    ("text_similarity", "meteor"): (20_000, 5_000),
}


MaxInputChars = Annotated[
    int | None,
    Field(
        gt=0,
        description="Inputs longer than this get status parse_error instead of being graded; "
        "default: the metric's (docs/graders/index.md#size-limits).",
    ),
]
"""The config field ``max_input_chars: MaxInputChars = None`` of a grader comparing texts."""

MaxReferenceChars = Annotated[
    int | None,
    Field(
        gt=0,
        description="References longer than this get status error instead of being compared; "
        "default: the metric's (docs/graders/index.md#size-limits).",
    ),
]
"""The config field ``max_reference_chars: MaxReferenceChars = None`` of a grader comparing texts."""


def default_limits(grader: str, metric: str | None = None) -> tuple[int, int]:
    """The (input, reference) caps of ``grader`` comparing with ``metric`` when the spec sets none."""
    return DEFAULT_LIMITS.get((grader, metric)) or DEFAULT_LIMITS[grader, None]


def resolved_limits(config: Any, grader: str, metric: str | None = None) -> tuple[int, int]:
    """The caps a grader applies: its config's ``max_input_chars`` and ``max_reference_chars``,
    else the defaults for its metric."""
    default_input, default_reference = default_limits(grader, metric)
    return config.max_input_chars or default_input, config.max_reference_chars or default_reference


def check_reference(reference: str, limit: int) -> str:
    """``reference`` when it is at most ``limit`` characters, else GradeError(error)."""
    check_reference_length(len(reference), limit)
    return reference


def check_reference_length(length: int, limit: int) -> None:
    """GradeError(error) when a reference of ``length`` characters is over ``limit``."""
    if length > limit:
        raise GradeError(
            f"reference has {length:,} characters, over max_reference_chars={limit:,}; "
            "raise max_reference_chars in the spec to compare it"
        )
