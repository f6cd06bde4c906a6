"""Metrics over k samples of each item: pass@k, maj@k and mean@k.

- pass@k: the chance that at least one of k samples drawn from an item's n passes, by the
  unbiased estimator ``1 - C(n - c, k) / C(n, k)`` (c of the n samples pass), averaged over items.
- maj@k: the chance that the most common answer among k samples drawn from an item's n is a
  passing one, averaged over items: exact over every k-subset when there are at most
  ``MAX_SUBSETS``, else over that many subsets drawn with a fixed seed. The answer is what a
  grader declares it extracted: ``metadata["extracted"]`` (``EXTRACTED``), compared as text
  after trimming spaces; a sample without one does not vote, and a tie goes to the answer that
  comes first in the data.
- mean@k: the expected mean reward of k samples, which is the mean of all n whatever k is:
  reported once, for the largest k.

k runs over the powers of two below the fewest samples any item has, and that number itself,
so every item counts for every k. Estimates over subsets, not the first k samples: samples
listed in some order (the right answer first, say) would bias a first-k figure.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Sequence
from typing import Any, NamedTuple

__all__ = [
    "EXTRACTED",
    "MAX_SUBSETS",
    "Draw",
    "k_sample_metrics",
    "k_values",
    "maj_at_k",
    "majority_solved",
    "pass_at_k",
]

EXTRACTED = "extracted"
"""The metadata key a grader puts the answer it extracted under (a string), for maj@k."""

MAX_SUBSETS = 100
"""maj@k of an item is exact up to this many k-subsets, else estimated from this many."""


class Draw(NamedTuple):
    """One sample of an item as the majority vote sees it."""

    passed: bool
    reward: float
    answer: str | None


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimate for an item with ``n`` samples of which ``c`` pass.

    >>> pass_at_k(4, 1, 2)
    0.5
    """
    if not 0 <= c <= n or not 0 < k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 0 < k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def k_values(fewest: int) -> list[int]:
    """1, 2, 4, ... below ``fewest``, then ``fewest``.

    >>> k_values(5)
    [1, 2, 4, 5]
    """
    values = []
    k = 1
    while k < fewest:
        values.append(k)
        k *= 2
    return [*values, fewest] if fewest >= 1 else []


def majority_solved(draws: Sequence[Draw]) -> bool:
    """Whether the most common answer among ``draws`` (first seen wins a tie) is a passing one."""
    votes = Counter(draw.answer.strip() for draw in draws if draw.answer is not None)
    if not votes:
        return False
    chosen = votes.most_common(1)[0][0]
    return next(draw.passed for draw in draws if draw.answer is not None and draw.answer.strip() == chosen)


def maj_at_k(draws: Sequence[Draw], k: int, seed: int = 0) -> float:
    """The share of k-subsets of ``draws`` (all, or ``MAX_SUBSETS`` drawn with ``seed``) whose
    majority answer passes.

    >>> maj_at_k([Draw(True, 1.0, "4"), Draw(False, 0.0, "5"), Draw(True, 1.0, "4")], 2)
    0.6666666666666666
    """
    n = len(draws)
    if math.comb(n, k) <= MAX_SUBSETS:
        subsets: Any = itertools.combinations(range(n), k)
    else:
        generator = random.Random(seed)
        subsets = (sorted(generator.sample(range(n), k)) for _ in range(MAX_SUBSETS))
    outcomes = [majority_solved([draws[position] for position in subset]) for subset in subsets]
    return sum(outcomes) / len(outcomes)


def k_sample_metrics(
    sizes: Sequence[int], passes: Sequence[int], mean_rewards: Sequence[float],
    votes: Sequence[Sequence[Draw]] | None = None,
) -> dict[str, Any] | None:
    """pass@k, mean@k and, with ``votes``, maj@k over items: item i has ``sizes[i]`` samples, of which
    ``passes[i]`` pass, with mean reward ``mean_rewards[i]``; ``votes[i]`` its samples for the vote
    (None when no sample of any item has an answer). None when no item has two samples.

    >>> k_sample_metrics([2, 2], [1, 0], [0.5, 0.0])["pass@k"]
    {'1': 0.25, '2': 0.5}
    """
    if not sizes or max(sizes) < 2:
        return None
    count = len(sizes)
    ks = k_values(min(sizes))
    pairs = Counter(zip(sizes, passes))  # items share a few (n, c) pairs: each estimate is computed once
    metrics: dict[str, Any] = {
        "items": count,
        "samples_per_item": {"min": min(sizes), "max": max(sizes)},
        "pass@k": {str(k): math.fsum(number * pass_at_k(n, c, k) for (n, c), number in pairs.items()) / count
                   for k in ks},
        "mean@k": {str(ks[-1]): math.fsum(mean_rewards) / count},
    }
    if votes is not None:
        metrics["maj@k"] = {
            str(k): math.fsum(maj_at_k(draws, k, seed) for seed, draws in enumerate(votes)) / count for k in ks
        }
        answered = sum(draw.answer is not None for draws in votes for draw in draws)
        metrics["answered"] = answered / sum(sizes)
    return metrics
