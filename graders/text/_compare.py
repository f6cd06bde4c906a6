"""What the text graders share: input/reference templates, normalisation and answer extraction."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import cached_property, partial

from pydantic import Field

from rft_core import (
    GradeError,
    Grader,
    GraderConfig,
    Item,
    RegexField,
    Result,
    Sample,
    Status,
    TemplateField,
    check_input,
    compile_pattern,
    finditer_with_timeout,
    shared,
)

from ._limits import MaxInputChars, MaxReferenceChars, check_reference, check_reference_length, resolved_limits

__all__ = ["TextComparisonConfig", "TextGrader", "TextInputs"]


class TextComparisonConfig(GraderConfig):
    """Config of a grader that compares the sample's text with a reference."""

    input: TemplateField = Field(
        default="{{ sample.output_text }}", description="Template for the text being graded."
    )
    reference: TemplateField = Field(description="Template for the text to compare against, e.g. {{ item.answer }}.")
    extract: RegexField | None = Field(
        default=None,
        description="Regex pulling the answer out of the input; the last match wins, its first group if it has one. "
        "No match gives status parse_error.",
    )
    strip: bool = Field(default=False, description="Trim whitespace at both ends of input and reference.")
    casefold: bool = Field(default=False, description="Compare case-insensitively (str.casefold).")
    nfkc: bool = Field(default=False, description="Unicode NFKC normalisation (full-width forms, ligatures).")
    collapse_whitespace: bool = Field(default=False, description="Turn every run of whitespace into one space.")
    regex_timeout: float = Field(default=1.0, gt=0, description="Seconds a regex may run before the grade times out.")
    max_input_chars: MaxInputChars = None
    max_reference_chars: MaxReferenceChars = None


class TextInputs:
    """The behaviour a TextComparisonConfig describes, prepared once per grader."""

    __slots__ = ("config", "steps", "pattern", "normalise_reference", "max_input", "max_reference")

    def __init__(
        self, config: TextComparisonConfig, normalise_reference: bool = True, limits: tuple[int, int] | None = None
    ) -> None:
        """``limits``: the (input, reference) caps; default the config's, else string_check's."""
        self.config = config
        self.normalise_reference = normalise_reference
        self.max_input, self.max_reference = limits or resolved_limits(config, "string_check")
        steps: list[Callable[[str], str]] = []
        if config.nfkc:
            steps.append(partial(unicodedata.normalize, "NFKC"))
        if config.casefold:
            steps.append(str.casefold)
        if config.collapse_whitespace:
            steps.append(_collapse_whitespace)
        elif config.strip:
            steps.append(str.strip)
        self.steps = tuple(steps)
        self.pattern = compile_pattern(config.extract, ValueError) if config.extract is not None else None

    def normalise(self, text: str) -> str:
        """Apply nfkc, casefold, then collapse_whitespace or strip, as configured."""
        for step in self.steps:
            text = step(text)
        return text

    def texts(self, sample: Sample, item: Item) -> tuple[str, str]:
        """The normalised (input, reference) pair, with the answer extracted when asked."""
        config = self.config
        text = self.checked_length(config.input.render(sample, item))
        if self.pattern is not None:
            text = self.extract_answer(text)
        reference = check_reference(config.reference.render(sample, item), self.max_reference)
        return self.normalise(text), self.normalise(reference) if self.normalise_reference else reference

    def texts_batch(self, samples: list[Sample], items: list[Item]) -> tuple[list[str], list[str]]:
        """``texts`` for a batch, normalising whole columns; raises if any row fails. Sibling graders
        with the same settings (in a composite's ``batch_memo``) prepare them once."""
        texts, references, longest_reference = shared(
            (samples, items), self.settings(), partial(self._texts_batch, samples, items)
        )
        check_reference_length(longest_reference, self.max_reference)
        return list(texts), list(references)  # copies: the shared lists stay as made

    def settings(self) -> tuple:
        """Everything ``texts_batch`` depends on besides the batch."""
        config = self.config
        return (
            TextInputs,
            config.input.text,
            config.reference.text,
            config.extract,
            config.strip,
            config.casefold,
            config.nfkc,
            config.collapse_whitespace,
            self.max_input,  # the reference cap is not here: siblings with other caps share the texts
            config.regex_timeout,
            self.normalise_reference,
        )

    def _texts_batch(self, samples: list[Sample], items: list[Item]) -> tuple[list[str], list[str], int]:
        """The texts, the references and the longest rendered reference's length."""
        config = self.config
        texts = config.input.render_batch(samples, items)
        if texts:
            self.checked_length(max(texts, key=len))
        if self.pattern is not None:
            texts = [self.extract_answer(text) for text in texts]
        references = config.reference.render_batch(samples, items)
        longest_reference = max(map(len, references), default=0)
        for step in self.steps:
            texts = list(map(step, texts))
            if self.normalise_reference:
                references = list(map(step, references))
        return texts, references, longest_reference

    def checked_length(self, text: str) -> str:
        """``text`` if it is within the input cap, else GradeError(parse_error)."""
        return check_input(text, self.max_input)

    def extract_answer(self, text: str) -> str:
        """The last match of ``extract`` (its first group if it has one); none is a parse_error."""
        assert self.pattern is not None
        last = None
        for last in finditer_with_timeout(self.pattern, text, self.config.regex_timeout):
            pass
        if last is None:
            raise GradeError(
                f"extract pattern '{self.pattern.pattern}' found no answer in the input",  # not repr: one backslash
                status=Status.PARSE_ERROR,
                code="sample_parse_error",
            )
        if self.pattern.groups:
            return last.group(1) or ""  # a group that took no part in the match captured nothing
        return last.group(0)


def _collapse_whitespace(text: str) -> str:
    return " ".join(text.split())


class TextGrader(Grader):
    """Base of graders that compare the input text with a reference: one pair to one reward.

    Subclasses implement ``compare(text, reference) -> Result`` (and may vectorise
    ``compare_batch``); grading one sample and the batch path both come from here.
    """

    config: TextComparisonConfig
    reference_is_pattern = False
    metric: str | None = None  # the comparison, for the default size caps (graders/text/_limits.py)

    @cached_property
    def inputs(self) -> TextInputs:
        limits = resolved_limits(self.config, self.type, self.metric)
        return TextInputs(self.config, normalise_reference=not self.reference_is_pattern, limits=limits)

    def compare(self, text: str, reference: str) -> Result:
        raise NotImplementedError

    def compare_batch(self, texts: list[str], references: list[str]) -> list[Result]:
        """``compare`` for whole columns, a pair's GradeError its own row's result; override when the
        comparison vectorises (an override whose pairs can fail calls this for them)."""
        return list(map(self._compare_one, texts, references))

    def evaluate(self, sample: Sample, item: Item) -> Result:
        return self.compare(*self.inputs.texts(sample, item))

    def evaluate_batch(self, samples: list[Sample], items: list[Item]) -> list[Result]:
        try:
            texts, references = self.inputs.texts_batch(samples, items)
        except Exception:  # noqa: BLE001 - a row whose template, extract or size check fails: that
            return list(map(self.grade, samples, items))  # batch row by row, each failure on its own row
        return self.compare_batch(texts, references)

    def _compare_one(self, text: str, reference: str) -> Result:
        try:
            return self.compare(text, reference)
        except GradeError as exc:
            return exc.result()

