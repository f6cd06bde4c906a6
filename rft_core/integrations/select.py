"""``rft select``: rejection sampling (best-of-k) of graded samples into supervised fine-tuning rows.

From each item's graded samples keep those with status ``ok`` and a reward at or above
``min_reward``, each text once, best first, at most ``per_item`` of them. Each kept sample
becomes one row in TRL's SFT formats: ``{"prompt", "completion"}`` for a text prompt,
``{"messages"}`` (the prompt's messages plus the sample as the assistant's reply) for a chat one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .graded import GradedItem, best_first, distinct, graded_items, prompt_of
from ..run.jsonl import dumps_line
from ..run.output_files import atomic_text

__all__ = ["SelectTotals", "select_file", "sft_row"]


@dataclass(slots=True)
class SelectTotals:
    """What a selection kept and left out, and how many items got no row."""

    items: int = 0
    samples: int = 0
    rows: int = 0
    items_without_rows: int = 0
    not_ok: int = 0  # status not_applicable, error, timeout or parse_error
    below_min_reward: int = 0
    duplicates: int = 0
    over_per_item: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def sft_row(prompt: str | list[dict[str, Any]], completion: str) -> dict[str, Any]:
    """One TRL SFT row: prompt-completion for a text prompt, a conversation for chat messages."""
    if isinstance(prompt, str):
        return {"prompt": prompt, "completion": completion}
    return {"messages": [*prompt, {"role": "assistant", "content": completion}]}


def select_file(
    scores: str | Path,
    data: str | Path,
    output: str | Path,
    *,
    min_reward: float = 1.0,
    per_item: int | None = 1,
    ties: str = "shortest",
) -> SelectTotals:
    """Write the selected samples of ``data`` (graded in ``scores``) to ``output`` as SFT rows; returns the totals.

    ``per_item=None`` keeps every sample that qualifies. ``ties``: ``shortest`` or ``first``
    (sampling order) among equal rewards. ``output`` is replaced only by a complete file.
    """
    totals = SelectTotals()
    entries = graded_items(scores, data)
    with atomic_text(Path(output)) as out:
        for entry in entries:
            for row in _selected(entry, data, totals, min_reward, per_item, ties):
                out.write(dumps_line(row))
    return totals


def _selected(
    entry: GradedItem, data: str | Path, totals: SelectTotals, min_reward: float, per_item: int | None, ties: str
) -> Iterator[dict[str, Any]]:
    totals.items += 1
    totals.samples += len(entry.samples)
    ok = [sample for sample in entry.samples if sample.status == "ok"]
    totals.not_ok += len(entry.samples) - len(ok)
    good = [sample for sample in ok if sample.reward >= min_reward]
    totals.below_min_reward += len(ok) - len(good)
    unique = distinct(best_first(good, ties))
    totals.duplicates += len(good) - len(unique)
    kept = unique if per_item is None else unique[:per_item]
    totals.over_per_item += len(unique) - len(kept)
    totals.rows += len(kept)
    if not kept:
        totals.items_without_rows += 1
        return
    prompt = prompt_of(entry, data)
    for sample in kept:
        yield sft_row(prompt, sample.text)
