"""``fuzzy_match``: rapidfuzz similarity between the sample and a reference, scaled to [0, 1]."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import Field
from rapidfuzz import fuzz, utils
from rapidfuzz.distance import JaroWinkler, Levenshtein

from rft_core import Result, hookimpl
from rft_core.types import Item, Sample

from ._text import TextComparisonConfig, TextGrader

Metric = Literal[
    "ratio", "partial_ratio", "token_sort_ratio", "token_set_ratio", "WRatio", "QRatio", "levenshtein", "jaro_winkler"
]

# Each scorer maps (a, b, processor) to a similarity in [0, 1].
SCORERS: dict[str, Callable[..., float]] = {
    "ratio": lambda a, b, processor: fuzz.ratio(a, b, processor=processor) / 100.0,
    "partial_ratio": lambda a, b, processor: fuzz.partial_ratio(a, b, processor=processor) / 100.0,
    "token_sort_ratio": lambda a, b, processor: fuzz.token_sort_ratio(a, b, processor=processor) / 100.0,
    "token_set_ratio": lambda a, b, processor: fuzz.token_set_ratio(a, b, processor=processor) / 100.0,
    "WRatio": lambda a, b, processor: fuzz.WRatio(a, b, processor=processor) / 100.0,
    "QRatio": lambda a, b, processor: fuzz.QRatio(a, b, processor=processor) / 100.0,
    "levenshtein": lambda a, b, processor: Levenshtein.normalized_similarity(a, b, processor=processor),
    "jaro_winkler": lambda a, b, processor: JaroWinkler.normalized_similarity(a, b, processor=processor),
}
PROCESSORS: dict[str, Callable[[str], str] | None] = {"default": utils.default_process, "none": None}


def similarity(metric: str, processor: str, text: str, reference: str) -> float:
    """The ``metric`` similarity of two strings in [0, 1] after the named processor."""
    return SCORERS[metric](text, reference, PROCESSORS[processor])


class FuzzyMatch(TextGrader):
    """Fuzzy similarity (rapidfuzz) of the sample to a reference, as a continuous or pass/fail reward.

    ``processor: default`` lower-cases and drops non-alphanumeric characters
    before comparing (rapidfuzz's ``default_process``); ``none`` compares as is.
    With ``pass_threshold`` the reward is 1.0 at or above it and 0.0 below;
    the similarity is kept in ``metadata["similarity"]`` either way.

    >>> FuzzyMatch(reference="{{ item.name }}", metric="token_sort_ratio").grade("Smith John", {"name": "John Smith"}).reward
    1.0
    """

    type = "fuzzy_match"

    class Config(TextComparisonConfig):
        metric: Metric = Field(default="ratio", description="The rapidfuzz scorer.")
        processor: Literal["default", "none"] = Field(
            default="default", description="Preprocessing: rapidfuzz's default_process, or none."
        )
        pass_threshold: float | None = Field(
            default=None, ge=0.0, le=1.0, description="If set, the reward is 1.0 at or above it and 0.0 below."
        )

    config: Config

    def evaluate(self, sample: Sample, item: Item) -> Result:
        text, reference = self.inputs.texts(sample, item)
        score = similarity(self.config.metric, self.config.processor, text, reference)
        threshold = self.config.pass_threshold
        if threshold is None:
            return Result(score)
        return Result(1.0 if score >= threshold else 0.0, metadata={"similarity": score})


@hookimpl
def register_graders(register):
    register(FuzzyMatch)
