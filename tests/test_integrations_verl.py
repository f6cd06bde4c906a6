"""veRL calls ``compute_score`` as its reward managers do.

veRL is not installed here (it needs tensordict and hydra and pins transformers), so each test mirrors
the call from veRL 0.9.1's source, cited: the loading (``verl/utils/import_utils.py::load_module``,
``verl/trainer/ppo/reward.py::get_custom_reward_fn``) and the managers' calls.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections import defaultdict
from functools import partial

import pytest

from rft_core import Grader, Result, RftError
from rft_core.integrations.verl import compute_score, compute_score_async, compute_score_batch

SPEC = {
    "type": "multi",
    "calculate_output": "0.2 * format + 0.8 * exact",
    "graders": {
        "format": {"type": "string_check", "operation": "regex", "reference": "\\\\boxed\\{.+\\}"},
        "exact": {"type": "string_check", "extract": "\\\\boxed\\{(.+?)\\}", "reference": "{{ item.answer }}"},
    },
}
KEYS = ["score", "format", "exact", "ungradable"]


def load_like_verl(name: str, reward_kwargs: dict):
    """``get_custom_reward_fn``: load_extern_object(path, name) for path ``pkg://rft_core.integrations.verl``
    (load_module's pkg branch: import_module of the dotted path), then wrap it so ``reward_kwargs`` are merged
    into every call (``_call_with_kwargs`` / ``_call_with_kwargs_async``: the config's kwargs take precedence)."""
    module_path = "pkg://rft_core.integrations.verl"
    raw_fn = getattr(importlib.import_module(module_path[len("pkg://"):].replace("/", ".")), name)

    def call(raw_fn, extra_kwargs, *args, **kwargs):
        return raw_fn(*args, **{**kwargs, **extra_kwargs})

    async def call_async(raw_fn, extra_kwargs, *args, **kwargs):
        return await raw_fn(*args, **{**kwargs, **extra_kwargs})

    if not inspect.iscoroutinefunction(raw_fn):
        return partial(call, raw_fn, reward_kwargs)
    return partial(call_async, raw_fn, reward_kwargs)


BATCH = [
    # (data_source, response, ground_truth, score, ungradable)
    ("math", "so \\boxed{4}", "4", 1.0, 0.0),
    ("math", "so \\boxed{5}", "4", 0.2, 0.0),
    ("math", "four", "4", 0.0, 0.0),
    ("json", "\\boxed{7}", '{"answer": "7"}', 1.0, 0.0),  # a JSON-object ground truth is the item itself
    ("json", "\\boxed{7}", '{"solution": "7"}', 0.2, 1.0),  # no item.answer: exact fails, the sample is flagged
]


def test_naive_reward_manager_call():
    """``verl/workers/reward_manager/naive.py::NaiveRewardManager.__call__``: one keyword call per sample,
    extra_info holding num_turns and rollout_reward_scores, every key appended to reward_extra_info."""
    compute = load_like_verl("compute_score", {"spec": SPEC})
    reward_extra_info = defaultdict(list)
    rewards = []
    for data_source, response_str, ground_truth, _, _ in BATCH:
        extra_info = {"index": 0}
        extra_info["num_turns"] = None
        extra_info["rollout_reward_scores"] = {}
        score = compute(data_source=data_source, solution_str=response_str, ground_truth=ground_truth,
                        extra_info=extra_info)
        rewards.append(score["score"])
        for key, value in score.items():
            reward_extra_info[key].append(value)
    assert rewards == pytest.approx([case[3] for case in BATCH])
    assert list(reward_extra_info) == KEYS
    assert all(len(values) == len(BATCH) for values in reward_extra_info.values())  # veRL needs aligned columns
    assert reward_extra_info["ungradable"] == [case[4] for case in BATCH]
    assert reward_extra_info["exact"] == [1.0, 0.0, 0.0, 1.0, 0.0]


@pytest.mark.parametrize("name", ["compute_score", "compute_score_async"])
def test_reward_loop_run_single(name):
    """``verl/experimental/reward_loop/reward_manager/naive.py::NaiveRewardManager.run_single``: awaited when
    the (wrapped) function is a coroutine function, else run in the loop's default executor."""
    compute = load_like_verl(name, {"spec": SPEC})
    assert inspect.iscoroutinefunction(compute) == (name == "compute_score_async")

    async def run_single(data_source, response_str, ground_truth):
        loop = asyncio.get_running_loop()
        extra_info = {"num_turns": 2, "rollout_reward_scores": {}}
        if inspect.iscoroutinefunction(compute):
            result = await compute(data_source=data_source, solution_str=response_str, ground_truth=ground_truth,
                                   extra_info=extra_info)
        else:
            result = await loop.run_in_executor(None, lambda: compute(
                data_source=data_source, solution_str=response_str, ground_truth=ground_truth, extra_info=extra_info))
        return {"reward_score": result["score"], "reward_extra_info": dict(result)}

    async def all_samples():
        return await asyncio.gather(*(run_single(*case[:3]) for case in BATCH))

    outcomes = asyncio.run(all_samples())
    assert [o["reward_score"] for o in outcomes] == pytest.approx([case[3] for case in BATCH])
    assert all(list(o["reward_extra_info"]) == KEYS for o in outcomes)


def test_batch_reward_manager_verify():
    """``verl/workers/reward_manager/batch.py::BatchRewardManager.verify``: one keyword call per batch with
    the manager's reward_kwargs; extra_infos get rollout_reward_scores."""
    compute = load_like_verl("compute_score_batch", {"spec": SPEC})
    extras = [{"rollout_reward_scores": {}} for _ in BATCH]
    scores = compute(
        data_sources=[case[0] for case in BATCH], solution_strs=[case[1] for case in BATCH],
        ground_truths=[case[2] for case in BATCH], extra_infos=extras,
    )
    assert [score["score"] for score in scores] == pytest.approx([case[3] for case in BATCH])
    assert [score["ungradable"] for score in scores] == [case[4] for case in BATCH]
    with pytest.raises(ValueError, match="one of each per sample"):
        compute(data_sources=["a"], solution_strs=["x", "y"], ground_truths=["1", "2"], extra_infos=None)


def test_item_holds_data_source_and_extra_info():
    spec = {"type": "string_check", "reference": "{{ item.data_source }}-{{ item.extra_info.split }}"}
    assert compute_score("gsm8k", "gsm8k-test", 3, {"split": "test"}, spec=spec)["score"] == 1.0


def test_spec_from_the_environment(monkeypatch, tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("type: string_check\nreference: '{{ item.answer }}'\n")
    monkeypatch.setenv("RFT_SPEC", str(path))
    assert compute_score("d", "42", 42) == {"score": 1.0, "ungradable": 0.0}  # a number is item.answer
    monkeypatch.delenv("RFT_SPEC")
    with pytest.raises(RftError, match="no spec: pass spec="):
        compute_score("d", "42", 42)


def test_a_component_named_score_is_renamed():
    spec = {"type": "multi", "graders": {"score": {"type": "string_check", "reference": "a"}}}
    assert compute_score("d", "a", None, spec=spec) == {"score": 1.0, "component.score": 1.0, "ungradable": 0.0}


class Judge(Grader):
    """An I/O grader: 1.0 when the text is 'yes'."""

    type = "judge"

    async def evaluate(self, sample, item):
        await asyncio.sleep(0)
        return Result(float(sample.output_text == "yes"))


def test_async_variant_awaits_io_graders():
    judge = Judge()
    assert asyncio.run(compute_score_async("d", "yes", None, spec=judge))["score"] == 1.0
    assert compute_score_batch(["d", "d"], ["yes", "no"], [None, None], spec=judge)[1]["score"] == 0.0
