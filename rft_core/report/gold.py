"""Gold (human) labels from a data file, and how well rewards agree with them.

A label is a column of the data file: a top-level field of the row (for canonical rows, also a
field of ``item``). One value labels every sample of the row; a list labels a ``completions``
row sample by sample (the same length, in order). Values: a number, a bool, or one of
pass/fail, yes/no, true/false, correct/incorrect; ``null`` or a missing column leaves the
sample unlabelled. Labels are keyed ``(row index, sample position)``, the order ``rft score``
writes samples in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..kernel.errors import RftError
from ..run.rows import read_values
from .stats import spearman

__all__ = ["Gold", "agreement", "read_gold"]

_WORDS = {
    **dict.fromkeys(("pass", "passed", "yes", "true", "correct", "good"), 1.0),
    **dict.fromkeys(("fail", "failed", "no", "false", "incorrect", "wrong", "bad"), 0.0),
}


@dataclass
class Gold:
    """The labels of one column: ``labels[(row index, sample position)]`` is a number (pass = 1.0)."""

    column: str
    labels: dict[tuple[int, int], float] = field(default_factory=dict)


def read_gold(path: str | Path, column: str) -> Gold:
    """The labels in ``column`` of the JSONL data file at ``path``.

    Raises RftError (naming the file and line) for a label that is not one, a list whose length
    is not the row's number of completions, or a column no row has.
    """
    gold = Gold(column)
    found = False
    for index, (line, row) in enumerate(read_values(path)):
        if isinstance(row, dict):  # an unreadable row was an error in the scoring run too: unlabelled
            value, present = _value(row, column)
            found = found or present
            for position, label in enumerate(_labels(value, row, f"{path}: line {line}: column {column!r}")):
                if label is not None:
                    gold.labels[index, position] = label
    if not found:
        raise RftError(f"{path}: no row has a column {column!r} to take gold labels from")
    return gold


def _value(row: dict[str, Any], column: str) -> tuple[Any, bool]:
    if column in row:
        return row[column], True
    item = row.get("item")
    if isinstance(item, dict) and column in item:
        return item[column], True
    return None, False


def _labels(value: Any, row: dict[str, Any], where: str) -> list[float | None]:
    completions = row.get("completions")
    samples = len(completions) if isinstance(completions, list) and completions else 1
    if isinstance(value, list):
        if len(value) != samples:
            raise RftError(
                f"{where}: a list of {len(value)} labels for a row of {samples} sample(s); give one label per "
                "completion, or one value for the whole row"
            )
        return [_label(entry, where) for entry in value]
    return [_label(value, where)] * samples


def _label(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    if isinstance(value, str) and value.strip().lower() in _WORDS:
        return _WORDS[value.strip().lower()]
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    raise RftError(f"{where}: {shown} is not a label: use a number, true/false or pass/fail")


def agreement(labels: Mapping[tuple[int, int], float], graded: Iterable[tuple[tuple[int, int], float, bool]],
              pass_threshold: float) -> dict[str, Any]:
    """How rewards agree with labels over the labelled samples of ``graded`` ((key, reward, ok) triples).

    Accuracy compares pass/fail on both sides: a label passes at ``pass_threshold`` or above (so 1/0 and
    true/false labels work with any threshold up to 1), a sample when it is ok with a reward at or above
    it. Spearman correlates labels with rewards (non-ok samples count with their reward).
    """
    gold_values: list[float] = []
    rewards: list[float] = []
    counts = {"true_pass": 0, "false_pass": 0, "false_fail": 0, "true_fail": 0}
    for key, reward, ok in graded:
        label = labels.get(key)
        if label is None:
            continue
        gold_values.append(label)
        rewards.append(reward)
        predicted = ok and reward >= pass_threshold
        actual = label >= pass_threshold
        counts[("true_" if predicted == actual else "false_") + ("pass" if predicted else "fail")] += 1
    labelled = len(gold_values)
    return {
        "labelled": labelled,
        "accuracy": (counts["true_pass"] + counts["true_fail"]) / labelled if labelled else None,
        "spearman": spearman(gold_values, rewards),
        **counts,
    }
