"""group_model against a real HTTP server on 127.0.0.1: groups in grade_batch, rft score and TRL."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from judge_helpers import FAST, isolated_judge_env, last_user_text, server, verdict  # noqa: F401 (fixtures)
from judge_server import completion

from rft_core import SpecError, Status, load_spec
from rft_core.run import runner
from rft_core.cli import main as rft_main
from rft_core.integrations.trl import RewardFunction


def group_spec(server, **fields):
    return {
        "type": "group_model",
        "model": "judge-model",
        "input": [{"role": "user", "content": "Task: {{ item.prompt }}"}],
        "base_url": server.base_url,
        **FAST,
        **fields,
    }


def shown(body):
    """The responses a request shows, in order."""
    return re.findall(r"Response \d+:\n<sample>(.*?)</sample>", last_user_text(body), re.S)


def score_by_length(body, number):
    """Scores each response len/10: a judge whose verdict the test can predict from the request."""
    return verdict([len(text) / 10 for text in shown(body)])


def test_one_call_scores_every_sample_of_an_item(server):
    server.script = score_by_length
    grader = load_spec(group_spec(server))
    samples = ["aaaa", "bb", "cccccc", "d", "eeeee"]
    items = [{"prompt": "p1"}, {"prompt": "p2"}, {"prompt": "p1"}, {"prompt": "p2"}, {"prompt": "p1"}]
    results = grader.grade_batch(samples, items)
    assert [result.reward for result in results] == [0.4, 0.2, 0.6, 0.1, 0.5]
    assert server.count == 2
    assert sorted(shown(body) for body in server.requests) == [["aaaa", "cccccc", "eeeee"], ["bb", "d"]]
    assert [result.metadata["group_size"] for result in results] == [3, 2, 3, 2, 3]
    # the call's tokens are counted once per group, on its first sample
    assert [result.usage is not None for result in results] == [True, True, False, False, False]
    request = server.requests[0]
    assert request["response_format"]["json_schema"]["schema"]["properties"]["result"] == {
        "type": "array", "items": {"type": "number"}}
    assert last_user_text(request).startswith("Task: p")


def test_rank_mode_rewards_best_one_worst_zero(server):
    server.script = lambda body, number: verdict([2, 3, 1])  # response 2 best, then 3, then 1
    results = load_spec(group_spec(server, mode="rank")).grade_batch(["x", "y", "z"], [{"prompt": "p"}] * 3)
    assert [result.reward for result in results] == [0.0, 1.0, 0.5]
    assert [result.reason for result in results] == ["rank 3 of 3", "rank 1 of 3", "rank 2 of 3"]


@pytest.mark.parametrize(
    ("mode", "content"),
    [
        ("score", json.dumps({"steps": [], "result": [0.5, 0.5]})),  # two scores for three responses
        ("score", json.dumps({"steps": [], "result": [0.5, "high", 0.1]})),
        ("rank", json.dumps({"steps": [], "result": [1, 1, 2]})),  # not a permutation
        ("rank", json.dumps({"steps": [], "result": [1, 2, 4]})),
        ("score", "Response 1: 0.5, Response 2: 0.7, Response 3: 0.1"),  # free text is not trusted
    ],
    ids=["short", "not-a-number", "repeated-rank", "rank-out-of-range", "free-text"],
)
def test_an_incomplete_verdict_fails_the_whole_group_closed(server, mode, content):
    server.script = lambda body, number: completion(content)
    grader = load_spec(group_spec(server, mode=mode))
    results = grader.grade_batch(["x", "y", "z"], [{"prompt": "p"}] * 3)
    assert [(result.status, result.reward) for result in results] == [(Status.PARSE_ERROR, 0.0)] * 3
    assert results[0].reason.startswith("no score or rank for every response (3) in the judge's reply")
    grader.grade_batch(["x", "y", "z"], [{"prompt": "p"}] * 3)
    assert server.count == 2  # an unusable verdict is not cached: asked again


def test_scores_outside_range_are_clamped(server):
    server.script = lambda body, number: verdict([12, -3])
    results = load_spec(group_spec(server, range=[0, 10])).grade_batch(["x", "y"], [{"prompt": "p"}] * 2)
    assert [result.reward for result in results] == [10.0, 0.0]


def test_group_by_names_the_fields_that_make_a_group(server):
    server.script = score_by_length
    grader = load_spec(group_spec(server, group_by=["prompt"]))
    results = grader.grade_batch(["a", "bb"], [{"prompt": "p", "seed": 1}, {"prompt": "p", "seed": 2}])
    assert [result.reward for result in results] == [0.1, 0.2]
    assert server.count == 1


def test_a_lone_sample_is_a_clear_error_without_a_request(server):
    server.script = score_by_length
    result = load_spec(group_spec(server)).grade("x", {"prompt": "p"})
    assert (result.status, result.error_code) == (Status.ERROR, "group_unavailable")
    assert "this item has 1 here" in result.reason and "`rft run` grades one sample" in result.reason
    results = load_spec(group_spec(server)).grade_batch(["x", "y", "z"], [{"prompt": "p"}, {"prompt": "p"}, {"prompt": "q"}])
    assert [result.status for result in results] == [Status.OK, Status.OK, Status.ERROR]
    assert server.count == 1


def test_rft_run_says_groups_are_not_available(server, tmp_path, capsys):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(group_spec(server)))
    assert rft_main(["run", str(spec), "--sample", "x", "--item", '{"prompt": "p"}', "--format", "rft"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["status"] == "error" and "group_model judges the samples of an item together" in printed["reason"]
    assert server.count == 0


def test_too_large_a_group_is_refused(server):
    results = load_spec(group_spec(server, max_group_size=2)).grade_batch(["x", "y", "z"], [{"prompt": "p"}] * 3)
    assert {result.error_code for result in results} == {"group_too_large"}
    assert server.count == 0


def test_rft_score_keeps_each_rows_completions_in_one_batch(server, tmp_path, monkeypatch):
    """Batches of 3 samples, rows of 2 completions: without care the second row would straddle two batches."""
    monkeypatch.setattr(runner, "BATCH_SIZE", 3)
    server.script = score_by_length
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(group_spec(server)))
    data = tmp_path / "data.jsonl"
    rows = [{"prompt": f"p{n}", "completions": ["x" * (n + 1), "y" * (n + 2)]} for n in range(5)]
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "out.jsonl"
    assert rft_main(["score", str(spec), str(data), "-o", str(out), "--no-progress"]) == 0
    scored = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["status"] for row in scored] == ["ok"] * 10
    assert [row["reward"] for row in scored] == [(n + 1) / 10 if s == 0 else (n + 2) / 10 for n in range(5) for s in (0, 1)]
    assert server.count == 5
    assert all(len(shown(body)) == 2 for body in server.requests)


def test_batches_stretch_to_the_end_of_a_row():
    from rft_core.run.data import tasks_from_rows

    tasks = tasks_from_rows([{"completions": ["a", "b", "c"]}, {"completions": ["d", "e"]}, {"output_text": "f"}])
    batches = list(runner._batches(iter(tasks), 2))
    assert [[(task.index, task.sample.output_text) for task in batch] for batch in batches] == [
        [(0, "a"), (0, "b"), (0, "c")], [(1, "d"), (1, "e")], [(2, "f")]]


def test_trl_groups_the_completions_of_one_prompt(server):
    server.script = score_by_length
    reward = RewardFunction(load_spec(group_spec(server)))
    rewards = reward(prompts=["p1", "p1", "p2", "p2"], completions=["a", "bbb", "cc", "dddd"])
    assert rewards == [0.1, 0.3, 0.2, 0.4]
    assert server.count == 2


def test_trl_batch_that_cuts_a_group_to_one_sample(server):
    """Across devices a prompt's completions can be split; the lone one is an error (reward 0), logged."""
    server.script = score_by_length
    logged = {}
    reward = RewardFunction(load_spec(group_spec(server)))
    rewards = reward(prompts=["p1", "p1", "p2"], completions=["a", "bbb", "cc"],
                     log_metric=lambda name, value: logged.__setitem__(name, value))
    assert rewards == [0.1, 0.3, 0.0]
    assert logged["rewards/group_model/frac_error"] == pytest.approx(1 / 3)
    assert server.count == 1


def test_input_must_not_read_the_sample():
    spec = {"type": "group_model", "model": "m", "input": [{"role": "user", "content": "{{ sample.output_text }}"}]}
    with pytest.raises(SpecError, match=re.escape("input[0] reads ['sample.output_text']: group_model appends")):
        load_spec(spec)
