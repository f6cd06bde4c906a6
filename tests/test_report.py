"""rft_core.report: the run summary (mean reward, pass rate, statuses, component means)."""

from __future__ import annotations

import json

import pytest

from rft_core.report import Summary
from rft_core.types import Result, Status


def _summary(pass_threshold: float = 1.0) -> Summary:
    summary = Summary(pass_threshold)
    # row 0: two samples, a composite with a nested composite
    summary.add(
        0,
        Result(
            1.0,
            sub_rewards={
                "exact": Result(1.0),
                "style": Result(0.5, sub_rewards={"length": Result.failure(Status.TIMEOUT, "slow")}),
            },
        ),
    )
    summary.add(0, Result(0.4, sub_rewards={"exact": Result(0.0), "style": Result.failure(Status.ERROR, "boom")}))
    # row 1: could not be graded
    summary.add(1, Result.failure(Status.PARSE_ERROR, "no answer"))
    # row 2: not applicable
    summary.add(2, Result(0.0, Status.NOT_APPLICABLE))
    return summary


def test_summary_numbers():
    assert _summary(0.5).to_dict() == {
        "rows": 3,
        "samples": 4,
        # every sample counts, non-ok ones with their 0.0
        "mean_reward": pytest.approx((1.0 + 0.4 + 0.0 + 0.0) / 4),
        "pass_threshold": 0.5,
        # only the first sample is ok with reward >= 0.5
        "pass_rate": 0.25,
        "statuses": {"ok": 2, "parse_error": 1, "not_applicable": 1},
        "components": {
            "exact": {"mean_reward": 0.5, "failures": {}},
            "style": {"mean_reward": 0.25, "failures": {"error": 1}},
            # nested components are keyed by their dotted path
            "style.length": {"mean_reward": 0.0, "failures": {"timeout": 1}},
        },
    }
    json.dumps(_summary().to_dict())


@pytest.mark.parametrize(
    ("threshold", "results", "pass_rate"),
    [
        # the threshold itself passes
        (0.5, [Result(0.5), Result(0.49)], 0.5),
        # the default threshold is 1.0
        (1.0, [Result(1.0), Result(0.99)], 0.5),
        # a non-ok result never passes, whatever its reward
        (0.0, [Result(1.0, Status.NOT_APPLICABLE), Result.failure(Status.ERROR, "x"), Result(0.0)], 1 / 3),
        # a threshold of 0 passes every ok sample
        (0.0, [Result(0.0), Result(1.0)], 1.0),
    ],
    ids=["at-threshold", "default", "non-ok", "zero"],
)
def test_pass_rate(threshold, results, pass_rate):
    summary = Summary(threshold)
    for index, result in enumerate(results):
        summary.add(index, result)
    assert summary.to_dict()["pass_rate"] == pytest.approx(pass_rate)


def test_default_threshold():
    assert Summary().pass_threshold == 1.0


def test_rows_count_distinct_row_indices():
    summary = Summary()
    for index in (0, 0, 0, 1, 1, 5):
        summary.add(index, Result(1.0))
    assert (len(summary.rows), summary.samples) == (3, 6)


def test_an_empty_summary():
    summary = Summary()
    assert summary.to_dict() == {
        "rows": 0,
        "samples": 0,
        "mean_reward": None,
        "pass_threshold": 1.0,
        "pass_rate": None,
        "statuses": {},
        "components": {},
    }
    assert summary.render() == "no samples scored"


def test_render():
    assert _summary(0.5).render() == "\n".join(
        [
            "rows        3",
            "samples     4",
            "mean reward 0.3500",
            "pass rate   25.0% (ok and reward >= 0.5)",
            "statuses    not_applicable 1, ok 2, parse_error 1",
            "components  mean reward",
            "  exact         0.5000",
            "  style         0.2500  (error 1)",
            "  style.length  0.0000  (timeout 1)",
        ]
    )


def test_render_without_components():
    summary = Summary()
    summary.add(0, Result(1.0))
    summary.add(1, Result(0.0))
    assert summary.render() == "\n".join(
        [
            "rows        2",
            "samples     2",
            "mean reward 0.5000",
            "pass rate   50.0% (ok and reward >= 1)",
            "statuses    ok 2",
        ]
    )
