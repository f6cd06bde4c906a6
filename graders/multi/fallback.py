"""``fallback``: graders tried in order; the next one runs only where the previous could not decide.

The usual chain is a rule first, an LLM judge second: ``math`` grades what it can parse, and
only the outputs it cannot (``parse_error``: an answer in words, a proof) go to a ``score_model``.
A stage *decides* when its result meets ``until``: status ``ok`` by default, and optionally a
reward at or above ``reward_at_least`` or at or below ``reward_at_most`` (a confident verdict;
a score in between goes on). The last stage's result stands whatever it is.

The result is the deciding stage's (reward, status, reason); ``sub_rewards`` hold every stage
that ran, under its name, with its own status, metadata and cost, and ``metadata["decided_by"]``
names the stage. In a batch each stage grades, in one ``grade_batch``, only the samples the
stages before it left undecided: the judge is called for those alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator

from rft_core import Grader, GraderConfig, Item, Result, Sample, Status, SubGraders, hookimpl

__all__ = ["Fallback", "Until"]


class Until(BaseModel):
    """When a stage's result decides the sample."""

    model_config = ConfigDict(extra="forbid")

    status: Status = Field(default=Status.OK, description="The status a deciding result has (default ok).")
    reward_at_least: float | None = Field(
        default=None, description="With reward_at_most or alone: a reward at or above this decides."
    )
    reward_at_most: float | None = Field(
        default=None, description="With reward_at_least or alone: a reward at or below this decides."
    )

    def decides(self, result: Result) -> bool:
        if result.status is not self.status:
            return False
        low, high = self.reward_at_least, self.reward_at_most
        if low is None and high is None:
            return True
        return (low is not None and result.reward >= low) or (high is not None and result.reward <= high)


def _until(value: Any) -> Any:
    return {"status": value} if isinstance(value, str) else value


def _stages(value: Any) -> Any:
    """A list of stages becomes {name: stage}, in order; a stage's key is its name, else its type."""
    if not isinstance(value, list):
        return value
    stages: dict[str, Any] = {}
    for index, stage in enumerate(value):
        if isinstance(stage, Grader):
            key = getattr(stage, "name", None) or f"stage{index}"  # an unbuilt stage has no name
        elif isinstance(stage, Mapping):
            key = str(stage.get("name") or stage.get("type") or f"stage{index}")
        else:
            key = f"stage{index}"
        if key in stages:
            key = f"{key}_{index}"
        stages[key] = stage
    return stages


_STATUSES = [status.value for status in Status]
_UNTIL_SCHEMA = {
    "anyOf": [
        {"enum": _STATUSES},
        {
            "type": "object",
            "properties": {
                "status": {"enum": _STATUSES},
                "reward_at_least": {"type": ["number", "null"]},
                "reward_at_most": {"type": ["number", "null"]},
            },
            "additionalProperties": False,
        },
    ]
}

StageList = Annotated[
    SubGraders,
    BeforeValidator(_stages),
    WithJsonSchema({
        "oneOf": [
            {"type": "array", "items": {"$ref": "#/$defs/Grader"}, "minItems": 2},
            {"type": "object", "additionalProperties": {"$ref": "#/$defs/Grader"}},
        ]
    }),
]


class Fallback(Grader):
    """Graders tried in order: the next runs only where the previous did not decide (e.g. math, then a judge).

    >>> chain = Fallback(graders=[{"type": "string_check", "reference": "4"},
    ...                           {"type": "string_check", "operation": "ilike", "reference": "four"}],
    ...                  until={"status": "ok", "reward_at_least": 1})
    >>> chain.grade("Four").metadata["decided_by"], chain.grade("4").metadata["stages_run"]
    ('string_check_1', 1)
    """

    type = "fallback"
    blocking = True  # a stage may wait on a judge or a worker process: agrade runs the stages in a thread
    openai_hint = "OpenAI has no fallback grader: run it here, or pick the branch inside a python grader"

    class Config(GraderConfig):
        graders: StageList = Field(description="The stages, in order: a list of graders (or {name: grader}).")
        until: Annotated[Until, BeforeValidator(_until), WithJsonSchema(_UNTIL_SCHEMA)] = Field(
            default_factory=Until,
            description="When a stage decides: 'ok', or {status, reward_at_least, reward_at_most}.",
        )

        @field_validator("graders")
        @classmethod
        def _two_stages(cls, stages: dict[str, Grader]) -> dict[str, Grader]:
            if len(stages) < 2:
                raise ValueError(f"a fallback needs at least two graders, got {len(stages)}")
            return stages

    config: Config

    def __init__(self, config: Config | None = None, /, **fields: Any) -> None:
        super().__init__(config, **fields)
        self.stages: list[tuple[str, Grader]] = list(self.config.graders.items())
        self.until = self.config.until

    def evaluate(self, sample: Sample, item: Item) -> Result:
        ran: dict[str, Result] = {}
        for key, grader in self.stages:
            ran[key] = grader.grade(sample, item)
            if self._settled(key, ran[key]):
                break
        return self.finish(ran)

    def evaluate_batch(self, samples: list[Sample], items: list[Item]) -> list[Result]:
        """Stage by stage: each grades, as one batch, the samples still undecided."""
        ran: list[dict[str, Result]] = [{} for _ in samples]
        waiting = list(range(len(samples)))
        for key, grader in self.stages:
            if not waiting:
                break
            results = grader.grade_batch([samples[p] for p in waiting], [items[p] for p in waiting])
            undecided = []
            for position, result in zip(waiting, results):
                ran[position][key] = result
                if not self._settled(key, result):
                    undecided.append(position)
            waiting = undecided
        return list(map(self.finish, ran))

    def _settled(self, key: str, result: Result) -> bool:
        return key == self.stages[-1][0] or self.until.decides(result)

    def finish(self, ran: dict[str, Result]) -> Result:
        """The deciding (last run) stage's result, with every stage run as sub_rewards."""
        key = next(reversed(ran))
        final = ran[key]
        return Result(final.reward, final.status, final.reason, ran, {"decided_by": key, "stages_run": len(ran)})


@hookimpl
def register_graders(register):
    register(Fallback)
