"""rft_core.report.summary: the Summary (per-grader statistics, statuses, rankings, usage, readiness,
agreement), its terminal rendering (rft_core.report.text), and `rft report` / `rft score` reporting."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from rft_core.cli import main
from rft_core.report.gold import Gold
from rft_core.report.summary import Summary
from rft_core.report.text import render_text
from rft_core.kernel.types import Result, Status, Usage

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SPEC = ROOT / "examples" / "spec.yaml"
EXAMPLE_DATA = ROOT / "examples" / "data.jsonl"


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
    report = _summary(0.5).to_dict()
    assert {key: report[key] for key in ("rows", "samples", "mean_reward", "pass_threshold", "pass_rate", "statuses",
                                         "components")} == {
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
    # every grader path, the root first, depth first
    assert list(report["graders"]) == ["(root)", "exact", "style", "style.length"]
    style = report["graders"]["style"]
    assert style["samples"] == 2
    assert style["status_rates"] == {"ok": 0.5, "not_applicable": 0.0, "parse_error": 0.0, "timeout": 0.0, "error": 0.5}
    assert style["pass_rate"] == 0.5  # 0.5 passes at 0.5; the error does not
    assert style["reasons"] == [{"status": "error", "reason": "boom", "count": 1}]
    assert style["histogram"]["counts"] == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    root = report["graders"]["(root)"]
    assert (root["mean"], root["std"], root["median"]) == (
        pytest.approx(0.35), pytest.approx(statistics.stdev([1.0, 0.4, 0.0, 0.0])), pytest.approx(0.2))
    json.dumps(report)


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
    assert summary.to_dict()["graders"]["(root)"]["pass_rate"] == pytest.approx(pass_rate)


def test_default_threshold():
    assert Summary().pass_threshold == 1.0


def test_rows_count_distinct_row_indices():
    summary = Summary()
    for index in (0, 0, 0, 1, 1, 5):
        summary.add(index, Result(1.0))
    assert (summary.to_dict()["rows"], summary.samples) == (3, 6)


def test_an_empty_summary():
    summary = Summary()
    report = summary.to_dict()
    assert (report["rows"], report["samples"], report["mean_reward"], report["pass_rate"], report["statuses"]) == (
        0, 0, None, None, {})
    assert report["readiness"]["applies"] is False
    assert summary.render() == "no samples scored"


def test_render():
    assert _summary(0.5).render() == "\n".join(
        [
            "rows        3",
            "samples     4",
            "mean reward 0.3500",
            "pass rate   25.0% (ok and reward >= 0.5)",
            "statuses    not_applicable 1, ok 2, parse_error 1",
            "rewards         samples    mean     std     min     p10     p25  median     p75     p90     max",
            "  (root)              4  0.3500  0.4726  0.0000  0.0000  0.0000  0.2000  0.5500  0.8200  1.0000",
            "  exact               2  0.5000  0.7071  0.0000  0.1000  0.2500  0.5000  0.7500  0.9000  1.0000",
            "  style               2  0.2500  0.3536  0.0000  0.0500  0.1250  0.2500  0.3750  0.4500  0.5000",
            "  style.length        1  0.0000       -  0.0000  0.0000  0.0000  0.0000  0.0000  0.0000  0.0000",
            "statuses          pass      ok     n/a  parse_error  timeout   error",
            "  (root)         25.0%   50.0%   25.0%        25.0%     0.0%    0.0%",
            "  exact          50.0%  100.0%    0.0%         0.0%     0.0%    0.0%",
            "  style          50.0%   50.0%    0.0%         0.0%     0.0%   50.0%",
            "  style.length    0.0%    0.0%    0.0%         0.0%   100.0%    0.0%",
            # the reasons the HTML report lists, one line each, most common first per grader
            "reasons (most common non-ok results per grader)",
            "  (root): parse_error x1: no answer",
            "  (root): not_applicable x1: (no reason given)",
            "  style: error x1: boom",
            "  style.length: timeout x1: slow",
            # pass@k and mean@k over the items graded (row 1's one sample keeps the root's k at 1)
            "k samples   items  pass@1  pass@2  mean@1  mean@2",
            "  (root)        2  0.2500       -  0.3500       -",
            "  exact         1  0.5000  1.0000       -  0.5000",
            "  style         1  0.5000  1.0000       -  0.2500",
            # row 0 has two samples, row 1 one (row 2's only sample is not applicable): one item to judge
            "GRPO readiness  1 item with 2 samples each",
            "  no signal     0 items (0.0%) whose samples all get one reward: all pass 0 (0.0%), all 0 0 (0.0%), "
            "other flat 0 (0.0%)",
            "  within-item reward std  0.4243 (mean over items; TRL logs it as reward_std)",
            "  left out     1 item with one sample",
            "advice",
            "  - (root): 25% parse_error: the outputs lack what it reads (check its extract pattern, or the prompt's "
            "format instructions)",
            "  - style: 50% error: it could not grade them (see the reasons: a data row that does not read, a template "
            "key the data lacks, an unreachable server...; `rft run` reproduces one sample)",
            "  - style.length: 100% timeout: it ran out of time (raise its timeout, or check for pathological outputs)",
            "  - 100% of items have a spread of rewards across their samples: a usable learning signal",
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
            "rewards   samples    mean     std     min     p10     p25  median     p75     p90     max",
            "  (root)        2  0.5000  0.7071  0.0000  0.1000  0.2500  0.5000  0.7500  0.9000  1.0000",
            "statuses    pass      ok     n/a  parse_error  timeout   error",
            "  (root)   50.0%  100.0%    0.0%         0.0%     0.0%    0.0%",
            "GRPO readiness  does not apply: one sample per item: give several samples per item (a `completions` list "
            "per row, or `rft sample`) to check the learning signal",
        ]
    )


# --- readiness and agreement through the Summary ----------------------------------------------


def test_readiness_groups_samples_by_row_and_skips_not_applicable():
    summary = Summary()
    for index, rewards in enumerate([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.5]]):
        for reward in rewards:
            summary.add(index, Result(reward), row_id=f"item-{index}")
    # row 3: an ok 0.0 and a not_applicable sample (TRL skips it): one sample left, so row 3 is left out
    summary.add(3, Result(0.0))
    summary.add(3, Result(0.0, Status.NOT_APPLICABLE))
    readiness = summary.to_dict()["readiness"]
    assert (readiness["items"], readiness["single_sample_items"]) == (3, 1)
    assert readiness["flat_items"] == {"all_high": [0], "all_low": [1], "other_flat": []}
    assert readiness["flat_item_ids"] == {"all_high": ["item-0"], "all_low": ["item-1"], "other_flat": []}
    assert readiness["within_item_std"] == pytest.approx(statistics.stdev([1.0, 0.0, 0.5]) / 3)
    # the readiness advice joins the report's advice
    assert any(line.startswith("33% of items pass (reward >= 1) on every sample") for line in summary.to_dict()["advice"])


def test_agreement_keys_samples_by_row_and_position():
    summary = Summary()
    summary.add(0, Result(1.0, sub_rewards={"a": Result(1.0)}))
    summary.add(0, Result(0.0, sub_rewards={"a": Result(1.0)}))
    summary.add(1, Result.failure(Status.ERROR, "boom"))  # no sub-results: `a` has no sample here
    summary.add(2, Result(1.0, sub_rewards={"a": Result(0.0)}))
    gold = Gold("human", {(0, 0): 1.0, (0, 1): 0.0, (1, 0): 1.0, (2, 0): 1.0})
    agreement = summary.to_dict(gold)["agreement"]
    assert agreement["column"] == "human"
    assert agreement["graders"]["(root)"] == {
        "labelled": 4, "accuracy": 0.75, "spearman": pytest.approx(statistics.correlation([3, 1, 3, 3], [3.0, 1.5, 1.5, 3.0])),
        "true_pass": 2, "false_pass": 0, "false_fail": 1, "true_fail": 1,
    }
    # `a` graded rows 0 (both samples) and 2 only: (0, 1) passes against a failing label
    assert agreement["graders"]["a"]["labelled"] == 3
    assert (agreement["graders"]["a"]["false_pass"], agreement["graders"]["a"]["false_fail"]) == (1, 1)
    rendered = summary.render(gold)
    assert "agreement with gold column 'human' (label and reward pass at >= 1)" in rendered
    assert "  (root)         4    0.7500" in rendered
    assert "agreement" not in summary.to_dict()


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
    assert "  (root)        0       -       -        -       -" in summary.render().splitlines()


def test_render_rankings():
    summary = Summary()
    summary.add(0, Result(1.0, sub_rewards={"genes": _ranked(1), "format": Result(1.0)}))
    summary.add(1, Result(0.7, sub_rewards={"genes": _ranked(2, 0.7), "format": Result(1.0)}))
    lines = summary.render().splitlines()
    start = lines.index("rankings  samples   top@1   top@5  top@max     MRR")
    assert lines[start + 1] == "  genes         2  0.5000  1.0000   1.0000  0.7500"


def test_usage_and_cost_are_summed_over_the_result_tree():
    judge = Result(1.0, usage=Usage(input_tokens=10, output_tokens=2, cost_usd=0.5))
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


def test_render_text_is_what_render_prints():
    summary = _summary(0.5)
    assert render_text(summary.to_dict()) == summary.render()


# --- real runs: `rft score` then `rft report` ---------------------------------------------------


def _rft() -> list[str]:
    beside_python = Path(sys.executable).with_name("rft")
    found = str(beside_python) if beside_python.exists() else shutil.which("rft")
    return [found] if found else [sys.executable, "-m", "rft_core.cli"]


NESTED_SPEC = """\
type: multi
calculate_output: 0.5 * answer + 0.5 * form
graders:
  answer:
    type: multi
    calculate_output: 0.7 * exact + 0.3 * close
    graders:
      exact: {type: string_check, extract: "Answer:\\\\s*(.+)", reference: "{{ item.answer }}", casefold: true}
      close: {type: fuzzy_match, metric: ratio, extract: "Answer:\\\\s*(.+)", reference: "{{ item.answer }}"}
  form: {type: string_check, operation: regex, reference: "(?m)^Answer: .+$"}
