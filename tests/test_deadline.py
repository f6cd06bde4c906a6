"""The runner's deadline (rft_core/run/deadline.py): a grade that never finishes gets status timeout and
the run goes on, for sync, async and batch graders, in this process and in worker processes."""

from __future__ import annotations

import asyncio
import inspect
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rft_core import Grader, Result, Status, load_spec, score
from rft_core.run import runner
from rft_core.run.deadline import DEFAULT_GRADER_TIMEOUT, Deadline, grader_timeout
from rft_core.run.runner import run
from rft_core.kernel.runtime import Runtime
from rft_core.run.data import tasks_from_rows
from slow_plugin import Stuck

TESTS = Path(__file__).parent
BUDGET = 0.5  # seconds a sample may take in these tests


class AsyncStuck(Grader):
    """1.0, except that "hang" awaits an event nobody sets."""

    type = "async_stuck"

    async def evaluate(self, sample, item):
        if sample.output_text == "hang":
            await asyncio.Event().wait()
        await asyncio.sleep(0)
        return Result(1.0)


class BatchStuck(Grader):
    """A vectorised grader whose batch path hangs on any batch holding "sleep" (its one-by-one path too)."""

    type = "batch_stuck"

    def evaluate(self, sample, item):
        return self.evaluate_batch([sample], [item])[0]

    def evaluate_batch(self, samples, items):
        if any(sample.output_text == "sleep" for sample in samples):
            time.sleep(3600)
        return [Result(float(len(sample.output_text))) for sample in samples]


def statuses(results):
    return [result.status for result in results]


@pytest.mark.parametrize("grader", [Stuck(), AsyncStuck(), BatchStuck()], ids=["sync", "async", "batch"])
def test_a_sample_that_never_finishes_times_out_and_the_others_are_graded(grader):
    stuck = "hang" if isinstance(grader, AsyncStuck) else "sleep"
    rows = [{"output_text": text} for text in ["a", "bb", stuck, "dddd", "e"]]
    scored = [entry.result for entry in run(grader, tasks_from_rows(rows), timeout=BUDGET)]
    assert statuses(scored) == [Status.OK, Status.OK, Status.TIMEOUT, Status.OK, Status.OK]
    assert scored[2].reason == f"{grader.name}: the grade did not finish within grader_timeout={BUDGET:g}s; it was abandoned"
    assert scored[2].error_code == "timeout_error"
    expected = [1.0, 2.0, None, 4.0, 1.0] if isinstance(grader, BatchStuck) else [1.0, 1.0, None, 1.0, 1.0]
    assert [result.reward if result.status is Status.OK else None for result in scored] == expected


class Steady(Grader):
    """1.0 after 0.1 s a sample, one sample after another; counts the batches it is given."""

    type = "steady"

    def __init__(self, *args, **fields):
        super().__init__(*args, **fields)
        self.calls = []

    def evaluate_batch(self, samples, items):
        self.calls.append(len(samples))
        return list(map(self.evaluate, samples, items))

    def evaluate(self, sample, item):
        time.sleep(0.1)
        return Result(1.0)


def test_a_batch_longer_than_one_samples_budget_is_split_once_then_graded_at_its_pace(monkeypatch):
    monkeypatch.setattr(runner, "BATCH_SIZE", 6)
    grader = Steady()
    results = [entry.result for entry in run(grader, tasks_from_rows([{"output_text": "x"}] * 12), timeout=BUDGET)]
    assert statuses(results) == [Status.OK] * 12  # a slow batch is not a timeout: no sample ran over
    # 6 x 0.1 s is over the 0.5 s budget: split in halves; the next batch is allowed its pace (0.6 s)
    assert grader.calls == [6, 3, 3, 6]


def test_a_python_loop_past_the_deadline_is_stopped_not_left_burning():
    [result] = Deadline(BUDGET).grade(Stuck(), ["spin"], [{}])
    assert result.status is Status.TIMEOUT
    spin_line = _line_of(Stuck.evaluate, "while True:")
    deadline = time.monotonic() + 10
    while _threads_at(spin_line) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _threads_at(spin_line)


def _line_of(function, statement: str) -> int:
    lines, first = inspect.getsourcelines(function)
    return first + next(n for n, line in enumerate(lines) if line.strip() == statement)


def _threads_at(line: int) -> list[int]:
    """The threads now running ``line`` of slow_plugin.py."""
    return [
        ident for ident, frame in sys._current_frames().items()
        if frame.f_code.co_filename.endswith("slow_plugin.py") and frame.f_lineno == line
    ]


