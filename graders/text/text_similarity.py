"""``text_similarity``: OpenAI's similarity grader, every one of its metrics."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from rft_core import (
    Grader, GraderConfig, Item, OpenAIMapping, Result, Sample, SpecPath, TemplateField, check_input, hookimpl,
)

from ._embedding import DEFAULT_ENCODER, CosineMetric, locate_encoder
from ._limits import MaxInputChars, MaxReferenceChars, check_reference, resolved_limits
from ._meteor import WORDNET_ENV, MeteorMetric
from ._overlap import OVERLAP_METRICS, missing_package, overlap_score
from .fuzzy_match import similarity

OpenAIMetric = Literal[
    "fuzzy_match", "bleu", "gleu", "meteor", "cosine", "rouge_1", "rouge_2", "rouge_3", "rouge_4", "rouge_5", "rouge_l"
]
NEEDS_PACKAGE = (*OVERLAP_METRICS, "meteor")


class TextSimilarity(Grader):
    """OpenAI's text_similarity: the similarity score of input to reference is the reward.

    ``fuzzy_match`` is rapidfuzz's ``fuzz.ratio`` (normalised Indel similarity) on
    the texts as rendered, in [0, 1]. ``pass_threshold`` does not change the
    reward; it sets ``metadata["passed"]`` and the pass rate in reports.
    ``bleu`` (sacrebleu sentence BLEU / 100), ``gleu`` (nltk sentence GLEU) and
    ``rouge_1`` … ``rouge_5``, ``rouge_l`` (rouge-score F-measure) and ``meteor`` (nltk
    meteor_score, with WordNet from a local folder: see graders/text/_meteor.py) need the ``text`` extra.
    ``cosine`` compares mean-pooled embeddings of a local ``embedding_model`` (the ``rm`` extra).

    >>> TextSimilarity(reference="{{ item.answer }}", evaluation_metric="fuzzy_match").grade("colour", {"answer": "color"}).reward
    0.9090909090909091
    """

    type = "text_similarity"
    openai = OpenAIMapping(
        type="text_similarity",
        fields=("name", "input", "reference", "evaluation_metric", "pass_threshold"),
        # where the meteor metric reads WordNet 3.0 (OpenAI's image has nltk's copy of the same database)
        operational=("wordnet_dir",),
        filled=("input", "evaluation_metric"),
    )

    class Config(GraderConfig):
        input: TemplateField = Field(default="{{ sample.output_text }}", description="Template for the text graded.")
        reference: TemplateField = Field(description="Template for the reference text.")
        evaluation_metric: OpenAIMetric = Field(
            default="fuzzy_match", description="Similarity metric, one of OpenAI's (docs/graders/text_similarity.md)."
        )
        pass_threshold: float | None = Field(
            default=None, description="A score at or above it counts as passing (reported, not applied to the reward)."
        )
        embedding_model: str = Field(
            default=DEFAULT_ENCODER,
            description="cosine metric: the encoder (a saved transformers model directory or a hub id) whose "
            "mean-pooled embeddings are compared; needs the rm extra.",
        )
        wordnet_dir: SpecPath | None = Field(
            default=None,
            description=f"meteor metric: a WordNet 3.0 dict folder (relative to the spec file's folder); default "
            f"${WORDNET_ENV}, else nltk's downloaded wordnet, else /usr/share/wordnet (Debian's wordnet-base).",
        )
        max_input_chars: MaxInputChars = None
        max_reference_chars: MaxReferenceChars = None

        @field_validator("evaluation_metric")
        @classmethod
        def _package_installed(cls, metric: str) -> str:
            if metric in NEEDS_PACKAGE and (package := missing_package(metric)):
                raise ValueError(
                    f"evaluation_metric {metric!r} needs the '{package}' package, which is not installed: "
                    "pip install 'rft-graders[text]'"
                )
            return metric

        @field_validator("embedding_model")
        @classmethod
        def _encoder_found(cls, model: str, info: ValidationInfo) -> str:
            """cosine: the encoder's directory (absolute) or hub id, found when the spec loads."""
            return locate_encoder(model, info) if info.data.get("evaluation_metric") == "cosine" else model

    config: Config

    def pass_threshold(self) -> float | None:
        return self.config.pass_threshold

    def __init__(self, config: GraderConfig | None = None, /, **fields) -> None:
        super().__init__(config, **fields)
        metric = self.config.evaluation_metric
        self.cosine = CosineMetric(self.config.embedding_model) if metric == "cosine" else None
        self.meteor = MeteorMetric(self.config.wordnet_dir) if metric == "meteor" else None
        self.max_input, self.max_reference = resolved_limits(self.config, self.type, metric)

    def evaluate_batch(self, samples: list[Sample], items: list[Item]) -> list[Result]:
        if self.cosine is not None:  # embed the whole batch at once
            return self.cosine.grade_batch(self, samples, items)
        return list(map(self.grade, samples, items))

    def texts(self, sample: Sample, item: Item) -> tuple[str, str]:
        """The rendered (input, reference), each checked against its size cap."""
        text = check_input(self.config.input.render(sample, item), self.max_input)
        return text, check_reference(self.config.reference.render(sample, item), self.max_reference)

    def evaluate(self, sample: Sample, item: Item) -> Result:
        text, reference = self.texts(sample, item)
        metric = self.config.evaluation_metric
        if metric in OVERLAP_METRICS:
            score = overlap_score(metric, text, reference)
        elif self.meteor is not None:
            score = self.meteor.score(text, reference)
        elif self.cosine is not None:
            score = self.cosine.score(text, reference, self.runtime)
        else:
            score = similarity("ratio", "none", text, reference)
        threshold = self.config.pass_threshold
        return Result(score, metadata={"passed": score >= threshold} if threshold is not None else {})


@hookimpl
def register_graders(register):
    register(TextSimilarity)
