"""``rubric_model``: an LLM judge that checks a sample against a list of weighted criteria.

Each criterion is a yes/no question ("Cites at least one source", weight 2; a pitfall such as
"Recommends a dosage" with a negative weight). The judge is asked one call per criterion
(``mode: per_criterion``, concurrent, each cached on its own) or about all of them in one
structured call (``mode: single_call``). The reward is the weighted share met: the weights of the
positive criteria met, minus those of the pitfalls met, over the sum of positive weights, within
[0, 1]. A ``required`` criterion gates: a required criterion not met (a required pitfall met)
gives reward 0. Each criterion's verdict is a sub-reward (1 when met).

Fail closed: a criterion the judge could not answer (parse_error, timeout, error) makes the
whole result take that status with reward 0 (``on_criterion_failure: fail``), since the missing
criterion might have been the one that failed; with ``skip`` the reward is the share over the
criteria that were judged, unless a required one is missing.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rft_core import GradeError, Item, Result, Sample, Status, TemplateField, hookimpl

from ._base import JudgeBase, Reading, verdict_format, with_user_text
from ._config import JudgeConfig
from ._verdict import Verdict, json_verdict, label_verdict

__all__ = ["Criterion", "RubricModel", "SpecCriterion", "by_name"]

YES, NO = "yes", "no"
FAILED = (Status.ERROR, Status.TIMEOUT, Status.PARSE_ERROR)  # most severe first


class Criterion(BaseModel):
    """One yes/no question about the sample (an item's own, from ``criteria_from``: literal text)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    text: str = Field(min_length=1, description="The criterion, e.g. 'Cites a source'.")
    weight: float = Field(
        default=1.0, description="Its share of the reward when met; negative for a pitfall (met = the mistake is made)."
    )
    required: bool = Field(
        default=False, description="Gate: not met (a pitfall: met) gives reward 0 whatever the others say."
    )
    name: str | None = Field(default=None, description="Its sub-reward key; default c1, c2, ... by position.")

    @field_validator("weight")
    @classmethod
    def _weight_not_zero(cls, weight: float) -> float:
        if weight == 0:
            raise ValueError("weight must not be 0 (leave the criterion out instead)")
        return weight


class SpecCriterion(Criterion):
    """A criterion written in the spec: its text is a template."""

    text: TemplateField = Field(description="The criterion, e.g. 'Names the capital of {{ item.country }}'.")


def by_name(criteria: list[Criterion]) -> dict[str, Criterion]:
    """The criteria keyed by name (``c1``, ``c2``, ... by position when unnamed), checked: at least one
    positive weight, no repeated name. Raises ValueError otherwise."""
    named = {}
    for position, criterion in enumerate(criteria, start=1):
        name = criterion.name or f"c{position}"
        if name in named:
            raise ValueError(f"criterion names repeat: [{name!r}]")
        named[name] = criterion
    if not any(criterion.weight > 0 for criterion in criteria):
        raise ValueError("at least one criterion needs a positive weight (the reward is the share of those met)")
    return named


class RubricModel(JudgeBase):
    """LLM judge checking weighted yes/no criteria; reward = the weighted share met, required ones gate.

    >>> list(RubricModel(model="m", input=[{"role": "user", "content": "{{ sample.output_text }}"}],
    ...                  criteria=[{"text": "Is polite"}, {"text": "Is rude", "weight": -1}]).criteria_of({}))
    ['c1', 'c2']
    """

    type = "rubric_model"
    openai_hint = "OpenAI has no rubric judge: run it here, or write the rubric into a score_model's prompt"
    verdict_word = "answer for every criterion"

    class Config(JudgeConfig):
        criteria: list[SpecCriterion] | None = Field(
            default=None, min_length=1, description="The criteria: [{text, weight, required, name}]."
        )
        criteria_from: str | None = Field(
            default=None, min_length=1,
            description="Instead of criteria: the item field holding each item's own criteria "
            "(a list of {text, weight, required, name}, or of strings).",
        )
        mode: Literal["per_criterion", "single_call"] = Field(
            default="per_criterion",
            description="per_criterion: one call per criterion (concurrent); single_call: one structured call for all.",
        )
        on_criterion_failure: Literal["fail", "skip"] = Field(
            default="fail",
            description="fail: a criterion the judge could not answer fails the sample (reward 0); "
            "skip: the reward is the share over the criteria judged (a missing required one still fails).",
        )

        @field_validator("criteria")
        @classmethod
        def _criteria_make_sense(cls, criteria: list[SpecCriterion] | None) -> list[SpecCriterion] | None:
            if criteria is not None:
                by_name(criteria)
            return criteria

        @model_validator(mode="after")
        def _one_source(self):
            if (self.criteria is None) == (self.criteria_from is None):
                raise ValueError("give criteria (in the spec) or criteria_from (an item field), not both or neither")
            return self

    config: Config

    def __init__(self, config: Config | None = None, /, **fields: Any) -> None:
        super().__init__(config, **fields)
        self._static = by_name(self.config.criteria) if self.config.criteria is not None else None
        self._one = Reading(
            "yes or no", lambda text: label_verdict(text, [YES, NO], mentions=False), _met,
            verdict_format("rubric_criterion_verdict", {"type": "string", "enum": [YES, NO]}),
        )
        self._one_instructions = self.instructions_text('<"yes" or "no">')

    def criteria_of(self, item: Item) -> dict[str, Criterion]:
        """The criteria for an item, by name: the spec's, or the item's own (``criteria_from``)."""
        if self._static is not None:
            return self._static
        field = self.config.criteria_from
        value = item.get(field) if field else None
        if not isinstance(value, list) or not value:
            raise GradeError(
                f"item field {field!r} (criteria_from) must be a non-empty list of criteria, "
                f"not {type(value).__name__ if field in item else 'missing'}",
                code="invalid_variable_error",
            )
        where = f"item field {field!r} (criteria_from)"
        criteria = []
        for index, entry in enumerate(value):
            try:
                criteria.append(Criterion.model_validate({"text": entry} if isinstance(entry, str) else entry))
            except ValidationError as exc:
                error = exc.errors()[0]
                path = "".join(f".{step}" for step in error["loc"])
                raise GradeError(f"{where}[{index}]{path}: {error['msg']}", code="invalid_variable_error") from None
        try:
            return by_name(criteria)
        except ValueError as exc:
            raise GradeError(f"{where}: {exc}", code="invalid_variable_error") from None

    # --- the single call's verdict: {"c1": "yes", "c2": "no", ...} ------------------------

    def _spec_names(self) -> list[str]:
        return list(by_name(self.config.criteria)) if self.config.criteria is not None else []

    def result_description(self) -> str:
        return _all_description(self._spec_names())

    def result_schema(self) -> dict[str, Any]:
        return _all_schema(self._spec_names())

    def read_verdict(self, content: str | None) -> Verdict | None:
        return _read_all(self._spec_names(), content)

    def reward(self, verdict: Verdict, metadata: dict[str, Any]) -> Result:
        raise AssertionError("rubric_model reads its verdicts with the Readings of _judge_one")

    # --- grading ---------------------------------------------------------------------------

    async def _judge_one(self, sample: Sample, item: Item) -> Result:
        criteria = self.criteria_of(item)
        texts = {name: self._criterion_text(criterion, sample, item) for name, criterion in criteria.items()}
        if self.config.mode == "single_call":
            names = list(criteria)
            listing = "\n".join(f"{name}: {text}" for name, text in texts.items())
            messages = self.render_messages(sample, item, instructions=self.instructions_text(_all_description(names)),
                                            appended=[
                "Criteria (answer each with yes or no; a criterion describing a mistake is met when the "
                f"response makes it):\n{listing}"
            ])
            reading = Reading(
                self.verdict_word, partial(_read_all, names),
                lambda verdict, metadata: self.combine(
                    {name: _outcome(verdict.value[name], {}) for name in names}, metadata, criteria),
                verdict_format("rubric_model_verdict", _all_schema(names)),
            )
            return await self.ask(messages, reading)
        base = self.render_messages(sample, item, instructions=self._one_instructions)
        calls = [
            self.ask(with_user_text(base, (
                f"Criterion: {text}\nIs this criterion met by the response? "
                "A criterion describing a mistake is met when the response makes it."
            )), self._one)
            for text in texts.values()
        ]
        return self.combine(dict(zip(criteria, await asyncio.gather(*calls))), {}, criteria)

    def _criterion_text(self, criterion: Criterion, sample: Sample, item: Item) -> str:
        text = criterion.text
        return text if isinstance(text, str) else text.render_marked(sample, item, self.delimit)

    def combine(self, outcomes: dict[str, Result], metadata: dict[str, Any], criteria: dict[str, Criterion]) -> Result:
        """The rubric's result from each criterion's (met: reward 1, else 0; or a failed call)."""
        outcomes = {
            name: outcome.replace(metadata={**outcome.metadata, "weight": criteria[name].weight})
            if "met" in outcome.metadata else outcome
            for name, outcome in outcomes.items()
        }
        failed = [name for name, outcome in outcomes.items() if outcome.status in FAILED]
        judged = [name for name in outcomes if name not in failed]
        if failed:
            what = "; ".join(f"{name}: {outcomes[name].status.value}: {outcomes[name].reason}" for name in failed)
            required = [name for name in failed if criteria[name].required]
            if self.config.on_criterion_failure == "fail" or required or not any(
                criteria[name].weight > 0 for name in judged
            ):
                worst = next(status for status in FAILED if any(outcomes[name].status is status for name in failed))
                why = (
                    f"required criterion {', '.join(required)} could not be judged" if required
                    else "on_criterion_failure: fail" if self.config.on_criterion_failure == "fail"
                    else "no positive criterion was judged"
                )
                return Result(0.0, worst, f"{len(failed)} of {len(outcomes)} criteria could not be judged ({what}); "
                              f"reward 0 ({why})", outcomes, {**metadata, "unjudged": failed})
            metadata = {**metadata, "unjudged": failed}
        met = {name: outcomes[name].reward == 1.0 for name in judged}
        gates = [name for name in judged if criteria[name].required and met[name] != (criteria[name].weight > 0)]
        positive = sum(criteria[name].weight for name in judged if criteria[name].weight > 0)
        earned = sum(criteria[name].weight for name in judged if met[name])
        reward = min(max(earned / positive, 0.0), 1.0)
        reason = f"met {sum(met.values())} of {len(judged)} criteria ({', '.join(n for n in judged if met[n]) or 'none'})"
        if failed:
            reason += f"; not judged (left out, on_criterion_failure: skip): {', '.join(failed)}"
        if gates:
            reward = 0.0
            broken = ", ".join(f"{name} ({'not met' if criteria[name].weight > 0 else 'pitfall met'})" for name in gates)
            reason = f"required criteria not satisfied: {broken}: reward 0; {reason}"
        return Result(reward, Status.OK, reason, outcomes, metadata)


def _all_description(names: list[str]) -> str:
    return "{" + ", ".join(f'"{name}": <"yes" or "no">' for name in names) + "}"


def _all_schema(names: list[str]) -> dict[str, Any]:
    answer = {"type": "string", "enum": [YES, NO]}
    return {"type": "object", "properties": dict.fromkeys(names, answer), "required": list(names),
            "additionalProperties": False}


def _read_all(names: list[str], content: str | None) -> Verdict | None:
    """Every criterion's yes/no, or None: a missing or unreadable answer leaves no verdict."""
    verdict = json_verdict(content)
    if verdict is None or not isinstance(verdict.value, dict):
        return None
    answers = {}
    for name in names:
        answer = _yes_no(verdict.value.get(name))
        if answer is None:
            return None
        answers[name] = answer
    return Verdict(answers, verdict.structured, verdict.steps)


def _yes_no(value: Any) -> str | None:
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, str) and value.strip().casefold() in (YES, NO):
        return value.strip().casefold()
    return None


def _outcome(answer: str, metadata: dict[str, Any]) -> Result:
    met = answer == YES
    return Result(1.0 if met else 0.0, Status.OK, "met" if met else "not met", {}, {**metadata, "met": met})


def _met(verdict: Verdict, metadata: dict[str, Any]) -> Result:
    return _outcome(verdict.value, metadata)


@hookimpl
def register_graders(register):
    register(RubricModel)

