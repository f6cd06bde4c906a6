"""TRL's async GRPO (``trl.experimental.async_grpo``) pickles the reward functions into a spawned child
process and scores there: ours survive it, keep their names and give the same rewards.

Mirrors ``AsyncRolloutWorker.start`` (``pickle.dumps`` of the kwargs, then an ``mp.get_context("spawn")``
process) and ``_AsyncRolloutLoop._score_group`` (async functions awaited, sync ones in ``asyncio.to_thread``,
called with ``completions``, ``prompts``, ``completion_ids`` and the dataset columns) from TRL 1.16.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
from pathlib import Path

import pytest
from trl.trainer.utils import get_callable_name, is_async_callable

from rft_core.integrations.trl import reward_funcs

pytestmark = pytest.mark.integration

SPEC = Path(__file__).resolve().parent.parent / "examples" / "spec.yaml"
KWARGS = {
    "completions": ["Answer: Paris", "Paris", "Answer: Lyon"],
    "prompts": ["Capital of France?"] * 3,
    "completion_ids": [[1], [2], [3]],
    "answer": ["Paris"] * 3,
}


def score_group(funcs, kwargs):
    """``_score_group``'s calls, in the child."""

    async def gather():
        return await asyncio.gather(*[
            func(**kwargs) if is_async_callable(func) else asyncio.to_thread(func, **kwargs) for func in funcs
        ])

    return asyncio.run(gather())


def child(payload: bytes, queue) -> None:
    funcs = pickle.loads(payload)
    queue.put(([get_callable_name(func) for func in funcs], score_group(funcs, KWARGS)))


def test_reward_functions_score_in_a_spawned_child():
    funcs = reward_funcs(str(SPEC), split=True) + reward_funcs(str(SPEC))
    payload = pickle.dumps(funcs)  # AsyncRolloutWorker.start checks exactly this first
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=child, args=(payload, queue), daemon=True)
    process.start()
    try:
        names, rewards = queue.get(timeout=240)
    finally:
        process.join(60)
        if process.is_alive():
            process.kill()
    assert names == ["format", "exact", "close", "trivia"]
    assert rewards == score_group(funcs, KWARGS)
    assert rewards[3][0] == 1.0 and rewards[3][2] == pytest.approx(0.1 + 0.2 * rewards[2][2])
