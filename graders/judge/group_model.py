"""``group_model``: one LLM judge call scores or ranks all k samples of the same item together.

GRPO-style training only needs rewards that order an item's samples; a judge that sees them
side by side orders them more consistently than k separate calls (ART's RULER). The samples
of one item form a group: in ``rft score``, a row's ``completions`` (the runner never splits
a row's samples across batches); in TRL, the completions of one prompt in a batch. Samples
group by their item (every field, or the fields named in ``group_by``).

``mode: score``: the judge gives each response a score in ``range`` (the reward, as
score_model's). ``mode: rank``: the judge orders the responses best first; the reward is
``(k - rank) / (k - 1)``: 1 for the best, 0 for the worst.

A group of one sample (``rft run``, a lone row, a group cut by the trainer's batching down to
one) cannot be judged this way: status ``error`` with code ``group_unavailable`` and advice.
A reply that does not score or rank every response fails the whole group closed (parse_error).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from rft_core import GradeError, Item, Result, Sample, Status, hookimpl

from ._base import JudgeBase, Reading
from ._config import JudgeConfig, Message
from ._verdict import Verdict, json_verdict

__all__ = ["GroupModel"]

MIN_GROUP = 2


class GroupModel(JudgeBase):
    """LLM judge scoring or ranking all samples of one item in one call; reward from each one's score or rank.

    >>> GroupModel(model="m", input=[{"role": "user", "content": "Task: {{ item.prompt }}"}]).config.mode
    'score'
    """

    type = "group_model"
    openai_hint = "OpenAI has no judge that compares a group of samples: run it here, or grade each sample with a score_model"
    verdict_word = "score or rank for every response"

    class Config(JudgeConfig):
        mode: Literal["score", "rank"] = Field(
            default="score", description="score: a score in range per response; rank: the responses ordered best first."
        )
        range: tuple[float, float] = Field(default=(0.0, 1.0), description="[lowest, highest] score (mode score).")
        group_by: list[str] | None = Field(
            default=None, description="Item fields whose values make a group (default: the whole item)."
        )
        max_group_size: int = Field(
            default=32, ge=MIN_GROUP, le=1024, description="A larger group gets status error without a request."
        )

        @field_validator("input")
        @classmethod
        def _input_reads_no_sample(cls, messages: list[Message]) -> list[Message]:
            for position, message in enumerate(messages):
                reads = [name for name in message.content.variables if name.split(".")[0].split("[")[0] == "sample"]
                if reads:
                    raise ValueError(
                        f"input[{position}] reads {reads}: group_model appends the group's responses itself; "
                        "its input describes the item (e.g. 'Task: {{ item.prompt }}')"
                    )
            return messages

        @model_validator(mode="after")
        def _range_in_order(self):
            low, high = self.range
            if not low < high:
                raise ValueError(f"range must be [lowest, highest] with lowest < highest, got [{low:g}, {high:g}]")
            return self

    config: Config

    def result_description(self) -> str:
        if self.config.mode == "rank":
            return "<the response numbers, best first, each exactly once>"
        low, high = self.config.range
        return f"<a list with one number from {low:g} to {high:g} per response, in order>"

    def result_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "integer" if self.config.mode == "rank" else "number"}}

    def read_verdict(self, content: str | None) -> Verdict | None:
        """The list of numbers in a reply, or None (whatever the group's size: see ``group_reading``)."""
        verdict = json_verdict(content)
        if verdict is None or not isinstance(verdict.value, list):
            return None
        values = verdict.value
        if not all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values):
            return None
        return Verdict([float(value) for value in values], verdict.structured, verdict.steps)

    def reward(self, verdict: Verdict, metadata: dict[str, Any]) -> Result:
        return Result(0.0, Status.OK, None, {}, {**metadata, "rewards": verdict.value})

    def group_reading(self, size: int) -> Reading:
        """The reading for a group of ``size``: a reply without one score per response (or a ranking of
        1..size) has no verdict, so it fails closed and is not cached."""
        def read(content: str | None) -> Verdict | None:
            verdict = self.read_verdict(content)
            if verdict is None:
                return None
            rewards = (_rank_rewards if self.config.mode == "rank" else _score_rewards)(verdict.value, size, self.config)
            return None if rewards is None else Verdict(rewards, verdict.structured, verdict.steps)

        return Reading(f"{self.verdict_word} ({size})", read, self.reward, self._reading.response_format)

    # --- grading ---------------------------------------------------------------------------

    async def _judge_one(self, sample: Sample, item: Item) -> Result:
        raise _unavailable(1)

    async def evaluate_batch(self, samples: list[Sample], items: list[Item]) -> list[Result]:
        """Each group of samples (by ``group_key``) judged in one call, the groups concurrently."""
        groups: dict[str, list[int]] = {}
        for position, item in enumerate(items):
            groups.setdefault(self.group_key(item), []).append(position)
        results: list[Result | None] = [None] * len(samples)
        judged = await asyncio.gather(*(
            self._judge_group([samples[p] for p in positions], items[positions[0]]) for positions in groups.values()
        ))
        for positions, group_results in zip(groups.values(), judged):
            for position, result in zip(positions, group_results):
                results[position] = result
        return results  # type: ignore[return-value]

    def group_key(self, item: Item) -> str:
        """What samples of one group share: the item, or its ``group_by`` fields, as canonical JSON."""
        fields = self.config.group_by
        chosen = dict(item) if fields is None else {name: item.get(name) for name in fields}
        return json.dumps(chosen, sort_keys=True, ensure_ascii=False, default=repr)

    async def _judge_group(self, samples: list[Sample], item: Item) -> list[Result]:
        size = len(samples)
        try:
            if size < MIN_GROUP:
                raise _unavailable(size)
            if size > self.config.max_group_size:
                raise GradeError(f"the group has {size} samples, over max_group_size={self.config.max_group_size}",
                                 code="group_too_large")
            texts = [sample.output_text for sample in samples]
            listing = "\n\n".join(f"Response {number}:\n{self.delimit(text)}" for number, text in enumerate(texts, 1))
            ask = ("Rank the responses from best to worst." if self.config.mode == "rank"
                   else "Score each response on its own merits; compare them to keep the scores consistent.")
            messages = self.render_messages(
                samples[0], item, sample_chars=sum(map(len, texts)),
                appended=[f"{size} responses to the same task:\n\n{listing}\n\n{ask}"],
            )
            verdict = await self.ask(messages, self.group_reading(size))
        except Exception as exc:  # noqa: BLE001 - every sample of the group gets the failure
            return [self._failure(exc) for _ in samples]
        if not verdict.ok:
            return [verdict] * len(samples)  # one immutable Result stands for the group's samples
        return self.split(verdict, size)

    def split(self, verdict: Result, size: int) -> list[Result]:
        """Each sample's Result from the group's verdict; usage and cost go on the first only."""
        metadata = dict(verdict.metadata)
        rewards = metadata.pop("rewards")
        return [
            Result(reward, Status.OK, detail, {}, {**metadata, "group_size": size, "position": position},
                   usage=verdict.usage if position == 1 else None)
            for position, (reward, detail) in enumerate(rewards, start=1)
        ]


def _rank_rewards(values: list[float], size: int, config: Any) -> list[tuple[float, str]] | None:
    if sorted(values) != [float(number) for number in range(1, size + 1)]:
        return None
    ranks = {int(number): place for place, number in enumerate(values, start=1)}
    return [((size - ranks[number]) / (size - 1), f"rank {ranks[number]} of {size}") for number in range(1, size + 1)]


def _score_rewards(values: list[float], size: int, config: Any) -> list[tuple[float, str]] | None:
    if len(values) != size:
        return None
    low, high = config.range
    return [(min(max(value, low), high), f"score {value:g} in [{low:g}, {high:g}] among {size}") for value in values]


def _unavailable(size: int) -> GradeError:
    return GradeError(
        f"group_model judges the samples of an item together, and this item has {size} here: give several "
        "samples per item (rft score: a row with a `completions` list; TRL: num_generations > 1 with whole "
        "groups in a batch); `rft run` grades one sample and cannot use it",
        code="group_unavailable",
    )


@hookimpl
def register_graders(register):
    register(GroupModel)
