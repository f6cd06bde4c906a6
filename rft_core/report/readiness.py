"""GRPO readiness: is there a learning signal when items have several samples?

GRPO (and RLOO) learn from the spread of rewards among the samples of one item: an item whose
samples all get the same reward has zero advantage and teaches nothing. This module counts those
flat items (all high, all low, other), the mean within-item reward std (TRL logs it as
``reward_std``) and says what to do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .stats import mean, sample_std

__all__ = ["FLAT_SHARE_WARNING", "LOW_STD", "readiness"]

FLAT_SHARE_WARNING = 0.1
"""A kind of flat item (all high, all low, other) earns advice from this share of items on."""

LOW_STD = 0.1
"""A mean within-item reward std below this earns advice on sampling."""

_TIE = 1e-9


def readiness(groups: Mapping[int, Sequence[float]], pass_threshold: float) -> dict[str, Any]:
    """Readiness of the items in ``groups`` (item index -> the rewards of its samples).

    An item is flat when its samples' rewards are all equal: *all high* when that reward is at
    least ``pass_threshold``, *all low* when it is 0 or below, *other flat* otherwise. Items with
    one sample are left out; when no item has two, readiness does not apply and the result says why.
    """
    multi = {index: rewards for index, rewards in groups.items() if len(rewards) > 1}
    if not multi:  # also when there are no groups at all
        return {
            "applies": False,
            "reason": "one sample per item: give several samples per item (a `completions` list per row, "
            "or `rft sample`) to check the learning signal",
        }
    flat: dict[str, list[int]] = {"all_high": [], "all_low": [], "other_flat": []}
    stds = []
    for index, rewards in multi.items():
        if max(rewards) - min(rewards) <= _TIE:
            kind = "all_high" if rewards[0] >= pass_threshold else "all_low" if rewards[0] <= 0.0 else "other_flat"
            flat[kind].append(index)
            stds.append(0.0)
        else:
            stds.append(sample_std(rewards))
    items = len(multi)
    sizes = [len(rewards) for rewards in multi.values()]
    flat_count = sum(len(indices) for indices in flat.values())
    report = {
        "applies": True,
        "items": items,
        "single_sample_items": len(groups) - items,
        "samples_per_item": {"min": min(sizes), "mean": mean(sizes), "max": max(sizes)},
        "flat": {"items": flat_count, "share": flat_count / items},
        **{kind: {"items": len(indices), "share": len(indices) / items} for kind, indices in flat.items()},
        "within_item_std": mean(stds),
        "flat_items": flat,
    }
    report["advice"] = _advice(report, pass_threshold)
    return report


def _advice(report: dict[str, Any], pass_threshold: float) -> list[str]:
    advice = []
    share = {kind: report[kind]["share"] for kind in ("all_high", "all_low", "other_flat")}
    if share["all_high"] >= FLAT_SHARE_WARNING:
        advice.append(
            f"{share['all_high']:.0%} of items pass (reward >= {pass_threshold:g}) on every sample: the task is too "
            "easy for this model or the grader too lenient (probe it with `rft audit`); filter these items out "
            "(their indices: readiness.flat_items.all_high in `rft report --json`)"
        )
    if share["all_low"] >= FLAT_SHARE_WARNING:
        advice.append(
            f"{share['all_low']:.0%} of items get 0 on every sample: the task is too hard for this model or the "
            "grader too strict; add partial credit (a multi with format or closeness components) or filter them "
            "out (readiness.flat_items.all_low)"
        )
    if share["other_flat"] >= FLAT_SHARE_WARNING:
        advice.append(
            f"{share['other_flat']:.0%} of items get one identical partial reward on every sample: the grader is "
            "coarse; a graded metric (fuzzy_match, text_similarity) or more components tell samples apart"
        )
    if report["within_item_std"] < LOW_STD:
        advice.append(
            f"the mean within-item reward std is {report['within_item_std']:.3f}: advantages will be small; sample "
            "at a higher temperature or more completions per item (GRPO's num_generations)"
        )
    if not advice:
        advice.append(
            f"{1 - report['flat']['share']:.0%} of items have a spread of rewards across their samples: "
            "a usable learning signal"
        )
    return advice