def test_the_spec_field_sets_the_budget_and_the_caller_overrides_it(registry):
    registry.register(Stuck)
    grader = load_spec({"type": "stuck", "grader_timeout": 0.25}, registry=registry)
    assert grader_timeout(grader) == 0.25
    assert grader_timeout(grader, 7.0) == 7.0
    assert grader_timeout(Stuck()) == DEFAULT_GRADER_TIMEOUT
    [result] = [entry.result for entry in run(grader, tasks_from_rows([{"output_text": "sleep"}]))]
    assert result.reason.endswith("within grader_timeout=0.25s; it was abandoned")


def test_score_takes_the_budget_too():
    results = score(Stuck(), [{"output_text": "sleep"}, {"output_text": "x"}], timeout=BUDGET)
    assert statuses(results) == [Status.TIMEOUT, Status.OK]


def test_the_budget_must_be_positive(registry):
    registry.register(Stuck)
    with pytest.raises(Exception, match="grader_timeout"):
        load_spec({"type": "stuck", "grader_timeout": 0}, registry=registry)
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        list(run(Stuck(), tasks_from_rows([{"output_text": "a"}]), timeout=-1))


@pytest.mark.parametrize("stuck", ["sleep", "gil"], ids=["python", "c_code_holding_the_gil"])
def test_worker_processes_past_the_deadline_are_replaced_and_the_run_goes_on(monkeypatch, stuck):
    monkeypatch.setattr(runner, "BATCH_SIZE", 2)
    rows = [{"output_text": text} for text in ["a", "b", stuck, "c", "d", "e", "f"]]
    results = [entry.result for entry in run(Stuck(), tasks_from_rows(rows), workers=2, timeout=BUDGET)]
    # batches [a, b] [stuck, c] [d, e] [f]: a worker stops a Python grade itself; one stuck in C code
    # holding the GIL is killed with its batch ("c" too), and a new pool grades the batches after it
    sibling = Status.TIMEOUT if stuck == "gil" else Status.OK
    assert statuses(results) == [Status.OK, Status.OK, Status.TIMEOUT, sibling, Status.OK, Status.OK, Status.OK]


def test_rft_score_with_a_plugin_that_never_finishes_writes_every_row(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("type: stuck\n")
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"output_text": text}) + "\n" for text in ["a", "sleep", "spin", "b"]))
    out = tmp_path / "out.jsonl"
    completed = subprocess.run(
        [sys.executable, "-c", "import slow_plugin; slow_plugin.main()", "score", str(spec), str(data), "-o", str(out),
         "--grader-timeout", "1", "--no-progress"],
        cwd=TESTS, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["status"] for row in rows] == ["ok", "timeout", "timeout", "ok"]
    assert rows[1]["reason"] == "stuck: the grade did not finish within grader_timeout=1s; it was abandoned"


# --- TRL reward functions ----------------------------------------------------------------------


def test_a_trl_reward_function_does_not_hang_the_training_step():
    from rft_core.integrations.trl import RewardFunction

    reward = RewardFunction(Stuck(), timeout=BUDGET)
    assert reward(prompts=["p"] * 3, completions=["a", "sleep", "b"]) == [1.0, 0.0, 1.0]


def test_an_async_trl_reward_function_cancels_a_grade_at_the_deadline():
    from rft_core.integrations.trl import AsyncRewardFunction

    for limit in (None, 1):
        reward = AsyncRewardFunction(AsyncStuck(), timeout=BUDGET, max_concurrency=limit)
        assert asyncio.run(reward(prompts=["p"] * 3, completions=["a", "hang", "b"])) == [1.0, 0.0, 1.0]


def test_split_trl_reward_functions_share_the_specs_budget(registry):
    from rft_core.integrations.trl import reward_funcs

    registry.register(Stuck)
    spec = {"type": "multi", "grader_timeout": 0.25, "graders": {"a": {"type": "stuck"}, "b": {"type": "stuck"}}}
    functions = reward_funcs(spec, split=True, registry=registry)
    assert [function.deadline.seconds for function in functions] == [0.25, 0.25]
    assert functions[0](completions=["sleep", "x"]) == [0.0, 1.0]


def test_an_openai_strict_spec_may_set_its_budget(registry):
    spec = {"openai_strict": True, "type": "string_check", "reference": "x", "operation": "eq", "grader_timeout": 5}
    assert grader_timeout(load_spec(spec, registry=registry)) == 5


class ThreadName(Grader):
    """Reports the thread that grades it."""

    type = "thread_name"

    def evaluate(self, sample, item):
        return Result(1.0, metadata={"thread": threading.current_thread()})


def test_the_runtime_keeps_grading_threads_for_the_next_batch_and_its_close_ends_them():
    with Runtime() as runtime:
        grader = ThreadName().bind(runtime)
        deadline = Deadline(BUDGET * 10)
        first = deadline.grade(grader, ["a"], [{}])[0].metadata["thread"]
        second = deadline.grade(grader, ["b"], [{}])[0].metadata["thread"]
        assert first is second and first is not threading.current_thread()  # reused, not started again
    first.join(10)
    assert not first.is_alive()
