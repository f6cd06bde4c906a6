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


# --- rankings: top@k and MRR from metadata["rank"] -------------------------------------------


def _ranked(rank, reward=1.0, status=Status.OK):
    return Result(reward, status, metadata={"rank": rank, "list_length": 5})


def test_rankings_of_a_sub_grader():
    summary = Summary()
    for index, genes in enumerate(
        [
            _ranked(1),  # first: a hit at 1, 5 and max; 1/rank = 1
            _ranked(2, 0.7),  # second: a hit at 5 and max; 1/2
            _ranked(7, 0.1),  # seventh: only top@max; 1/7
            _ranked(None, 0.0),  # absent: a miss everywhere
            Result.failure(Status.PARSE_ERROR, "no list"),  # no rank at all: a miss, still counted
            Result(0.0, Status.NOT_APPLICABLE),  # not applicable: left out of the denominator
        ]
    ):
        summary.add(index, Result(genes.reward, sub_rewards={"genes": genes, "format": Result(1.0)}))
    assert summary.to_dict()["rankings"] == {
        "genes": {
            "samples": 5,
            "top@1": 1 / 5,
            "top@5": 2 / 5,
            "top@max": 3 / 5,
            "mrr": pytest.approx((1 + 1 / 2 + 1 / 7) / 5),
        }
    }


def test_rankings_of_the_root_and_nested_paths_root_first():
    summary = Summary()
    # the nested grader reports first, the root only from the second sample on
    summary.add(0, Result(1.0, sub_rewards={"inner": Result(1.0, sub_rewards={"genes": _ranked(1)})}))
    summary.add(1, Result(0.5, metadata={"rank": 3}, sub_rewards={"inner": Result(0.0, sub_rewards={"genes": _ranked(None)})}))
    rankings = summary.to_dict()["rankings"]
    assert list(rankings) == ["(root)", "inner.genes"]
    # the root's first sample had no rank: a miss, not left out
    assert rankings["(root)"] == {"samples": 2, "top@1": 0.0, "top@5": 0.5, "top@max": 0.5, "mrr": pytest.approx(1 / 6)}
    assert rankings["inner.genes"] == {"samples": 2, "top@1": 0.5, "top@5": 0.5, "top@max": 0.5, "mrr": 0.5}


@pytest.mark.parametrize(
    ("rank", "hits"),
    [
        (5, (0, 1, 1)),  # rank 5 is still within top@5
        (6, (0, 0, 1)),  # rank 6 is not
        (0, (0, 0, 0)),  # not a rank (ranks start at 1): a miss
        (True, (0, 0, 0)),  # a bool is not a rank
        ("1", (0, 0, 0)),  # nor is a string
    ],
    ids=["rank-5", "rank-6", "zero", "bool", "string"],
)
def test_rank_edges(rank, hits):
    summary = Summary()
    summary.add(0, Result(1.0, metadata={"rank": rank}))
    values = summary.to_dict()["rankings"]["(root)"]
    assert (values["top@1"], values["top@5"], values["top@max"]) == hits


def test_no_rankings_without_a_rank():
    summary = _summary()
    assert "rankings" not in summary.to_dict()
    assert "rankings" not in summary.render()


def test_rankings_only_not_applicable():
    summary = Summary()
    summary.add(0, Result(0.0, Status.NOT_APPLICABLE, metadata={"rank": None}))
    assert summary.to_dict()["rankings"] == {"(root)": {"samples": 0, "top@1": None, "top@5": None, "top@max": None, "mrr": None}}
    assert summary.render().splitlines()[-1] == "  (root)        0       -       -        -       -"


def test_render_rankings():
    summary = Summary()
    summary.add(0, Result(1.0, sub_rewards={"genes": _ranked(1), "format": Result(1.0)}))
    summary.add(1, Result(0.7, sub_rewards={"genes": _ranked(2, 0.7), "format": Result(1.0)}))
    assert summary.render().splitlines()[-3:] == [
        "  format  1.0000",
        "rankings  samples   top@1   top@5  top@max     MRR",
        "  genes         2  0.5000  1.0000   1.0000  0.7500",
    ]


def test_usage_and_cost_are_summed_over_the_result_tree():
    judge = Result(1.0, metadata={"usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
                                  "cost_usd": 0.5})
    cached = Result(1.0, metadata={"cached": True})  # no usage: spent nothing
    summary = Summary()
    summary.add(0, Result(1.0, sub_rewards={"a": judge, "b": cached}))
    summary.add(1, judge)
    assert summary.to_dict()["usage"] == {"prompt_tokens": 20, "completion_tokens": 4, "total_tokens": 24,
                                          "cost_usd": 1.0}
    rendered = summary.render()
    assert "tokens      24 (prompt 20, completion 4)" in rendered
    assert "cost        $1.0000" in rendered


def test_no_usage_without_model_graders():
    summary = Summary()
    summary.add(0, Result(1.0))
    assert "usage" not in summary.to_dict() and "tokens" not in summary.render()
