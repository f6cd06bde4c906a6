"""``rft pairs``: preference pairs from graded samples of the same item, for ``rft train-rm`` and DPO.

Within one item, among the samples with status ``ok`` (each text once), every two whose rewards
differ by at least ``min_margin`` (and by more than nothing) make a pair: the higher reward is
``chosen``, the lower ``rejected``. Pairs come widest margin first, at most ``per_item`` of them.
Rows are in TRL's preference format: ``{"prompt", "chosen", "rejected"}`` with text, or for a
chat prompt its messages and each answer as one assistant message.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from .graded import GradedSample, best_first, distinct, graded_items, prompt_of
from ..run.jsonl import dumps_line
from ..run.output_files import atomic_text

__all__ = ["PairTotals", "item_pairs", "pair_row", "pairs_file"]

_ROUNDING = 1e-9  # 1.0 - 0.9 is 0.0999...: a margin of 0.1 still counts


@dataclass(slots=True)
class PairTotals:
    """How many pairs were written, and how many items gave none."""

    items: int = 0
    pairs: int = 0
    items_without_pairs: int = 0
    not_ok: int = 0
    duplicates: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def pair_row(prompt: str | list[dict[str, Any]], chosen: str, rejected: str) -> dict[str, Any]:
    """One TRL preference row; a chat prompt makes each answer an assistant message."""
    if isinstance(prompt, str):
        return {"prompt": prompt, "chosen": chosen, "rejected": rejected}
    return {"prompt": prompt, "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}]}


def item_pairs(samples: list[GradedSample], min_margin: float, per_item: int | None) -> list[tuple[GradedSample, GradedSample]]:
    """The (chosen, rejected) pairs of one item's ``ok`` samples, widest margin first."""
    ranked = distinct(best_first(samples, "first"))
    found = [(high, low) for high, low in combinations(ranked, 2)
             if high.reward - low.reward >= min_margin - _ROUNDING and high.reward > low.reward]
    found.sort(key=lambda pair: (-(pair[0].reward - pair[1].reward), pair[0].position, pair[1].position))
    return found if per_item is None else found[:per_item]


def pairs_file(
    scores: str | Path, data: str | Path, output: str | Path, *, min_margin: float = 0.0, per_item: int | None = None
) -> PairTotals:
    """Write the preference pairs of ``data`` (graded in ``scores``) to ``output``; returns the totals.

    ``output`` is replaced only by a complete file.
    """
    totals = PairTotals()
    entries = graded_items(scores, data)
    with atomic_text(Path(output)) as out:
        for entry in entries:
            totals.items += 1
            ok = [sample for sample in entry.samples if sample.status == "ok"]
            totals.not_ok += len(entry.samples) - len(ok)
            totals.duplicates += len(ok) - len(distinct(ok))
            found = item_pairs(ok, min_margin, per_item)
            if not found:
                totals.items_without_pairs += 1
                continue
            prompt = prompt_of(entry, data)
            for chosen, rejected in found:
                out.write(dumps_line(pair_row(prompt, chosen.text, rejected.text)))
            totals.pairs += len(found)
    return totals
