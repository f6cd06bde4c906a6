"""Graded samples: the rows of ``rft score -o`` joined back to the samples of the data file that was scored.

A scores file holds rewards, not texts; ``rft select`` and ``rft pairs`` need both. Rows are
matched on ``index`` (the data row) and ``sample_index`` (the sample within it), so the data file
must be the one that was scored, and every sample of it must have its score row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..run.data import read_tasks
from ..kernel.errors import RftError
from ..report.scores import score_rows

__all__ = ["GradedItem", "GradedSample", "best_first", "distinct", "graded_items", "prompt_of"]


@dataclass(frozen=True, slots=True)
class GradedSample:
    """One sample's text with its reward and status (``ok``, ``not_applicable``, ``error``...)."""

    position: int  # its place among the item's samples (0 for a row with one sample)
    text: str
    reward: float
    status: str


@dataclass(slots=True)
class GradedItem:
    """One data row: its fields but the samples (the prompt among them), its line, and its graded samples."""

    index: int
    line: int | None
    item: dict[str, Any]
    samples: list[GradedSample] = field(default_factory=list)


def graded_items(scores: str | Path, data: str | Path) -> list[GradedItem]:
    """Every row of ``data`` with its samples' rewards from ``scores``, in data order.

    A sample without text (a failed generation, an unreadable row) is left out of its item.
    Raises RftError when a score row names no sample of ``data``, or a sample has no score row
    (a scores file of another data file, or an unfinished ``rft score``).
    """
    rewards: dict[tuple[int, int | None], tuple[int, dict[str, Any]]] = {}
    for line, row in score_rows(scores):
        rewards[(row["index"], row.get("sample_index"))] = (line, row)
    items: dict[int, GradedItem] = {}
    for task in read_tasks(data):
        key = (task.index, task.sample_index)
        found = rewards.pop(key, None)
        if found is None:
            where = f"line {task.line}" + (f" sample {task.sample_index}" if task.sample_index is not None else "")
            raise RftError(
                f"{scores}: no score row for {data} {where}: give the scores of this data file, and finish "
                "scoring it (rft score ... --resume)"
            )
        entry = items.setdefault(task.index, GradedItem(task.index, task.line, dict(task.item)))
        if task.sample is not None and task.error is None:
            _, row = found
            entry.samples.append(GradedSample(task.sample_index or 0, task.sample.output_text, row["reward"], row["status"]))
    if rewards:
        (index, position), (line, _) = next(iter(rewards.items()))
        sample = f" sample {position}" if position is not None else ""
        raise RftError(
            f"{scores}: line {line}: row {index}{sample} is not in {data}: give the data file that was scored"
        )
    return list(items.values())


def prompt_of(entry: GradedItem, data: str | Path) -> str | list[dict[str, Any]]:
    """The item's prompt: its ``prompt`` (text or chat messages) or its ``messages``; RftError names the line."""
    prompt = entry.item.get("prompt", entry.item.get("messages"))
    if isinstance(prompt, str) or (isinstance(prompt, list) and prompt and all(isinstance(m, dict) for m in prompt)):
        return prompt
    raise RftError(f"{data}: line {entry.line}: the row has no prompt: give 'prompt' (text or chat messages) or 'messages'")


def best_first(samples: Iterable[GradedSample], ties: str = "shortest") -> list[GradedSample]:
    """``samples`` by reward, highest first; equal rewards shortest text first (``ties="shortest"``)
    or in sampling order (``ties="first"``)."""
    if ties == "shortest":
        return sorted(samples, key=lambda sample: (-sample.reward, len(sample.text), sample.position))
    return sorted(samples, key=lambda sample: (-sample.reward, sample.position))


def distinct(samples: Iterable[GradedSample]) -> list[GradedSample]:
    """``samples`` in their order, each text once (the first of identical texts, compared without
    surrounding whitespace)."""
    seen: set[str] = set()
    kept = []
    for sample in samples:
        key = sample.text.strip()
        if key not in seen:
            seen.add(key)
            kept.append(sample)
    return kept
