"""Read an output file of ``rft score -o`` back into a Summary, for ``rft report``."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..kernel.errors import RftError
from ..run.rows import read_rows
from ..run.output import result_from_row
from .summary import Summary
from ..kernel.types import Status

__all__ = ["read_scores", "score_rows"]

_STATUSES = frozenset(status.value for status in Status)
_EXPECTED = "expected an output row of `rft score -o`"


def read_scores(path: str | Path, pass_threshold: float = 1.0) -> Summary:
    """A Summary of every row of the scores file at ``path`` (rows in the order ``rft score`` wrote them).

    Raises RftError naming the file and line of the first row that is not an output row.
    """
    summary = Summary(pass_threshold)
    for _, row in score_rows(path):
        summary.add(row["index"], result_from_row(row), row.get("id"))
    return summary


def score_rows(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """The line number and row of every output row of the scores file at ``path``, in order.

    Raises RftError naming the file and line of the first row that is not an output row.
    """
    for line, row in read_rows(path, "scores file", expected=_EXPECTED):
        problem = _problem(row)
        if problem:
            raise RftError(f"{path}: line {line}: {problem}; {_EXPECTED}")
        yield line, row


def _problem(row: Any, path: str = "") -> str | None:
    """What makes ``row`` (or the sub-result at the dotted grader ``path`` in it) not an output row, or None."""
    at = f"sub-grader {path!r}: " if path else ""
    if not isinstance(row, dict):
        return f"{at}not a JSON object"
    if not path and (type(row.get("index")) is not int or row["index"] < 0):
        return f"'index' must be a row number, not {row.get('index')!r}"
    reward = row.get("reward")
    if type(reward) not in (int, float) or not math.isfinite(reward):
        return f"{at}'reward' must be a finite number, not {reward!r}"
    if row.get("status") not in _STATUSES:
        return f"{at}'status' must be one of {', '.join(sorted(_STATUSES))}, not {row.get('status')!r}"
    sub_rewards = row.get("sub_rewards") or {}
    if not isinstance(sub_rewards, dict):
        return f"{at}'sub_rewards' must be an object"
    if not isinstance(row.get("metadata") or {}, dict):
        return f"{at}'metadata' must be an object"
    for name, sub in sub_rewards.items():
        problem = _problem(sub, f"{path}.{name}" if path else name)
        if problem:
            return problem
    return None
