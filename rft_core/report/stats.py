"""Statistics of reward distributions: mean, std, quantiles, histograms and Spearman's rank correlation.

Pure functions over sequences of floats (the standard library only, no numpy).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from operator import mul
from collections.abc import Sequence
from typing import Any

__all__ = ["QUANTILES", "describe", "histogram", "mean", "sample_std", "spearman"]

QUANTILES = (("min", 0.0), ("p10", 0.1), ("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p90", 0.9), ("max", 1.0))
"""The quantiles a report gives, by name."""


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean, ``None`` for no values."""
    return math.fsum(values) / len(values) if values else None


def sample_std(values: Sequence[float]) -> float | None:
    """The sample standard deviation (n - 1 denominator, as ``statistics.stdev`` and TRL's ``reward_std``);
    ``None`` for fewer than two values.
    """
    count = len(values)
    if count < 2:
        return None
    centre = math.fsum(values) / count
    deviations = [value - centre for value in values]
    return math.sqrt(math.fsum(map(mul, deviations, deviations)) / (count - 1))


def describe(values: Sequence[float]) -> dict[str, Any]:
    """mean, std and the QUANTILES of ``values``, each ``None`` when there are none.

    Quantiles interpolate linearly between the closest ranks (numpy's default,
    ``statistics.quantiles(method="inclusive")``).

    >>> describe([0.0, 1.0])["median"]
    0.5
    """
    ordered = sorted(values)
    stats: dict[str, Any] = {"mean": mean(ordered), "std": sample_std(ordered)}
    for name, share in QUANTILES:
        stats[name] = _quantile(ordered, share) if ordered else None
    return stats


def _quantile(ordered: Sequence[float], share: float) -> float:
    position = share * (len(ordered) - 1)
    low = int(position)
    fraction = position - low
    if not fraction:
        return ordered[low]
    return ordered[low] + (ordered[low + 1] - ordered[low]) * fraction


def histogram(values: Sequence[float], bins: int = 10) -> dict[str, Any]:
    """Counts of ``values`` in ``bins`` equal bins over [0, 1], or over [min, max] when a value
    lies outside [0, 1]. The last bin includes its upper edge.
    """
    ordered = sorted(values)
    low, high = 0.0, 1.0
    if ordered and (ordered[0] < 0.0 or ordered[-1] > 1.0):
        low, high = ordered[0], ordered[-1] if ordered[-1] > ordered[0] else ordered[0] + 1.0
    starts = [bisect_left(ordered, low + (high - low) * number / bins) for number in range(bins)] + [len(ordered)]
    return {"low": low, "high": high, "counts": [end - start for start, end in zip(starts, starts[1:])]}


def _average_ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks; tied values share the mean of the ranks they span."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rank correlation (the Pearson correlation of average ranks, ties averaged);
    ``None`` when it is undefined: fewer than two pairs, or one side constant.

    >>> spearman([1, 2, 3], [0.1, 0.5, 0.2])
    0.5
    """
    if len(xs) != len(ys):
        raise ValueError(f"spearman needs pairs: {len(xs)} values against {len(ys)}")
    if len(xs) < 2:
        return None
    x_ranks, y_ranks = _average_ranks(xs), _average_ranks(ys)
    x_mean = y_mean = (len(xs) + 1) / 2  # the mean of average ranks is always (n + 1) / 2
    covariance = math.fsum((x - x_mean) * (y - y_mean) for x, y in zip(x_ranks, y_ranks))
    x_spread = math.fsum((x - x_mean) ** 2 for x in x_ranks)
    y_spread = math.fsum((y - y_mean) ** 2 for y in y_ranks)
    if not x_spread or not y_spread:
        return None
    return covariance / math.sqrt(x_spread * y_spread)
