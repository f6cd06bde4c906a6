"""``score_model`` and ``label_model``: LLM-as-judge graders over any OpenAI-compatible server.

Fields and meaning follow OpenAI's graders (``model``, ``input`` messages whose
``content`` is a template, ``range``, ``sampling_params``, ``pass_threshold``;
``labels``, ``passing_labels``). The judge is any Chat Completions server:
OpenAI, vLLM, llama.cpp, Ollama, LiteLLM (``base_url``, ``api_key``, or
``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``).

Fail closed: a reply with no verdict is status ``parse_error`` with reward 0,
never a pass. Requests are deterministic by default (temperature 0, a fixed
seed), bounded in flight, rate-limited, retried, timed out and cached on disk;
see ``_judge_client`` and ``_judge_cache``. Model output is data: it goes into
the prompt between ``<sample>`` tags, with those tags escaped inside it.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, field_validator, model_validator

from rft_core import OpenAIMapping, Result, Status, hookimpl

from ._base import JudgeBase
from ._config import JudgeConfig
from ._verdict import Verdict, label_verdict, score_verdict

__all__ = ["LabelModel", "ScoreModel"]


# OpenAI's judges lack these; they say how to reach the model, never what the verdict is: dropped on export
REACHING_THE_MODEL = (
    "api_key_env", "structured_output", "max_concurrency", "requests_per_minute", "tokens_per_minute", "timeout",
    "max_retries", "retry_backoff", "retry_backoff_max", "cache", "cache_dir", "cost_per_million_tokens",
)


class ScoreModel(JudgeBase):
    """LLM judge giving a numeric score in range (OpenAI's score_model); fails closed on unreadable replies.

    The reward is the judge's score, in ``range`` (OpenAI's semantics; default
    [0, 1]); a score outside ``range`` is clamped to it and flagged in
    ``metadata["clamped"]``. With ``pass_threshold`` the result's
    ``metadata["passed"]`` says whether the score reached it (and ``rft score``
    counts passes with it). No readable score: status ``parse_error``, reward 0.
    """

    type = "score_model"
    verdict_word = "score"
    openai = OpenAIMapping(
        type="score_model", fields=("name", "model", "input", "sampling_params", "range", "pass_threshold"),
        operational=REACHING_THE_MODEL,
    )

    class Config(JudgeConfig):
        range: tuple[float, float] = Field(default=(0.0, 1.0), description="[lowest, highest] score; the reward is in it.")
        pass_threshold: float | None = Field(
            default=None, description="A score at or above this passes (metadata passed, rft score's pass rate)."
        )

        @model_validator(mode="after")
        def _range_in_order(self):
            low, high = self.range
            if not low < high:
                raise ValueError(f"range must be [lowest, highest] with lowest < highest, got [{low:g}, {high:g}]")
            if self.pass_threshold is not None and not low <= self.pass_threshold <= high:
                raise ValueError(f"pass_threshold {self.pass_threshold:g} is outside range [{low:g}, {high:g}]")
            return self

    config: Config

    def pass_threshold(self) -> float | None:
        return self.config.pass_threshold

    def result_description(self) -> str:
        low, high = self.config.range
        return f"<a number from {low:g} to {high:g}>"

    def result_schema(self) -> dict[str, Any]:
        return {"type": "number"}

    def read_verdict(self, content: str | None) -> Verdict | None:
        return score_verdict(content)

    def reward(self, verdict: Verdict, metadata: dict[str, Any]) -> Result:
        low, high = self.config.range
        score = float(verdict.value)
        reason = f"score {score:g} in [{low:g}, {high:g}]"
        if not low <= score <= high:
            metadata["clamped"] = True
            metadata["raw_score"] = score
            score = min(max(score, low), high)
            reason = f"score {metadata['raw_score']:g} clamped to {score:g}, range [{low:g}, {high:g}]"
        metadata["score"] = score
        threshold = self.config.pass_threshold
        if threshold is not None:
            metadata["passed"] = score >= threshold
            reason += f"; {'passed' if metadata['passed'] else 'failed'} pass_threshold {threshold:g}"
        return Result(score, Status.OK, reason, {}, metadata)


class LabelModel(JudgeBase):
    """LLM judge picking one of labels; reward 1.0 for a passing label, else 0.0 (OpenAI's label_model).

    The judge is asked for one of ``labels`` (an enum in the structured output);
    a label in ``passing_labels`` gives reward 1.0, any other label 0.0. A reply
    naming no label, or a label not in ``labels``: status ``parse_error``, reward 0.
    """

    type = "label_model"
    verdict_word = "label"
    openai = OpenAIMapping(
        type="label_model", fields=("name", "model", "input", "labels", "passing_labels"),
        operational=REACHING_THE_MODEL, root=False,
    )

    class Config(JudgeConfig):
        labels: list[str] = Field(min_length=2, description="The labels the judge chooses from.")
        passing_labels: list[str] = Field(min_length=1, description="Labels that give reward 1.0; a subset of labels.")

        @field_validator("labels")
        @classmethod
        def _labels_distinct(cls, labels: list[str]) -> list[str]:
            if any(not label.strip() for label in labels):
                raise ValueError("labels must not be empty strings")
            folded = [label.strip().casefold() for label in labels]
            duplicates = sorted({label for label in labels if folded.count(label.strip().casefold()) > 1})
            if duplicates:
                raise ValueError(f"labels repeat (ignoring case): {duplicates}")
            return labels

        @model_validator(mode="after")
        def _passing_are_labels(self):
            unknown = [label for label in self.passing_labels if label not in self.labels]
            if unknown:
                raise ValueError(f"passing_labels {unknown} are not in labels {self.labels}")
            return self

    config: Config

    def result_description(self) -> str:
        return "<exactly one of " + ", ".join(json.dumps(label) for label in self.config.labels) + ">"

    def result_schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.config.labels)}

    def read_verdict(self, content: str | None) -> Verdict | None:
        return label_verdict(content, self.config.labels)

    def reward(self, verdict: Verdict, metadata: dict[str, Any]) -> Result:
        label = verdict.value
        passed = label in self.config.passing_labels
        metadata["label"] = label
        metadata["passed"] = passed
        return Result(1.0 if passed else 0.0, Status.OK, f"label {label!r} ({'passing' if passed else 'not passing'})",
                      {}, metadata)


@hookimpl
def register_graders(register):
    register(ScoreModel)
    register(LabelModel)
