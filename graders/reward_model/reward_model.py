"""``reward_model``: a learned reward model (a transformers sequence classifier) scores the sample."""

from __future__ import annotations

import json
import math
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from rft_core import (
    GradeError,
    Grader,
    GraderConfig,
    Item,
    Result,
    Sample,
    SpecPath,
    Status,
    TemplateField,
    hookimpl,
    read_named_file,
)

from ._model import NEEDED_FOR, RewardModel, load_reward_model
from rft_core.infra import DEVICES, DTYPES, locate_model

__all__ = ["RewardModelGrader"]


class RewardModelGrader(Grader):
    """A learned reward model (transformers sequence classifier, local or hub) scores prompt and completion.

    The prompt and completion are formatted with the tokenizer's chat template when it has one
    (else ``template``, or prompt + completion + EOS as TRL's RewardTrainer trains), tokenised,
    cut to ``max_length`` tokens (``metadata["truncated"]``) and scored in length-sorted batches.
    The raw score (``metadata["score"]``) becomes the reward through ``mapping``: ``sigmoid``,
    ``identity`` clamped to ``range``, or ``minmax`` calibrated on ``reference_set``. A model is
    loaded once per process and shared by every grader naming it with the same dtype and device.

    >>> grader = RewardModelGrader(model="path/to/reward-model")  # doctest: +SKIP
    >>> grader.grade("Paris.", {"prompt": "Capital of France?"}).reward  # doctest: +SKIP
    0.93
    """

    type = "reward_model"
    openai_hint = "OpenAI runs no local reward model: run it here, or judge with a score_model"
    retrainable_model = "model"

    class Config(GraderConfig):
        model: str = Field(
            description="The reward model: a directory saved with save_pretrained (relative to the spec file's "
            "folder), or a Hugging Face Hub id (downloaded or cached)."
        )
        prompt: TemplateField | None = Field(
            default="{{ item.prompt }}",
            description="Template for the prompt the completion answers: text, or a list of chat messages "
            "(e.g. TRL's conversational prompt). null scores the completion alone.",
        )
        completion: TemplateField = Field(
            default="{{ sample.output_text }}", description="Template for the completion that is scored."
        )
        use_chat_template: bool = Field(
            default=True,
            description="Format prompt and completion with the tokenizer's chat template when it has one.",
        )
        template: TemplateField | None = Field(
            default=None,
            description="The whole text the model reads when no chat template is used, e.g. "
            "'{{ item.prompt }}\\n{{ sample.output_text }}' (the EOS token is appended). "
            "Default: prompt + completion, as TRL's RewardTrainer joins them.",
        )
        max_length: int = Field(
            default=1024, gt=0, description="Most tokens the model reads; longer texts are cut (metadata truncated)."
        )
        batch_size: int = Field(default=16, gt=0, description="Texts per forward pass when grading a batch.")
        label_index: int = Field(
            default=0, description="Which output of the classification head is the score (0 for a reward model)."
        )
        dtype: Literal[DTYPES] = Field(  # type: ignore[valid-type]
            default="auto", description="Weights' dtype: auto (float32 on cpu, the checkpoint's on a GPU), "
            "float32, float16 or bfloat16."
        )
        device: str = Field(
            default="auto", description="cpu, cuda, cuda:N, mps, or auto (cuda if available, else mps, else cpu)."
        )
        mapping: Literal["sigmoid", "identity", "minmax"] = Field(
            default="sigmoid",
            description="From raw score to reward: sigmoid((score - offset) * scale); identity clamped to range; "
            "minmax: (score - min) / (max - min) over reference_set's scores, clamped to [0, 1].",
        )
        scale: float = Field(default=1.0, gt=0, description="sigmoid mapping: the slope.")
        offset: float = Field(default=0.0, description="sigmoid mapping: the raw score that maps to 0.5.")
        range: tuple[float, float] = Field(
            default=(0.0, 1.0), description="identity mapping: [low, high] the raw score is clamped to."
        )
        reference_set: SpecPath | list[str] | None = Field(
            default=None,
            description="minmax mapping: texts whose scores set min and max; a list, or a JSONL file (relative to "
            "the spec file's folder) of strings or objects with text, or with prompt and completion.",
        )

        @field_validator("model")
        @classmethod
        def _located(cls, model: str, info: ValidationInfo) -> str:
            return locate_model(model, "model", NEEDED_FOR, info)  # a directory's absolute path, or a hub id

        @field_validator("device")
        @classmethod
        def _known_device(cls, device: str) -> str:
            base, _, number = device.partition(":")
            if base not in DEVICES or (number and (base != "cuda" or not number.isdigit())):
                raise ValueError(f"device {device!r} is not one of auto, cpu, cuda, cuda:N, mps")
            return device

        @model_validator(mode="after")
        def _mapping_has_what_it_needs(self):
            low, high = self.range
            if low >= high:
                raise ValueError(f"range [{low}, {high}] must have low < high")
            if self.mapping == "minmax" and not self.reference_set:
                raise ValueError("mapping minmax needs reference_set: a JSONL file or a list of texts to calibrate on")
            return self

    config: Config
    transient = {"loaded": None}  # the model: a pickled grader (TRL, Ray) reloads it on first use, once per process

    def __init__(self, config: GraderConfig | None = None, /, **fields: Any) -> None:
        super().__init__(config, **fields)
        reference_set = self.config.reference_set
        self.reference_rows = _reference_rows(reference_set) if reference_set is not None else None

    @cached_property
    def loaded(self) -> RewardModel:
        return load_reward_model(self.config.model, self.runtime, self.config.dtype, self.config.device)

    @cached_property
    def bounds(self) -> tuple[float, float]:
        """min and max raw score over the reference set (minmax mapping)."""
        assert self.reference_rows is not None
        loaded = self.loaded
        texts, chat = [], []
        for row in self.reference_rows:
            if isinstance(row, str):
                texts.append(loaded.with_eos(row) if not (self.config.use_chat_template and loaded.has_chat_template) else row)
                chat.append(False)
            else:
                text, is_chat = loaded.text(row.get("prompt"), row["completion"], self.config.use_chat_template)
                texts.append(text)
                chat.append(is_chat)
        ids, _ = loaded.token_ids(texts, chat, self.config.max_length)
        scores = loaded.scores(ids, self.config.batch_size, self.config.label_index)
        low, high = min(scores), max(scores)
        if high - low <= 1e-12:
            raise GradeError(f"reference_set's {len(scores)} texts all score {low:g}: minmax cannot calibrate on them")
        return low, high

    def reward(self, score: float) -> float:
        config = self.config
        if config.mapping == "sigmoid":
            z = (score - config.offset) * config.scale
            return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
        if config.mapping == "identity":
            low, high = config.range
            return min(max(score, low), high)
        low, high = self.bounds
        return min(max((score - low) / (high - low), 0.0), 1.0)

    def render(self, sample: Sample, item: Item) -> tuple[str, bool]:
        config = self.config
        loaded = self.loaded
        completion = config.completion.render(sample, item)
        chat = config.use_chat_template and loaded.has_chat_template
        if not chat and config.template is not None:
            return loaded.with_eos(config.template.render(sample, item)), False
        prompt = config.prompt.resolve(sample, item) if config.prompt is not None else None
        if prompt is not None and not isinstance(prompt, (str, list)):
            prompt = json.dumps(prompt, ensure_ascii=False)
        return loaded.text(prompt, completion, config.use_chat_template)

    def evaluate(self, sample: Sample, item: Item) -> Result:
        return self.evaluate_batch([sample], [item])[0]

    def evaluate_batch(self, samples: list[Sample], items: list[Item]) -> list[Result]:
        results: list[Result | None] = [None] * len(samples)
        texts, chat, rows = [], [], []
        for index, (sample, item) in enumerate(zip(samples, items)):
            try:
                text, is_chat = self.render(sample, item)
            except Exception as exc:  # noqa: BLE001 - a bad row fails alone; the rest are still scored
                results[index] = self._failure(exc)
                continue
            texts.append(text)
            chat.append(is_chat)
            rows.append(index)
        if rows:
            loaded = self.loaded
            ids, truncated = loaded.token_ids(texts, chat, self.config.max_length)
            scores = loaded.scores(ids, self.config.batch_size, self.config.label_index)
            for index, score, cut, tokens in zip(rows, scores, truncated, ids):
                metadata = {"score": score, "tokens": len(tokens), "truncated": cut}
                if not tokens:
                    results[index] = Result.failure(
                        Status.PARSE_ERROR, "the text has no tokens to score", "sample_parse_error", tokens=0
                    )
                elif not math.isfinite(score):
                    results[index] = Result.failure(Status.ERROR, f"the model gave a score of {score}", **metadata)
                else:
                    results[index] = Result(self.reward(score), reason=f"score {score:.4g}", metadata=metadata)
        return results  # type: ignore[return-value]


def _reference_rows(value: Path | list[str]) -> list[Any]:
    if isinstance(value, list):
        return value
    text, where = read_named_file(value, "reference_set", None)  # a SpecPath: already absolute
    rows: list[Any] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where} line {number}: not JSON ({exc.msg})") from None
        if isinstance(row, dict) and isinstance(row.get("text"), str):
            row = row["text"]
        if not (isinstance(row, str) or (isinstance(row, dict) and isinstance(row.get("completion"), str))):
            raise ValueError(
                f"{where} line {number}: a row must be a string, or an object with text, or with prompt and completion"
            )
        rows.append(row)
    if not rows:
        raise ValueError(f"{where} has no rows to calibrate on")
    return rows


@hookimpl
def register_graders(register):
    register(RewardModelGrader)