"""


def _paths(row, prefix=""):
    """(dotted path, reward) of every sub-result of an output row."""
    for name, sub in (row.get("sub_rewards") or {}).items():
        yield f"{prefix}{name}", sub
        yield from _paths(sub, f"{prefix}{name}.")


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """The example data scored with a nested spec by the real `rft score`: (spec, scores file, rows)."""
    folder = tmp_path_factory.mktemp("scored")
    spec = folder / "spec.yaml"
    spec.write_text(NESTED_SPEC)
    out = folder / "scores.jsonl"
    completed = subprocess.run([*_rft(), "score", str(spec), str(EXAMPLE_DATA), "-o", str(out), "--no-progress"],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    return spec, out, rows


@pytest.mark.integration
def test_rft_report_json_matches_the_statistics_module(scored):
    _, out, rows = scored
    completed = subprocess.run([*_rft(), "report", str(out), "--json", "--pass-threshold", "0.7"],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    by_path = {"(root)": rows}
    for row in rows:
        for path, sub in _paths(row):
            by_path.setdefault(path, []).append(sub)
    assert list(report["graders"]) == ["(root)", "answer", "answer.exact", "answer.close", "form"]
    for path, results in by_path.items():
        rewards = [result["reward"] for result in results]
        cuts = statistics.quantiles(rewards, n=20, method="inclusive")
        stats = report["graders"][path]
        assert stats["samples"] == len(rewards) == 32
        assert stats["mean"] == pytest.approx(statistics.fmean(rewards)), path
        assert stats["std"] == pytest.approx(statistics.stdev(rewards)), path
        assert [stats[key] for key in ("min", "p10", "p25", "median", "p75", "p90", "max")] == pytest.approx(
            [min(rewards), cuts[1], cuts[4], statistics.median(rewards), cuts[14], cuts[17], max(rewards)]), path
        ok = [result["status"] == "ok" for result in results]
        assert stats["pass_rate"] == pytest.approx(
            sum(good and reward >= 0.7 for good, reward in zip(ok, rewards)) / len(rewards)), path
        for status in ("ok", "not_applicable", "parse_error", "timeout", "error"):
            assert stats["status_rates"][status] == pytest.approx(
                sum(result["status"] == status for result in results) / len(results)), (path, status)
    # the example has two outputs without an `Answer:` line: parse errors below the root
    assert report["graders"]["answer.exact"]["status_rates"]["parse_error"] == pytest.approx(2 / 32)
    # readiness: each of the 8 questions has 4 outputs
    groups = {}
    for row in rows:
        groups.setdefault(row["index"], []).append(row["reward"])
    readiness = report["readiness"]
    assert (readiness["items"], readiness["samples_per_item"]["min"]) == (8, 4)
    assert readiness["within_item_std"] == pytest.approx(statistics.fmean(statistics.stdev(g) for g in groups.values()))
    assert readiness["flat"]["items"] == sum(len(set(g)) == 1 for g in groups.values())


@pytest.mark.integration
def test_rft_report_text_and_html(scored, tmp_path):
    _, out, _ = scored
    html = tmp_path / "report.html"
    completed = subprocess.run([*_rft(), "report", str(out), "--html", str(html)],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[:2] == ["rows        8", "samples     32"]
    assert any(line.startswith("  answer.exact ") for line in lines)
    assert "GRPO readiness  8 items with 4 samples each" in lines
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and 'data-grader="answer.close"' in page


def _labelled_data(tmp_path, rows):
    """The example rows with a human label per completion: 1 when the last line names the answer."""
    path = tmp_path / "labelled.jsonl"
    with open(path, "w") as handle:
        for line in EXAMPLE_DATA.read_text().splitlines():
            row = json.loads(line)
            row["human"] = [int(completion.strip().lower().endswith(row["answer"].lower()))
                            for completion in row["completions"]]
            handle.write(json.dumps(row) + "\n")
    return path


@pytest.mark.integration
def test_rft_report_gold_agreement(scored, tmp_path):
    _, out, rows = scored
    data = _labelled_data(tmp_path, rows)
    completed = subprocess.run([*_rft(), "report", str(out), "--data", str(data), "--gold", "human", "--json"],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    agreement = json.loads(completed.stdout)["agreement"]
    labels = [json.loads(line)["human"] for line in data.read_text().splitlines()]
    gold = [labels[row["index"]][row["sample_index"]] for row in rows]
    passes = [row["status"] == "ok" and row["reward"] >= 1.0 for row in rows]
    root = agreement["graders"]["(root)"]
    assert root["labelled"] == 32
    assert root["accuracy"] == pytest.approx(sum(bool(g) == p for g, p in zip(gold, passes)) / 32)
    assert root["false_pass"] == sum(p and not g for g, p in zip(gold, passes))


def test_rft_score_gold_and_html(tmp_path, capsys):
    data = _labelled_data(tmp_path, None)
    html = tmp_path / "score.html"
    assert main(["score", str(EXAMPLE_SPEC), str(data), "-o", str(tmp_path / "out.jsonl"), "--no-progress",
                 "--gold", "human", "--html", str(html)]) == 0
    err = capsys.readouterr().err
    assert "agreement with gold column 'human' (label and reward pass at >= 1)" in err
    assert "GRPO readiness  8 items with 4 samples each" in err
    page = html.read_text()
    assert 'id="agreement"' in page and "rft score" in page


def test_rft_score_checks_the_gold_column_before_scoring(tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    assert main(["score", str(EXAMPLE_SPEC), str(EXAMPLE_DATA), "-o", str(out), "--gold", "nope", "--no-progress"]) == 1
    assert capsys.readouterr().err == f"error: {EXAMPLE_DATA}: no row has a column 'nope' to take gold labels from\n"
    assert not out.exists()


def test_rft_report_gold_needs_data(tmp_path, capsys):
    scores = tmp_path / "scores.jsonl"
    scores.write_text(json.dumps({"index": 0, "reward": 1.0, "status": "ok"}) + "\n")
    assert main(["report", str(scores), "--gold", "label"]) == 1
    assert "--gold COLUMN and --data DATA go together" in capsys.readouterr().err


def test_rft_report_malformed_file_names_the_line(tmp_path, capsys):
    scores = tmp_path / "scores.jsonl"
    scores.write_text(json.dumps({"index": 0, "reward": 1.0, "status": "ok"}) + "\n\n{\"index\": 1, \"rew\n")
    assert main(["report", str(scores)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {scores}: line 3: invalid JSON at column ")
    assert err.endswith("expected an output row of `rft score -o`\n")


def test_an_unwritable_html_path_is_an_error(tmp_path, capsys):
    scores = tmp_path / "scores.jsonl"
    scores.write_text(json.dumps({"index": 0, "reward": 1.0, "status": "ok"}) + "\n")
    html = tmp_path / "missing" / "report.html"
    assert main(["report", str(scores), "--html", str(html)]) == 1
    assert capsys.readouterr().err == f"error: {html}: cannot write the HTML report: No such file or directory\n"
