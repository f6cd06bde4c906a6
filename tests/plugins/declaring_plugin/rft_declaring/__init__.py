"""rft-declaring: a third-party plugin written from docs/writing-a-plugin.md that takes part in
OpenAI export, TRL splitting, the pass rate and the report through declarations alone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from rft_core import (
    Grader, GraderConfig, OpenAIMapping, ReportMetric, Result, SubGraders, TemplateField, hookimpl,
)

__all__ = ["AnswerMatch", "WeightedSum", "register_graders"]


def answer_lengths(lengths: Sequence[Any], samples: int) -> dict[str, float | None]:
    """The mean answer length in characters, and the share of samples whose answer was empty."""
    counted = [length for length in lengths if type(length) is int]
    return {
        "mean": sum(counted) / len(counted) if counted else None,
        "empty": sum(length == 0 for length in counted) / samples if samples else None,
    }


class AnswerMatch(Grader):
    """Reward 1.0 when the answer equals the reference, else 0.0; its length goes to the report."""

    type = "answer_match"
    openai = OpenAIMapping(type="string_check", fields=("name", "input", "reference"), filled=("input",),
                           fixed={"operation": "eq"})
    report_metrics = (
        ReportMetric(name="answer_lengths", title="Answer lengths", key="answer_chars",
                     columns=(("mean", "mean chars"), ("empty", "empty")), compute=answer_lengths),
    )

    class Config(GraderConfig):
        input: TemplateField = Field(default="{{ sample.output_text }}", description="Template for the answer.")
        reference: TemplateField = Field(description="Template for the expected answer.")
        strip: bool = Field(default=False, description="Strip spaces around the answer first (OpenAI does not).")

    def evaluate(self, sample, item):
        answer = self.config.input.render(sample, item)
        if self.config.strip:
            answer = answer.strip()
        matched = answer == self.config.reference.render(sample, item)
        return Result(1.0 if matched else 0.0, metadata={"answer_chars": len(answer)})


class WeightedSum(Grader):
    """The weighted sum of named parts' rewards; a sample passes at pass_threshold."""

    type = "weighted_sum"
    openai_hint = "OpenAI has no weighted_sum: write a multi whose calculate_output is the sum"
    splits = True

    class Config(GraderConfig):
        parts: SubGraders = Field(description="The parts by key.")
        weights: dict[str, float] = Field(description="Weight of each part by key; a part not listed weighs 0.")
        pass_threshold: float = Field(default=0.5, description="The reward at or above which a sample passes.")

    def evaluate(self, sample, item):
        results = {key: part.grade(sample, item) for key, part in self.config.parts.items()}
        weights = self.component_weights()
        reward = sum(weights[key] * result.reward for key, result in results.items())
        return Result(reward, sub_rewards=results)

    def component_weights(self):
        return {key: self.config.weights.get(key, 0.0) for key in self.config.parts}

    def pass_threshold(self):
        return self.config.pass_threshold


@hookimpl
def register_graders(register):
    register(AnswerMatch)
    register(WeightedSum)
