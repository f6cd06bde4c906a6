"""Read input rows into tasks: one (sample, item) pair per sample to grade.

Row formats (one JSON object per line):

- canonical: ``{"item": {...}, "sample": {...} | "text"}`` (``id`` optional);
- flat: ``output_text`` or ``completion`` (one sample) or ``completions`` (a list:
  several samples of one item) give the sample, every other field the item;
  a completion may be a string or a chat message list; a ``null`` one (a sample ``rft sample``
  could not get) is an error task whose reason is ``completion_errors[j]``, the row's list of them;
- OpenAI RFT: ``messages`` ending in an assistant message, which is the sample;
  the earlier messages and the other fields are the item.

A row that cannot be read becomes a task carrying an error, never an exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .jsonl import BadLine
from .rows import read_values
from ..kernel.types import Sample

__all__ = ["Task", "plain_text_row", "read_tasks", "tasks_from_row", "tasks_from_rows"]

_SAMPLE_FIELDS = ("output_text", "output_json", "output_tools", "choices")
_NOT_ITEM_FIELDS = frozenset((*_SAMPLE_FIELDS, "completion", "completions", "completion_errors"))
_NOT_PLAIN = frozenset(("sample", "item", *_NOT_ITEM_FIELDS - {"output_text"}))


@dataclass(slots=True)
class Task:
    """One sample to grade, with where it came from."""

    index: int
    sample: Sample | None
    item: Mapping[str, Any]
    line: int | None = None
    sample_index: int | None = None
    id: Any = None
    error: str | None = None


def read_tasks(path: str | Path) -> Iterator[Task]:
    """Tasks from a JSONL file, in order. Blank lines are skipped; bad lines become error tasks."""
    for index, (line_number, row) in enumerate(read_values(path)):
        if type(row) is not dict and isinstance(row, BadLine):  # the type check first: isinstance is slow
            yield _bad(index, line_number, str(row))
        else:
            yield from tasks_from_row(row, index, line_number)


def tasks_from_rows(rows: Iterable[Any]) -> Iterator[Task]:
    """Tasks from rows already in memory (mappings in any of the row formats)."""
    for index, row in enumerate(rows):
        yield from tasks_from_row(row, index)


def tasks_from_row(row: Any, index: int, line: int | None = None) -> list[Task]:
    """The tasks of one row: one per sample, or one error task if the row is unusable."""
    try:
        samples, item = _split(row)
    except (TypeError, ValueError) as exc:
        return [_bad(index, line, str(exc))]
    row_id = row.get("id")
    if len(samples) == 1 and "completions" not in row:  # the common row, made without a loop
        tasks = [Task(index, samples[0], item, line, None, row_id)]
    else:
        tasks = [Task(index, sample, item, line, position, row_id) for position, sample in enumerate(samples)]
    if None in samples:
        for task in tasks:
            if task.sample is None:
                task.error = _missing_reason(row, task)
    return tasks


def _missing_reason(row: Mapping[str, Any], task: Task) -> str:
    """Why a null completion has no text: ``completion_errors[j]`` (written by ``rft sample``)."""
    where = f"line {task.line}: " if task.line is not None else f"row {task.index}: "
    errors = row.get("completion_errors")
    if task.sample_index is None:
        return where + "the completion is null"
    position = task.sample_index
    reason = errors[position] if isinstance(errors, list) and position < len(errors) else None
    return where + f"sample {position} was not generated: " + (reason if isinstance(reason, str) else "null completion")


def _bad(index: int, line: int | None, message: str) -> Task:
    where = f"line {line}: " if line is not None else f"row {index}: "
    return Task(index, None, {}, line, error=where + message)


def plain_text_row(row: Any) -> bool:
    """Whether ``row`` is the common row: a JSON object whose sample is its ``output_text`` string
    and whose item is the rest of it (no other sample field, no ``sample``/``item`` pair)."""
    return type(row) is dict and type(row.get("output_text")) is str and _NOT_PLAIN.isdisjoint(row)


def _split(row: Any) -> tuple[list[Sample | None], dict[str, Any]]:
    if type(row) is not dict and not isinstance(row, Mapping):  # the type check first: isinstance is slow
        raise TypeError(f"a row must be a JSON object, not {type(row).__name__}")
    if "sample" in row or "item" in row:
        if "sample" not in row:
            raise ValueError("row has 'item' but no 'sample'")
        item = row.get("item", {})
        if not isinstance(item, Mapping):
            raise TypeError(f"'item' must be an object, not {type(item).__name__}")
        return [Sample.coerce(row["sample"])], dict(item)
    if plain_text_row(row):  # the common row, read without a Python loop
        item = dict(row)
        return [Sample(item.pop("output_text"))], item
    item = {key: value for key, value in row.items() if key not in _NOT_ITEM_FIELDS}
    if "completions" in row:
        completions = row["completions"]
        if not isinstance(completions, list) or not completions:
            raise TypeError("'completions' must be a non-empty list")
        return [_from_completion(completion) for completion in completions], item
    if "completion" in row:
        return [_from_completion(row["completion"])], item
    if any(field in row for field in _SAMPLE_FIELDS):
        return [Sample.coerce({field: row[field] for field in _SAMPLE_FIELDS if field in row})], item
    if "messages" in row:
        return _from_messages(row)
    raise ValueError(
        "row has no sample: give output_text, completion, completions, an assistant message, or {item, sample}"
    )


def _from_completion(completion: Any) -> Sample | None:
    """A string, or a chat completion: a message list whose last message is the assistant's;
    None for a null completion (the task becomes an error)."""
    if completion is None:
        return None
    if isinstance(completion, str):
        return Sample(completion)
    if isinstance(completion, list) and completion and isinstance(completion[-1], Mapping):
        return _from_message(completion[-1])
    if isinstance(completion, Mapping):
        return _from_message(completion)
    raise TypeError(f"a completion must be a string or chat messages, not {type(completion).__name__}")


def _from_message(message: Mapping[str, Any]) -> Sample:
    content = message.get("content") or ""
    if isinstance(content, list):  # content parts: keep the text ones
        texts = [part.get("text", "") for part in content if isinstance(part, Mapping)]
        if not all(isinstance(text, str) for text in texts):
            raise TypeError("a message content part's 'text' must be a string")
        content = "".join(texts)
    if not isinstance(content, str):
        raise TypeError(f"message content must be a string, not {type(content).__name__}")
    return Sample(content, output_tools=list(message.get("tool_calls") or []))


def _from_messages(row: Mapping[str, Any]) -> tuple[list[Sample], dict[str, Any]]:
    messages = row["messages"]
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], Mapping):
        raise TypeError("'messages' must be a non-empty list of message objects")
    if messages[-1].get("role") != "assistant":
        raise ValueError("row has 'messages' but no assistant reply at the end to grade")
    item = {key: value for key, value in row.items() if key != "messages"}
    item["messages"] = messages[:-1]
    return [_from_message(messages[-1])], item
