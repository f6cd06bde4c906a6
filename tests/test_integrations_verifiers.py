"""The verifiers adapter, called as verifiers' Rubric calls group reward functions.

verifiers is not installed here (its releases pin openai below the SDK this project tests with, and
pull in sandboxes and MCP clients), so the calls are mirrored from verifiers 0.2.1's
``verifiers/rubrics/rubric.py``: ``Rubric._is_group_func`` (plural parameter names make a group
function), ``Rubric.group_score_objects`` and ``_call_group_reward_func`` (only the parameters a
function names are passed), and ``Rubric.score_group`` (functions in order, each over the whole
group; reward = the weighted sum; every function's score is a metric).
"""

from __future__ import annotations

import asyncio
import inspect
import pickle

import pytest

from rft_core import RftError, load_spec
from rft_core.integrations.verifiers import GroupReward, reward_functions, rubric

LINEAR = {
    "type": "multi", "name": "quiz", "calculate_output": "0.25 * format + 0.75 * exact",
    "graders": {
        "format": {"type": "string_check", "operation": "regex", "reference": "^Answer: "},
        "exact": {"type": "string_check", "extract": "Answer: (.+)", "reference": "{{ item.answer }}"},
    },
}
MINIMUM = {**LINEAR, "calculate_output": "min(format, exact)"}
GROUP_INDICATORS = {"states", "prompts", "completions", "answers", "tasks", "infos"}


def score_group(funcs, weights, states):
    """``Rubric.score_group`` over ``group_score_objects(states)``."""
    objects = {
        "prompts": [state["prompt"] for state in states],
        "completions": [state["completion"] for state in states],
        "answers": [state.get("answer", "") for state in states],
        "states": states,
        "tasks": [None for _ in states],
        "infos": [state.get("info", {}) for state in states],
    }
    rewards, metrics = [0.0] * len(states), {}
    for func, weight in zip(funcs, weights):
        parameters = inspect.signature(func).parameters
        assert set(parameters) & GROUP_INDICATORS  # verifiers calls it once per group
        scores = asyncio.run(_maybe_await(func(**{k: v for k, v in objects.items() if k in parameters})))
        metrics[func.__name__] = scores
        rewards = [reward + score * weight for reward, score in zip(rewards, scores)]
    return rewards, metrics


async def _maybe_await(value):
    return await value if inspect.isawaitable(value) else value


def states():
    return [
        {"prompt": [{"role": "user", "content": "2+2?"}], "completion": "Answer: 4", "answer": "4"},
        {"prompt": "2+2?", "completion": [{"role": "assistant", "content": "Answer: 5"}], "answer": "4"},
        {"prompt": "2+2?", "completion": "4", "answer": "", "info": {"answer": "4"}},  # the answer in info
        {"prompt": "2+2?", "completion": "Answer: 4", "answer": '{"solution": "4"}'},  # no item.answer
    ]


def test_a_weighted_sum_becomes_one_function_per_component():
    funcs, weights = reward_functions(LINEAR)
    assert [f.__name__ for f in funcs] == ["format", "exact", "ungradable"] and weights == [0.25, 0.75, 0.0]
    rewards, metrics = score_group(funcs, weights, states())
    assert rewards == [1.0, 0.25, 0.0, 0.25]
    assert metrics["exact"] == [1.0, 0.0, 0.0, 0.0]
    assert metrics["ungradable"] == [0.0, 0.0, 0.0, 1.0]  # exact could not read item.answer: flagged, not a silent 0


def test_another_formula_gives_the_root_and_logs_components():
    funcs, weights = reward_functions(MINIMUM)
    assert [f.__name__ for f in funcs] == ["quiz", "format", "exact", "ungradable"] and weights == [1.0, 0.0, 0.0, 0.0]
    rewards, metrics = score_group(funcs, weights, states())
    assert rewards == [1.0, 0.0, 0.0, 0.0] and metrics["format"] == [1.0, 1.0, 0.0, 1.0]


def test_the_group_is_graded_once():
    grader = load_spec(LINEAR)
    calls = []
    original = grader.grade_batch
    grader.grade_batch = lambda samples, items: calls.append(len(samples)) or original(samples, items)
    funcs, weights = reward_functions(grader)
    group = states()
    score_group(funcs, weights, group)
    assert calls == [4]
    group[0]["completion"] = "Answer: 5"  # a new completion in a state is graded again
    assert score_group(funcs, weights, group)[1]["exact"][0] == 0.0 and calls == [4, 4]


def test_functions_pickle():
    funcs, _ = reward_functions(LINEAR)
    copy = pickle.loads(pickle.dumps(funcs[1]))
    assert isinstance(copy, GroupReward) and copy.__name__ == "exact"
    assert score_group([copy], [1.0], states())[0] == [1.0, 0.0, 0.0, 0.0]


def test_rubric_needs_verifiers_with_a_rubric(monkeypatch):
    import sys
    import types

    monkeypatch.setitem(sys.modules, "verifiers", None)
    with pytest.raises(RftError, match="needs the 'verifiers' package"):
        rubric(LINEAR)
    monkeypatch.setitem(sys.modules, "verifiers", types.SimpleNamespace(__version__="0.4.0"))  # no Rubric there
    with pytest.raises(RftError, match="verifiers 0.4.0 has no Rubric"):
        rubric(LINEAR)
