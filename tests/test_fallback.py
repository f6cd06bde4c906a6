"""fallback: a rule first, a judge (a real HTTP server on 127.0.0.1) only where the rule cannot decide."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from judge_helpers import FAST, isolated_judge_env, verdict  # noqa: F401 (a fixture)
from judge_server import JudgeServer

from rft_core import SpecError, Status, load_spec
from rft_core.cli import main as rft_main
from rft_core.run.data import tasks_from_rows
from rft_core.run.runner import run


@pytest.fixture
def server():
    with JudgeServer(lambda body, number: verdict(0.8), lifetime=60) as running:
        yield running


def chain(server, **fields):
    return {
        "type": "fallback",
        "graders": [
            {"type": "math"},
            {"type": "score_model", "model": "judge-model", "base_url": server.base_url,
             "input": [{"role": "user", "content": "Reference {{ item.answer }}. Answer: {{ sample.output_text }}"}],
             "cost_per_million_tokens": {"prompt": 1, "completion": 2}, **FAST},
        ],
        **fields,
    }


DECIDED = [("The answer is \\boxed{4}.", 1.0), ("\\boxed{5}", 0.0), ("#### 4", 1.0)]  # math parses these
UNDECIDED = ["four, I think", "It is the number after three."]  # math finds no answer: parse_error


def test_the_judge_is_never_called_when_the_rule_decides(server):
    grader = load_spec(chain(server))
    results = grader.grade_batch([text for text, _ in DECIDED], [{"answer": "4"}] * 3)
    assert [result.reward for result in results] == [reward for _, reward in DECIDED]
    assert [result.metadata["decided_by"] for result in results] == ["math"] * 3
    assert [list(result.sub_rewards) for result in results] == [["math"]] * 3
    assert server.count == 0


def test_only_undecided_samples_reach_the_judge(server):
    grader = load_spec(chain(server))
    samples = [DECIDED[0][0], UNDECIDED[0], DECIDED[1][0], UNDECIDED[1]]
    results = grader.grade_batch(samples, [{"answer": "4"}] * 4)
    assert server.count == 2
    assert sorted(body["messages"][-1]["content"].split("Answer: ")[1] for body in server.requests) == sorted(
        f"<sample>{text}</sample>" for text in UNDECIDED)
    assert [result.reward for result in results] == [1.0, 0.8, 0.0, 0.8]
    judged = results[1]
    assert judged.metadata == {"decided_by": "score_model", "stages_run": 2}
    assert judged.sub_rewards["math"].status is Status.PARSE_ERROR  # each stage's status ...
    assert judged.sub_rewards["score_model"].usage.cost_usd == pytest.approx((20 + 5 * 2) / 1e6)  # ... and cost


def test_until_a_confident_reward_sends_wrong_answers_on_too(server):
    """With reward_at_least: 1, the rule decides passes only; its fails get a second opinion."""
    grader = load_spec(chain(server, until={"reward_at_least": 1}))
    results = grader.grade_batch([text for text, _ in DECIDED], [{"answer": "4"}] * 3)
    assert [result.metadata["decided_by"] for result in results] == ["math", "score_model", "math"]
    assert server.count == 1


def test_a_score_in_the_middle_is_not_confident():
    """The first stage decides only confident scores (>= 0.8 or <= 0.2); the second the rest."""
    spec = {
        "type": "fallback",
        "until": {"status": "ok", "reward_at_least": 0.8, "reward_at_most": 0.2},
        "graders": [
            {"type": "fuzzy_match", "reference": "yes please", "name": "fuzzy"},  # 1.0, 0.95, 0.43, 0.0
            {"type": "string_check", "operation": "like", "reference": "ye", "name": "lenient"},
        ],
    }
    results = load_spec(spec).grade_batch(["yes please", "yes pleas", "yeah", "zzz"], [{}] * 4)
    assert [result.metadata["decided_by"] for result in results] == ["fuzzy", "fuzzy", "lenient", "fuzzy"]
    assert [result.reward for result in results] == [1.0, pytest.approx(0.947, abs=1e-3), 1.0, 0.0]


def test_the_last_stage_stands_whatever_it_says(server):
    server.script = lambda body, number: verdict("not a number")
    result = load_spec(chain(server)).grade(UNDECIDED[0], {"answer": "4"})
    assert (result.status, result.reward) == (Status.PARSE_ERROR, 0.0)
    assert result.error_codes() == {"math": "sample_parse_error", "score_model": "model_grader_parse_error"}


def test_one_sample_and_async_paths_match_the_batch(server):
    grader = load_spec(chain(server))
    single = grader.grade(UNDECIDED[0], {"answer": "4"})
    awaited = asyncio.run(grader.agrade(DECIDED[0][0], {"answer": "4"}))
    assert (single.reward, single.metadata["decided_by"]) == (0.8, "score_model")
    assert (awaited.reward, awaited.metadata["decided_by"]) == (1.0, "math")
    assert server.count == 1


def test_rft_score_judge_call_rate_is_the_rules_undecided_rate(server, tmp_path, capsys):
    # 5 of 20 undecided, each a different text (identical judgments in flight would share one call)
    texts = [DECIDED[n % 3][0] if n % 4 else UNDECIDED[n % 8 // 4] + "!" * n for n in range(20)]
    rows = [{"output_text": text, "answer": "4"} for text in texts]
    tasks = list(tasks_from_rows(rows))
    scored = list(run(load_spec(chain(server)), tasks))
    undecided = sum(entry.result.sub_rewards["math"].status is not Status.OK for entry in scored)
    assert undecided == 5
    assert server.count == undecided
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(chain(server)))
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert rft_main(["score", str(spec), str(data), "-o", str(tmp_path / "out.jsonl"), "--no-progress"]) == 0
    assert server.count == 5  # every judged sample is in the cache now: no call at all
    summary = capsys.readouterr().err
    assert re.search(r"score_model\s+5\s", summary)  # the judge stage graded 5 of the 20 samples


def test_a_dict_of_stages_keeps_its_order_and_names():
    spec = {"type": "fallback", "graders": {
        "strict": {"type": "string_check", "reference": "a"},
        "loose": {"type": "string_check", "operation": "ilike", "reference": "a"}}}
    result = load_spec(spec).grade("A", {})
    assert list(result.sub_rewards) == ["strict"]
    assert load_spec(spec).grade("bA", {}).metadata["decided_by"] == "strict"
    result = load_spec({**spec, "until": {"reward_at_least": 1}}).grade("bA", {})
    assert (result.reward, result.metadata["decided_by"]) == (1.0, "loose")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"graders": [{"type": "math"}]}, "graders: a fallback needs at least two graders, got 1"),
        ({"graders": [{"type": "math"}, {"type": "nope"}]}, "graders.1.type: unknown grader type 'nope'"),
        ({"graders": [{"type": "math"}, {"type": "math"}], "until": "done"}, "until.status: Input should be"),
        ({"graders": [{"type": "math"}, {"type": "math"}], "until": {"at_least": 1}}, "until.at_least: Extra inputs"),
    ],
    ids=["one-stage", "unknown-type", "bad-status", "unknown-key"],
)
def test_spec_errors_name_the_path(fields, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        load_spec({"type": "fallback", **fields})


def test_repeated_stage_types_get_distinct_keys():
    grader = load_spec({"type": "fallback", "graders": [{"type": "math"}, {"type": "math", "name": "again"},
                                                       {"type": "math"}]})
    assert [key for key, _ in grader.stages] == ["math", "again", "math_2"]


def test_as_a_trl_reward_function_only_undecided_completions_reach_the_judge(server):
    from rft_core.integrations.trl import reward_funcs

    (reward,) = reward_funcs(chain(server))
    assert reward.__name__ == "fallback" and not __import__("inspect").iscoroutinefunction(reward.__call__)
    rewards = reward(prompts=["q"] * 3, completions=[DECIDED[0][0], UNDECIDED[0], DECIDED[1][0]], answer=["4"] * 3)
    assert rewards == [1.0, 0.8, 0.0]
    assert server.count == 1
