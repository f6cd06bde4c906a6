"""How a pairwise judge's verdicts lean: the counts a grader reports in ``metadata["judge_bias"]``, summed.

A pairwise judge (``pairwise_model``) puts, per sample, counts of its verdicts there: ``pairs``
(comparisons, each asked in both orders), ``decided`` (verdicts that were not a tie),
``first_wins`` (of those, how many chose the first response shown), ``unequal_length`` (decided
verdicts between responses of different lengths), ``longer_wins`` (of those, how many chose the
longer) and ``flipped`` (pairs whose two orders named different winners). An unbiased judge
picks the first position about half the time, the longer response about as often as it is the
better one, and flips rarely.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

__all__ = ["BIAS_COUNTS", "JudgeBias"]

BIAS_COUNTS = ("pairs", "decided", "first_wins", "unequal_length", "longer_wins", "flipped")


class JudgeBias:
    """The sum of the ``judge_bias`` counts of one grader's results, and the rates they give."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def add(self, counts: Mapping[str, Any]) -> None:
        for name in BIAS_COUNTS:
            value = counts.get(name)
            if type(value) is int and value >= 0:
                self.counts[name] += value

    def to_dict(self) -> dict[str, Any]:
        """The counts, and ``first_position_win_rate``, ``longer_win_rate`` and ``order_flip_rate``
        (``None`` where nothing was counted)."""
        counts = self.counts

        def rate(part: str, whole: str) -> float | None:
            return counts[part] / counts[whole] if counts[whole] else None

        return {
            **{name: counts[name] for name in BIAS_COUNTS},
            "first_position_win_rate": rate("first_wins", "decided"),
            "longer_win_rate": rate("longer_wins", "unequal_length"),
            "order_flip_rate": rate("flipped", "pairs"),
        }
