"""``repetition``: a penalty on repeated word n-grams, lines or sentences (loops, copy-paste padding)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Literal

import regex
from pydantic import Field

from rft_core import Item, Result, Sample, SharedResult, Status, hookimpl

from ._shaping import PenaltyConfig, ShapingGrader, penalty_ramp

SENTENCE_END = regex.compile(r"(?<=[.!?])\s+|\n+")


class Repetition(ShapingGrader):
    """A penalty in [-factor, 0] on the share of repeated word n-grams, lines or sentences.

    The share is the fraction of units (n-grams, non-blank lines, sentences) that repeat an
    earlier one (lines and sentences compared without surrounding whitespace, sentences without
    their end mark). Up to ``threshold`` it costs nothing; from there the penalty grows linearly to
    ``-factor`` when every unit is a repeat. Only the last ``max_units`` words (or lines,
    sentences) are read, where a degenerate loop shows, so the cost is capped.

    >>> Repetition(n=2).grade("the end the end the end the end").reward < -0.5
    True
    """

    type = "repetition"
    openai_hint = "OpenAI has no repetition grader: run it here, or compute the penalty in a python grader"

    class Config(PenaltyConfig):
        unit: Literal["ngram", "line", "sentence"] = Field(
            default="ngram", description="What repeats: word n-grams, non-blank lines, or sentences."
        )
        n: int = Field(default=4, ge=1, le=32, description="ngram: words per n-gram.")
        threshold: float = Field(
            default=0.1, ge=0, lt=1, description="The share of repeated units allowed without penalty."
        )
        max_units: int = Field(
            default=20_000, gt=0, description="Only the last max_units words (lines, sentences) are read."
        )

    config: Config

    def share(self, text: str) -> float:
        """The fraction of units that repeat an earlier one (0 with fewer than one unit)."""
        return self.shares([text])[0]

    def shares(self, texts: list[str]) -> list[float]:
        """``share`` of every text (n-grams of a batch counted at once with numpy when it is installed)."""
        config = self.config
        if config.unit != "ngram":
            return [_unit_share(text, config.unit, config.max_units) for text in texts]
        if len(texts) >= VECTOR_BATCH and (counter := _vector_shares()) is not None:
            shares = counter(texts, config.n, config.max_units)
            if shares is not None:  # None: two different n-grams shared a hash; counted one by one below
                return shares
        keep, starts = config.max_units, [slice(start, None) for start in range(config.n)]
        return [_ngram_share(text.split()[-keep:], starts) for text in texts]

    def judge(self, share: float) -> Result:
        penalty, reason = self.verdict(share)
        return Result(penalty, Status.OK, reason, {}, {"repeated": share})

    def verdict(self, share: float) -> tuple[float, str | None]:
        """The penalty for a share of repeats, and why (None when there is no penalty)."""
        config = self.config
        penalty = penalty_ramp(share - config.threshold, 1.0 - config.threshold, config.factor)
        return penalty, f"{share:.0%} of {config.unit}s repeat an earlier one" if penalty else None

    def evaluate(self, sample: Sample, item: Item) -> Result:
        return self.judge(self.share(self.text(sample, item)))

    def evaluate_batch(self, samples: list[Sample], items: list[Item]) -> list[Result]:
        """``evaluate`` of every sample; the samples with the same share get one read-only result."""
        shares = self.shares(self.texts(samples, items))
        shared = {}
        for share in set(shares):
            penalty, reason = self.verdict(share)
            shared[share] = SharedResult(penalty, Status.OK, reason, {"repeated": share})
        return list(map(shared.__getitem__, shares))


VECTOR_BATCH = 16
"""From this many texts on, n-grams are counted with numpy (below it, its fixed cost is more than it saves)."""


@cache
def _vector_shares() -> Callable[[list[str], int, int], list[float] | None] | None:
    """``ngram_shares`` of the numpy path, or None without numpy (pure Python then)."""
    try:
        from .ngram_counts import ngram_shares
    except ImportError:
        return None
    return ngram_shares


def _ngram_share(words: list[str], starts: list[slice]) -> float:
    """The fraction of the word n-grams (one per slice in ``starts``) that repeat an earlier one."""
    total = len(words) - len(starts) + 1
    if total <= 0:
        return 0.0
    return 1.0 - len(set(zip(*map(words.__getitem__, starts)))) / total


def _unit_share(text: str, unit: str, keep: int) -> float:
    """The fraction of the text's non-blank lines or sentences that repeat an earlier one."""
    pieces = text.splitlines() if unit == "line" else SENTENCE_END.split(text)
    ending = ".!? \t\r\f\v" if unit == "sentence" else None  # 'Sure.' repeats 'Sure!'
    units = [piece.strip().rstrip(ending) for piece in pieces[-keep:]]
    units = [unit for unit in units if unit]
    return 1.0 - len(set(units)) / len(units) if units else 0.0


@hookimpl
def register_graders(register):
    register(Repetition)
