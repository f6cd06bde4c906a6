"""``fuzzy_match``: rapidfuzz similarity between the sample and a reference, scaled to [0, 1]."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import Field
from rapidfuzz import fuzz, utils
from rapidfuzz.distance import JaroWinkler, Levenshtein

from rft_core import Result, hookimpl

from ._compare import TextComparisonConfig, TextGrader

Metric = Literal[
    "ratio", "partial_ratio", "token_sort_ratio", "token_set_ratio", "WRatio", "QRatio", "levenshtein", "jaro_winkler"
]

# metric -> (rapidfuzz scorer, the scale its result is divided by to land in [0, 1])
SCORERS: dict[str, tuple[Callable[..., float], float]] = {
    "ratio": (fuzz.ratio, 100.0),
    "partial_ratio": (fuzz.partial_ratio, 100.0),
    "token_sort_ratio": (fuzz.token_sort_ratio, 100.0),
    "token_set_ratio": (fuzz.token_set_ratio, 100.0),
    "WRatio": (fuzz.WRatio, 100.0),
    "QRatio": (fuzz.QRatio, 100.0),
    "levenshtein": (Levenshtein.normalized_similarity, 1.0),
    "jaro_winkler": (JaroWinkler.normalized_similarity, 1.0),
}
PROCESSORS: dict[str, Callable[[str], str] | None] = {"default": utils.default_process, "none": None}


def similarity(metric: str, processor: str, text: str, reference: str) -> float:
    """The ``metric`` similarity of two strings in [0, 1] after the named processor."""
    scorer, scale = SCORERS[metric]
    return scorer(text, reference, processor=PROCESSORS[processor]) / scale


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
    openai_hint = "the nearest OpenAI grader is text_similarity with evaluation_metric fuzzy_match"

    class Config(TextComparisonConfig):
        metric: Metric = Field(default="ratio", description="The rapidfuzz scorer.")
        processor: Literal["default", "none"] = Field(
            default="default", description="Preprocessing: rapidfuzz's default_process, or none."
        )
        pass_threshold: float | None = Field(
            default=None, ge=0.0, le=1.0, description="If set, the reward is 1.0 at or above it and 0.0 below."
        )

    config: Config

    @property
    def metric(self) -> str:
        return self.config.metric

    def pass_threshold(self) -> float | None:
        return self.config.pass_threshold

    def compare(self, text: str, reference: str) -> Result:
        return self.reward(similarity(self.config.metric, self.config.processor, text, reference))

    def compare_batch(self, texts: list[str], references: list[str]) -> list[Result]:
        scorer, scale = SCORERS[self.config.metric]
        processor = PROCESSORS[self.config.processor]
        scores = [scorer(text, reference, processor=processor) / scale for text, reference in zip(texts, references)]
        if self.config.pass_threshold is None:
            return list(map(Result, scores))
        return list(map(self.reward, scores))

    def reward(self, score: float) -> Result:
        threshold = self.config.pass_threshold
        if threshold is None:
            return Result(score)
        return Result(1.0 if score >= threshold else 0.0, metadata={"similarity": score})


@hookimpl
def register_graders(register):
    register(FuzzyMatch)
