"""``pairwise_model``: an LLM judge comparing the sample with a reference answer, in both orders.

The judge sees two responses, A and B, and answers "A", "B" or "tie". It is asked twice, the
sample first (A) and then second (B), because judges favour a position: a verdict that holds in
both orders is the judge's, one that flips is the position's. Per order the sample scores 1 (it
won), 0.5 (tie) or 0 (it lost); the reward is the mean of the two. Orders that disagree outright
(the sample wins one and loses the other) count as a tie (``on_disagreement: tie``) or give
status ``parse_error`` (``on_disagreement: parse_error``).

The reference is a template: ``{{ item.reference_answer }}``, or a baseline model's answer in
another column (``{{ item.baseline }}``). Both texts go into the prompt delimited as data.
Each result carries ``metadata["judge_bias"]``, counts the report adds up into the judge's
first-position win rate, longer-wins rate and order flip rate.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from pydantic import Field

from rft_core import Item, Result, Sample, Status, TemplateField, hookimpl

from ._base import JudgeBase
from ._config import JudgeConfig
from ._verdict import Verdict, label_verdict

__all__ = ["PairwiseModel"]

LABELS = ("A", "B", "tie")
ORDERS = ("sample_first", "sample_second")
_OUTCOMES = {1.0: "won in both orders", 0.75: "won in one order and tied in the other", 0.5: "tied in both orders",
             0.25: "lost in one order and tied in the other", 0.0: "lost in both orders"}
_SCORE = {("sample_first", "A"): 1.0, ("sample_first", "B"): 0.0, ("sample_second", "A"): 0.0,
          ("sample_second", "B"): 1.0}


class PairwiseModel(JudgeBase):
    """LLM judge: is the sample better than a reference? Asked in both orders; flips are ties or parse errors.

    >>> PairwiseModel(model="m", input=[{"role": "user", "content": "Question: {{ item.q }}"}],
    ...               reference="{{ item.reference }}").config.on_disagreement
    'tie'
    """

    type = "pairwise_model"
    openai_hint = "OpenAI has no pairwise judge: run it here, or grade each sample alone with a score_model"
    verdict_word = "choice of A, B or tie"

    class Config(JudgeConfig):
        reference: TemplateField = Field(
            description="The answer to compare with: '{{ item.reference_answer }}', or a baseline column."
        )
        on_disagreement: Literal["tie", "parse_error"] = Field(
            default="tie",
            description="When the two orders name different winners: count a tie (0.5), or give status parse_error.",
        )

    config: Config

    def result_description(self) -> str:
        return '<exactly one of "A", "B", "tie">'

    def result_schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(LABELS)}

    def read_verdict(self, content: str | None) -> Verdict | None:
        return label_verdict(content, list(LABELS), mentions=False)  # "a" is a word in any reply

    def reward(self, verdict: Verdict, metadata: dict[str, Any]) -> Result:
        metadata["label"] = verdict.value
        return Result(0.0, Status.OK, f"label {verdict.value!r}", {}, metadata)

    async def _judge_one(self, sample: Sample, item: Item) -> Result:
        reference = self.config.reference.render(sample, item)
        text = sample.output_text
        size = len(text) + len(reference)
        asked = [
            self.ask(self.render_messages(sample, item, appended=[_pair(self.delimit(first), self.delimit(second))],
                                          sample_chars=size))
            for first, second in ((text, reference), (reference, text))
        ]
        verdicts = dict(zip(ORDERS, await asyncio.gather(*asked)))
        return self.combine(verdicts, len(text), len(reference))

    def combine(self, verdicts: dict[str, Result], sample_chars: int, reference_chars: int) -> Result:
        """The reward from the two orders' labels, and the counts of ``judge_bias``."""
        failed = [order for order, result in verdicts.items() if not result.ok]
        if failed:
            worst = verdicts[failed[0]]
            reason = "; ".join(f"{order}: {verdicts[order].status.value}: {verdicts[order].reason}" for order in failed)
            return Result(0.0, worst.status, reason, verdicts)  # the failed order's sub-result carries its error code
        bias = {"pairs": 1, "decided": 0, "first_wins": 0, "unequal_length": 0, "longer_wins": 0, "flipped": 0}
        scores = {}
        for order, result in list(verdicts.items()):
            label = result.metadata["label"]
            score = _SCORE.get((order, label), 0.5)
            scores[order] = score
            verdicts[order] = result.replace(
                reward=score, reason=f"label {label!r}: the sample {'won' if score == 1 else 'lost' if score == 0 else 'tied'}"
            )
            if label != "tie":
                bias["decided"] += 1
                bias["first_wins"] += label == "A"
                if sample_chars != reference_chars:
                    bias["unequal_length"] += 1
                    bias["longer_wins"] += (score == 1.0) == (sample_chars > reference_chars)
        metadata: dict[str, Any] = {"judge_bias": bias}
        labels = ", ".join(f"{order}: {verdicts[order].metadata['label']}" for order in ORDERS)
        if set(scores.values()) == {0.0, 1.0}:
            bias["flipped"] = 1
            what = f"the orders disagree: the judge picked the same position both times ({labels})"
            if self.config.on_disagreement == "parse_error":
                return Result(0.0, Status.PARSE_ERROR, what, verdicts, metadata, "model_grader_order_disagreement")
            return Result(0.5, Status.OK, f"{what}: counted as a tie", verdicts, metadata)
        reward = sum(scores.values()) / len(scores)
        return Result(reward, Status.OK, f"the sample {_OUTCOMES[reward]} ({labels})", verdicts, metadata)


def _pair(first: str, second: str) -> str:
    return (
        f"Response A:\n{first}\n\nResponse B:\n{second}\n\n"
        'Which response is better? Answer "A", "B", or "tie" when neither is better. '
        "Judge the content; neither the order nor the length of the responses is a reason to prefer one."
    )


@hookimpl
def register_graders(register):
    register(PairwiseModel)
