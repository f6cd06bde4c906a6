"""TRL completions as Samples (strings or chat messages; tool calls become ``output_tools``), the
last batch reused across the reward functions TRL calls with it, and per-component reward columns."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..kernel.types import Result, Sample

__all__ = ["sub_reward_columns", "to_sample", "to_samples"]


class _LastBatch:
    """The samples and items of the last batch, reused by the next function TRL calls with it.

    TRL hands every reward function the same lists; with ``split=True`` the functions would
    each rebuild them. A batch is reused only when it is the same list objects with the same
    elements (compared with a copy taken then), and samples only for string completions, so a
    changed batch is never served stale. Each entry is one tuple, swapped in one assignment.
    """

    def __init__(self) -> None:
        self._samples: tuple[Any, ...] = (None, None, None)
        self._items: tuple[Any, ...] = ((), (), (), None)

    def samples(self, completions: Sequence[Any]) -> list[Sample]:
        ref, copy, samples = self._samples
        if ref is completions and copy == completions:
            return samples
        samples = to_samples(completions)
        if set(map(type, completions)) <= {str}:  # strings cannot change under us
            self._samples = (completions, list(completions), samples)
        return samples

    def items(self, keys: tuple[str, ...], values: list[Sequence[Any]]) -> list[dict[str, Any]]:
        last_keys, refs, copies, items = self._items
        if (
            last_keys == keys
            and len(refs) == len(values)
            and all(ref is value for ref, value in zip(refs, values))
            and all(copy == value for copy, value in zip(copies, values))
        ):
            return items
        items = [dict(zip(keys, row)) for row in zip(*values)]
        self._items = (keys, tuple(values), tuple(map(list, values)), items)
        return items


_LAST = _LastBatch()


def to_samples(completions: Sequence[Any]) -> list[Sample]:
    """Samples from TRL completions: strings, or chat completions (lists of messages)."""
    if set(map(type, completions)) <= {str}:
        return list(map(Sample, completions))
    return [to_sample(completion) for completion in completions]


def to_sample(completion: Any) -> Sample:
    """One completion as a Sample.

    A chat completion's text is its last assistant message's; ``output_tools`` gathers the tool
    calls of every assistant message, in Chat Completions shape (``arguments`` a JSON string).
    """
    if isinstance(completion, str):
        return Sample(completion)
    if isinstance(completion, Mapping):
        completion = [completion]
    if not isinstance(completion, list):
        raise TypeError(f"a completion must be a string or a list of messages, not {type(completion).__name__}")
    assistant = [m for m in completion if isinstance(m, Mapping) and m.get("role", "assistant") == "assistant"]
    text = _content_text(assistant[-1].get("content")) if assistant else ""
    tools = [_tool_call(call) for message in assistant for call in (message.get("tool_calls") or [])]
    return Sample(text, output_tools=tools)


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: keep the text ones
        return "".join(part.get("text", "") for part in content if isinstance(part, Mapping))
    return str(content)


def _tool_call(call: Any) -> Any:
    if not isinstance(call, Mapping):
        return call
    function = call.get("function")
    if isinstance(function, Mapping) and not isinstance(function.get("arguments", ""), str):
        function = {**function, "arguments": json.dumps(function["arguments"], ensure_ascii=False)}
        return {"type": "function", **call, "function": function}
    return dict(call)


def sub_reward_columns(results: Sequence[Result | None], prefix: str = "") -> dict[str, list[Result | None]]:
    """Every sub-result in the batch by dotted path, one entry per result (None where absent)."""
    keys: dict[str, Any] = {}
    for result in results:
        if result is not None and result.sub_rewards:
            keys.update(result.sub_rewards)  # only the keys are used
    columns: dict[str, list[Result | None]] = {}
    for key in keys:
        column = [None if result is None else result.sub_rewards.get(key) for result in results]
        columns[prefix + key] = column
        columns.update(sub_reward_columns(column, f"{prefix}{key}."))
    return columns


def _is_column(value: Any, size: int) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes)) and len(value) == size


def _describe(value: Any) -> str:
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return f"{len(value)} values"
    return f"a {type(value).__name__}"
