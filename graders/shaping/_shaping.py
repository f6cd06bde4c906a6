"""What the shaping graders (format, length, repetition) share: the text they read, its size cap,
pass/fail check results, and the declared range of a penalty."""

from __future__ import annotations

from pydantic import Field

from rft_core import Grader, GraderConfig, Item, Sample, SharedResult, TemplateField, check_input

__all__ = ["FAILED", "PASSED", "PenaltyConfig", "ShapingConfig", "ShapingGrader", "penalty_ramp"]

PASSED, FAILED = SharedResult(1.0), SharedResult(0.0)  # one check's outcome: made once, read-only


class ShapingConfig(GraderConfig):
    """Config of a grader that reads one text of the sample and judges its form."""

    input: TemplateField = Field(default="{{ sample.output_text }}", description="Template for the text being graded.")
    max_input_chars: int = Field(
        default=1_000_000, gt=0, description="Longer inputs get status parse_error instead of being graded."
    )


class PenaltyConfig(ShapingConfig):
    """Config of a grader whose reward is a penalty: 0 when nothing is wrong, down to ``-factor``."""

    factor: float = Field(default=1.0, gt=0, description="The largest penalty: the reward goes down to -factor.")

    @property
    def range(self) -> tuple[float, float]:
        """The rewards this grader gives (``rft audit`` reads a grader's declared range)."""
        return (-self.factor, 0.0)


class ShapingGrader(Grader):
    """Base of the shaping graders: ``text`` and ``texts`` render the input and enforce its cap."""

    config: ShapingConfig

    def text(self, sample: Sample, item: Item) -> str:
        return self.checked(self.config.input.render(sample, item))

    def texts(self, samples: list[Sample], items: list[Item]) -> list[str]:
        """The input of every sample; raises (TemplateError, parse_error) if any row fails, so the
        batch is graded one by one and the failure lands on its own row."""
        texts = self.config.input.render_batch(samples, items)
        if texts:
            self.checked(max(texts, key=len))
        return texts

    def checked(self, text: str) -> str:
        return check_input(text, self.config.max_input_chars)


def penalty_ramp(excess: float, span: float, factor: float) -> float:
    """``-factor * excess / span`` clipped to [-factor, 0]: no penalty at or below 0 excess, the
    full penalty from ``span`` on (DAPO's soft overlong punishment is this with span = the buffer)."""
    if excess <= 0:
        return 0.0
    if excess >= span:
        return -factor
    return -factor * excess / span
