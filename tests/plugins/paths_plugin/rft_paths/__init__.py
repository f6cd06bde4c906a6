"""rft-paths: a third-party plugin whose grader names a file in its config (``rft_core.SpecPath``)."""

from __future__ import annotations

from pydantic import Field

from rft_core import Grader, GraderConfig, Result, SpecPath, hookimpl

__all__ = ["FileAnswer", "register_graders"]


class FileAnswer(Grader):
    """Reward 1.0 when the output is the answer written in a file (read each time it grades)."""

    type = "file_answer"

    class Config(GraderConfig):
        answer_file: SpecPath = Field(description="A text file holding the answer; relative to the spec's folder.")

    def evaluate(self, sample, item):
        return Result(float(sample.output_text.strip() == self.config.answer_file.read_text().strip()))


@hookimpl
def register_graders(register):
    register(FileAnswer)
