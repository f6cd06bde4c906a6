"""``length``: length penalties for shaping: DAPO's soft overlong punishment, a target band, or
group-relative (the longest correct answers of a group lose a little)."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import Field, model_validator

from rft_core import Item, MissingDependencyError, Result, Sample, SharedResult, SpecPath, Status, SubGraders, hookimpl

from ._shaping import PenaltyConfig, ShapingGrader, penalty_ramp

NO_PENALTY = SharedResult(0.0)  # most samples: made once, read-only
NOT_APPLICABLE = "no other sample of this item in the batch to compare lengths with"


def _tokenizer_directory(path: Path | None) -> str | None:
    if path is None:
        return None
    if importlib.util.find_spec("transformers") is None:
        raise MissingDependencyError("transformers", "rm", "the length grader's unit: tokens")
    if not path.is_dir():
        raise ValueError(
            f"tokenizer {str(path)!r}: no such directory; give the directory of a saved tokenizer "
            "(tokenizer.save_pretrained(DIR); relative paths start from the spec file's folder)"
        )
    return str(path.resolve())


class Length(ShapingGrader):
    """A length penalty in [-factor, 0]: DAPO's soft overlong punishment, a target band, or group-relative.

    Add it to a correctness reward (a ``multi`` with weights, or a separate TRL reward function):
    0 means no penalty. Length is counted in ``tokens`` (a local tokenizer), ``words`` or
    ``characters``. Truncated outputs (``finish_reason: length`` in the sample's choices or the
    item's ``truncated_field``) are graded as the rest (``keep``), get the full penalty (``zero``:
    with factor equal to the correctness weight they earn nothing), or DAPO's ramp (``soft``).

    >>> Length(unit="words", max_length=10, buffer=4).grade("one two three four five six seven eight").reward
    -0.5
    """

    type = "length"
    openai_hint = "OpenAI has no length grader: run it here, or compute the penalty in a python grader"

    class Config(PenaltyConfig):
        mode: Literal["overlong", "band", "group"] = Field(
            default="overlong",
            description="overlong: DAPO's soft punishment near max_length; band: outside [min_length, max_length]; "
            "group: the longer correct samples of an item lose up to factor.",
        )
        unit: Literal["tokens", "words", "characters"] = Field(
            default="tokens", description="What is counted; tokens needs tokenizer."
        )
        tokenizer: SpecPath | None = Field(
            default=None, description="Directory of a saved transformers tokenizer (unit: tokens); never downloaded."
        )
        max_length: int | None = Field(
            default=None, gt=0, description="overlong: the length at which the full penalty applies; band: upper edge."
        )
        min_length: int | None = Field(default=None, ge=0, description="band: lower edge of the target length.")
        buffer: int | None = Field(
            default=None,
            gt=0,
            description="overlong: the penalty ramps from 0 at max_length - buffer to -factor at max_length; "
            "band: the distance outside the band over which it ramps to -factor.",
        )
        correct: SubGraders = Field(
            default={},
            description="group: graders deciding which samples are correct (all at or above correct_threshold); "
            "empty: every sample counts.",
        )
        correct_threshold: float = Field(default=1.0, description="group: the reward a correct grader must reach.")
        group_by: list[str] | None = Field(
            default=None,
            description="group: item fields that identify a group (e.g. [prompt]); default: the whole item "
            "but truncated_field.",
        )
        on_truncated: Literal["keep", "zero", "soft"] = Field(
            default="keep",
            description="Truncated outputs: keep (graded as the rest), zero (full penalty), soft (DAPO's ramp).",
        )
        truncated_field: str | None = Field(
            default="finish_reason",
            description="Item field marking a truncated output (value 'length' or true); null: only the sample's choices.",
        )

        @model_validator(mode="after")
        def _consistent(self):
            _tokenizer_directory(self.tokenizer)
            if self.unit == "tokens" and self.tokenizer is None:
                raise ValueError("unit tokens needs tokenizer: the directory of a saved tokenizer (or unit: words)")
            if self.mode == "overlong" or self.on_truncated == "soft":
                why = "mode overlong" if self.mode == "overlong" else "on_truncated soft"
                if self.max_length is None or self.buffer is None:
                    raise ValueError(f"{why} needs max_length and buffer (DAPO: 20480 and 4096 tokens)")
                if self.buffer > self.max_length:
                    raise ValueError(f"buffer {self.buffer} is larger than max_length {self.max_length}")
            if self.mode == "band":
                if self.buffer is None or (self.min_length is None and self.max_length is None):
                    raise ValueError("mode band needs buffer and min_length, max_length or both")
                if None not in (self.min_length, self.max_length) and self.min_length > self.max_length:
                    raise ValueError(f"min_length {self.min_length} is above max_length {self.max_length}")
            if self.correct and self.mode != "group":
                raise ValueError("correct applies to mode group only")
            return self

    config: Config

    # --- lengths -----------------------------------------------------------------------------

    @cached_property
    def tokenizer(self) -> Any:
        from transformers import AutoTokenizer  # the rm extra; checked when the spec loaded

        path = _tokenizer_directory(self.config.tokenizer)
        return self.runtime.shared(("tokenizer", path), lambda: AutoTokenizer.from_pretrained(path, local_files_only=True))

    def lengths(self, texts: list[str]) -> list[int]:
        unit = self.config.unit
        if unit == "characters":
            return list(map(len, texts))
        if unit == "words":
            return [len(text.split()) for text in texts]
        return list(map(len, self.tokenizer(texts, add_special_tokens=False)["input_ids"]))

    def truncated(self, sample: Sample, item: Item) -> bool:
        """Whether the output was cut off: a choice or the item's ``truncated_field`` says ``length``."""
        field = self.config.truncated_field
        if field is not None and item.get(field) in ("length", True):
            return True
        return any(isinstance(choice, Mapping) and choice.get("finish_reason") == "length" for choice in sample.choices)

    # --- penalties -----------------------------------------------------------------------------

    def overlong(self, length: int) -> float:
        """DAPO's soft overlong punishment: 0 up to max_length - buffer, then a linear ramp to -factor."""
        config = self.config
        return penalty_ramp(length - (config.max_length - config.buffer), config.buffer, config.factor)

    def band(self, length: int) -> float:
        config = self.config
        below = config.min_length - length if config.min_length is not None else 0
        above = length - config.max_length if config.max_length is not None else 0
        return penalty_ramp(max(below, above), config.buffer, config.factor)

    def evaluate(self, sample: Sample, item: Item) -> Result:
        return self.evaluate_batch([sample], [item])[0]

    def evaluate_batch(self, samples: list[Sample], items: list[Item]) -> list[Result]:
        config = self.config
        lengths = self.lengths(self.texts(samples, items))
        cut = list(map(self.truncated, samples, items))
        if config.mode == "group":
            return self.group_results(samples, items, lengths, cut)
        rule = self.overlong if config.mode == "overlong" else self.band
        return list(map(self.result, lengths, cut, map(rule, lengths)))

    def result(self, length: int, truncated: bool, penalty: float, sub_rewards: Mapping[str, Result] = {}) -> Result:
        """The penalty of one sample, after the truncation rule."""
        if not (penalty or truncated or sub_rewards):
            return NO_PENALTY
        if truncated and self.config.on_truncated == "zero":
            penalty, why = -self.config.factor, "truncated output: full penalty (on_truncated: zero)"
        elif truncated and self.config.on_truncated == "soft":
            penalty = self.overlong(length)
            why = f"truncated output at {length:,} {self.config.unit}: DAPO's overlong ramp (on_truncated: soft)"
        else:
            why = f"{length:,} {self.config.unit}" if penalty else None
        return Result(penalty, Status.OK, why, dict(sub_rewards), {"length": length, "truncated": truncated})

    def group_results(self, samples: list[Sample], items: list[Item], lengths: list[int], cut: list[bool]) -> list[Result]:
        """Per group of samples of one item: the correct ones lose factor * (length - shortest) / (longest - shortest)."""
        checks = {key: grader.grade_batch(samples, items) for key, grader in self.config.correct.items()}
        threshold = self.config.correct_threshold
        correct = [
            all(column[row].ok and column[row].reward >= threshold for column in checks.values())
            for row in range(len(samples))
        ]
        groups: dict[bytes, list[int]] = {}
        for row, item in enumerate(items):
            groups.setdefault(self.group_key(item), []).append(row)
        results: list[Result] = [None] * len(samples)  # type: ignore[list-item]  # every row is filled below
        for rows in groups.values():
            ranked = {row for row in rows if correct[row] and not cut[row]}
            shortest = min((lengths[row] for row in ranked), default=0)
            spread = max((lengths[row] for row in ranked), default=0) - shortest
            for row in rows:
                subs = {key: column[row] for key, column in checks.items()}
                if len(rows) == 1:
                    results[row] = Result(0.0, Status.NOT_APPLICABLE, NOT_APPLICABLE, subs, {"length": lengths[row]})
                    continue
                penalty = penalty_ramp(lengths[row] - shortest, spread, self.config.factor) if row in ranked else 0.0
                results[row] = self.result(lengths[row], cut[row], penalty, subs)
        return results

    def group_key(self, item: Item) -> bytes:
        """The identity of an item's group: its group_by fields, else the whole item but truncated_field."""
        fields = self.config.group_by
        if fields is None:
            value: Any = {key: value for key, value in item.items() if key != self.config.truncated_field}
        else:
            value = [item.get(field) for field in fields]
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=repr)


@hookimpl
def register_graders(register):
    register(Length)
