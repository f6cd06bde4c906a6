"""rft_core.report.readiness: flat items (no learning signal), within-item std and the advice they earn."""

from __future__ import annotations

import statistics

import pytest

from rft_core.report.readiness import LOW_STD, readiness


def test_counts_flat_items_by_kind():
    groups = {
        0: [1.0, 1.0, 1.0, 1.0],  # all pass
        1: [0.0, 0.0, 0.0, 0.0],  # all 0
        2: [0.5, 0.5, 0.5, 0.5],  # flat at a partial reward
        3: [1.0, 0.0, 1.0, 0.0],  # signal
        4: [0.2, 0.4, 0.6, 0.8],  # signal
        5: [1.0],  # one sample: left out
    }
    report = readiness(groups, pass_threshold=1.0)
    assert report["applies"] is True
    assert (report["items"], report["single_sample_items"]) == (5, 1)
    assert report["samples_per_item"] == {"min": 4, "mean": 4.0, "max": 4}
    assert report["flat"] == {"items": 3, "share": 3 / 5}
    assert report["flat_items"] == {"all_high": [0], "all_low": [1], "other_flat": [2]}
    assert {kind: report[kind] for kind in ("all_high", "all_low", "other_flat")} == {
        kind: {"items": 1, "share": 1 / 5} for kind in ("all_high", "all_low", "other_flat")
    }
    # the mean of each multi-sample item's sample std (flat items count with 0)
    expected = statistics.fmean(statistics.stdev(rewards) for index, rewards in groups.items() if index != 5)
    assert report["within_item_std"] == pytest.approx(expected)


def test_all_high_follows_the_pass_threshold():
    # 0.5 on every sample passes at threshold 0.5: all high, not "other flat"
    report = readiness({0: [0.5, 0.5], 1: [0.0, 1.0]}, pass_threshold=0.5)
    assert report["flat_items"] == {"all_high": [0], "all_low": [], "other_flat": []}


def test_uneven_sample_counts():
    report = readiness({0: [1.0, 0.0], 1: [0.3, 0.3, 0.3]}, pass_threshold=1.0)
    assert report["samples_per_item"] == {"min": 2, "mean": 2.5, "max": 3}
    assert report["flat_items"]["other_flat"] == [1]


@pytest.mark.parametrize(
    "groups",
    [{0: [1.0], 1: [0.0]}, {}],
    ids=["one-sample-per-item", "no-items"],
)
def test_does_not_apply_with_one_sample_per_item(groups):
    report = readiness(groups, pass_threshold=1.0)
    assert report["applies"] is False
    assert report["reason"].startswith("one sample per item: give several samples per item")


def _advice(groups, threshold=1.0):
    return readiness(groups, threshold)["advice"]


def test_advice_for_too_easy_items():
    # 2 of 4 items pass on every sample
    advice = _advice({0: [1.0, 1.0], 1: [1.0, 1.0], 2: [0.0, 1.0], 3: [1.0, 0.0]})
    assert len(advice) == 1
    assert advice[0].startswith("50% of items pass (reward >= 1) on every sample: the task is too easy")
    assert "filter these items out" in advice[0]


def test_advice_for_too_hard_items():
    advice = _advice({0: [0.0, 0.0], 1: [0.0, 1.0]})
    assert advice[0].startswith("50% of items get 0 on every sample: the task is too hard")
    assert "add partial credit" in advice[0]


def test_advice_for_coarse_graders_and_low_std():
    # every item flat at a partial reward: coarse grader, and no spread at all
    advice = _advice({0: [0.5, 0.5], 1: [0.3, 0.3]})
    assert advice[0].startswith("100% of items get one identical partial reward on every sample")
    assert advice[1].startswith("the mean within-item reward std is 0.000: advantages will be small; sample at a higher temperature")


def test_low_std_alone():
    # no item is flat, but the spread is tiny
    advice = _advice({0: [0.50, 0.52], 1: [0.60, 0.61]})
    assert readiness({0: [0.50, 0.52], 1: [0.60, 0.61]}, 1.0)["within_item_std"] < LOW_STD
    assert len(advice) == 1 and advice[0].startswith("the mean within-item reward std is 0.011")


def test_a_good_signal_says_so():
    assert _advice({0: [0.0, 1.0], 1: [1.0, 0.0, 0.5]}) == [
        "100% of items have a spread of rewards across their samples: a usable learning signal"
    ]
