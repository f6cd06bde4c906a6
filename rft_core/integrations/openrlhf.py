"""OpenRLHF adapter: its remote reward protocol, served by ``rft serve`` (``POST /get_reward``) or
called in process as ``reward_func`` (``--reward.remote_url my_reward.py``).

OpenRLHF sends ``{"query": [...], "prompts": [...], "labels": [...]}``: each query is the prompt
followed by the response, decoded with special tokens kept. The response is the query less its
prompt and less the end-of-sequence markers at its end (``STOP_MARKERS``); the label becomes the
item (``components.label_item``: a JSON object is the item, a plain string ``item.answer``), with
the prompt as ``item.prompt``.

The answer is ``{"rewards": [...], "scores": [...], "extra_logs": {<component>: [...], "ungradable":
[...]}}``; OpenRLHF logs every ``extra_logs`` key. A sample that could not be graded keeps its
result's reward (0.0) and has ``ungradable`` 1.0; a query that does not start with its prompt is
such a sample (status ``error``), never graded on a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..kernel.errors import RftError
from ..kernel.grader import Grader
from ..kernel.types import Result, Sample, Status
from ..run.deadline import Deadline, grader_timeout
from .components import UNGRADABLE, component_columns, component_paths, label_item, spec_grader, ungradable

__all__ = ["STOP_MARKERS", "RewardInputs", "reward_func", "reward_inputs", "rewards_response"]

STOP_MARKERS = (
    "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<|end|>", "<end_of_turn>", "<eos>", "</s>",
)
"""End-of-sequence tokens stripped from the end of a response (OpenRLHF decodes them with the text)."""
_MARKERS = frozenset(STOP_MARKERS)  # each is "<...>": the text from the last "<" is one of them or none


def reward_func(
    queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any], *, spec: Any = None, **kwargs: Any
) -> dict[str, Any]:
    """OpenRLHF's ``reward_func(queries, prompts, labels)``: the same answer as ``POST /get_reward``.

    Args:
        queries: prompt + response of each sample, as OpenRLHF decodes them.
        prompts: each sample's prompt.
        labels: each sample's label (the dataset's label key).
        spec: the spec path; default ``$RFT_SPEC`` (OpenRLHF passes only the three lists, so bind it
            with ``functools.partial`` or set the variable).

    >>> spec = {"type": "string_check", "reference": "{{ item.answer }}"}
    >>> reward_func(["Q: 2+2? A: 4<|im_end|>"], ["Q: 2+2? A: "], ["4"], spec=spec)
    {'rewards': [1.0], 'scores': [1.0], 'extra_logs': {'ungradable': [0.0]}}
    """
    grader = spec_grader(spec, "rft_core.integrations.openrlhf.reward_func")
    inputs = reward_inputs(queries, prompts, labels)
    graded = Deadline(grader_timeout(grader)).grade(grader, inputs.samples, inputs.items)
    return rewards_response(inputs.results(graded), grader)


class RewardInputs:
    """What OpenRLHF sent, ready to grade: the samples and items of the queries that hold their prompt,
    and why each other query (by position) cannot be graded."""

    __slots__ = ("samples", "items", "unreadable", "size")

    def __init__(self, samples: list[Sample], items: list[dict[str, Any]], unreadable: dict[int, str], size: int) -> None:
        self.samples = samples
        self.items = items
        self.unreadable = unreadable
        self.size = size

    def results(self, graded: Sequence[Result]) -> list[Result]:
        """Every query's result in order: ``graded`` (the samples') with a status ``error`` result for
        each unreadable query."""
        if not self.unreadable:
            return list(graded)
        remaining = iter(graded)
        return [
            Result.failure(Status.ERROR, self.unreadable[index], "sample_parse_error") if index in self.unreadable
            else next(remaining)
            for index in range(self.size)
        ]


def reward_inputs(queries: Any, prompts: Any, labels: Any) -> RewardInputs:
    """One sample per query; RftError naming the field when the three are not lists of one entry per sample."""
    size = _check_list("query", queries, str)
    for name, values, kind in (("prompts", prompts, str), ("labels", labels, None)):
        if _check_list(name, values, kind) != size:
            raise RftError(f"'{name}' has {len(values)} entries but 'query' has {size}: give one per sample")
    samples: list[Sample] = []
    items: list[dict[str, Any]] = []
    unreadable: dict[int, str] = {}
    for index, query, prompt, label in zip(range(size), queries, prompts, labels):
        item = label_item(label)
        item.setdefault("prompt", prompt)
        text = response_text(query, prompt)
        if text is None:
            unreadable[index] = (f"query {index} does not start with its prompt (prompts[{index}]): "
                                 "send query = prompt + response")
        else:
            samples.append(Sample(text))
            items.append(item)
    return RewardInputs(samples, items, unreadable, size)


def rewards_response(results: Sequence[Result], grader: Grader) -> dict[str, Any]:
    """OpenRLHF's answer: rewards, scores and one ``extra_logs`` list per component and ``ungradable``."""
    rewards = [float(result.reward) for result in results]
    logs = component_columns(results, component_paths(grader))
    logs[UNGRADABLE] = list(map(ungradable, results))
    return {"rewards": rewards, "scores": list(rewards), "extra_logs": logs}


def response_text(query: str, prompt: str) -> str | None:
    """The response in a query: what follows the prompt, less trailing stop markers; None when the
    query does not start with the prompt."""
    if not query.startswith(prompt):
        return None
    text = query[len(prompt):]
    while text.endswith(">"):
        tail = text[text.rfind("<"):]  # no "<": the last character, which is no marker
        if tail not in _MARKERS:
            break
        text = text[: -len(tail)]
    return text


def _check_list(name: str, values: Any, kind: type | None) -> int:
    if not isinstance(values, list):
        raise RftError(f"'{name}' must be a list (one entry per sample), not {type(values).__name__}")
    if kind is not None and not set(map(type, values)) <= {kind}:  # the type check first: isinstance is slow
        wrong = next((index for index, value in enumerate(values) if not isinstance(value, kind)), None)
        if wrong is not None:
            raise RftError(f"'{name}'[{wrong}] must be a string, not {type(values[wrong]).__name__}")
    return len(values)
