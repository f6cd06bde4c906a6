"""run(..., workers=N) and rft score --workers N: batches graded in worker processes, in input order."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rft_core import Grader, Result, Status
from rft_core.kernel import registry as registry_module
from rft_core.run import runner
from rft_core.cli import main
from rft_core.run.data import read_tasks, tasks_from_rows
from rft_core.run.runner import run
from rft_core.kernel.runtime import Runtime
from rft_core.kernel.spec import load_spec

EXAMPLES = Path(__file__).parent.parent / "examples"

# --- throwaway graders (module level: the worker processes import them by name) -------


class Fragile(Grader):
    """1.0, except that "boom" makes it raise and "die" ends the worker process."""

    type = "fragile"

    def evaluate(self, sample, item):
        if sample.output_text == "boom":
            raise RuntimeError("kaput")
        if sample.output_text == "die":
            os._exit(3)
        return Result(1.0, metadata={"pid": os.getpid()})


def _rows(scored) -> list[dict]:
    rows = [entry.to_row() for entry in scored]
    for row in rows:
        del row["execution_time"]
    return rows


@pytest.fixture(autouse=True)
def default_registry(monkeypatch, registry):
    monkeypatch.setattr(registry_module, "_default", registry)
    return registry


def test_two_workers_give_the_results_of_one(registry):
    grader = load_spec(EXAMPLES / "spec.yaml", registry)
    one = _rows(run(grader, read_tasks(EXAMPLES / "data.jsonl")))
    two = _rows(run(grader, read_tasks(EXAMPLES / "data.jsonl"), workers=2))
    assert two == one
    assert len(one) == 32


def test_many_batches_come_back_in_input_order(monkeypatch):
    monkeypatch.setattr(runner, "BATCH_SIZE", 3)
    rows = [{"output_text": "x", "answer": "x", "id": n} for n in range(50)] + ["not a row"]
    scored = list(run(Fragile(), tasks_from_rows(rows), workers=2))
    assert [entry.task.index for entry in scored] == list(range(51))
    assert {entry.result.status for entry in scored[:50]} == {Status.OK}
    assert os.getpid() not in {entry.result.metadata["pid"] for entry in scored[:50]}  # graded in workers
    assert scored[50].result.status is Status.ERROR  # an unreadable row stays an error row


def test_a_grader_raising_in_a_worker_gives_an_error_row():
    rows = [{"output_text": text} for text in ("a", "boom", "c")]
    results = [entry.result for entry in run(Fragile(), tasks_from_rows(rows), workers=2)]
    assert [result.status for result in results] == [Status.OK, Status.ERROR, Status.OK]
    assert results[1].reason == "fragile: RuntimeError: kaput"


def test_a_worker_that_dies_gives_error_rows_and_the_run_goes_on(monkeypatch):
    monkeypatch.setattr(runner, "BATCH_SIZE", 2)
    rows = [{"output_text": "die"}, {"output_text": "a"}] + [{"output_text": "a"}] * 30
    results = [entry.result for entry in run(Fragile(), tasks_from_rows(rows), workers=2)]
    assert len(results) == 32
    assert results[0].status is Status.ERROR
    assert results[0].reason.startswith("worker process failed: BrokenProcessPool")
    assert results[0].error_code == "other_error"
    assert [result.status for result in results[-10:]] == [Status.OK] * 10  # a fresh pool grades the rest


def test_workers_must_be_positive():
    with pytest.raises(ValueError, match="workers must be at least 1, not 0"):
        list(run(Fragile(), tasks_from_rows([{"output_text": "a"}]), workers=0))


def test_score_workers_writes_what_one_process_writes(tmp_path, capsys):
    spec, data = EXAMPLES / "spec.yaml", EXAMPLES / "data.jsonl"
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}.jsonl"
        assert main(["score", str(spec), str(data), "-o", str(out), "--no-progress", "--workers", workers]) == 0
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        outputs.append([{key: value for key, value in row.items() if key != "execution_time"} for row in rows])
    assert outputs[0] == outputs[1]
    summaries = capsys.readouterr().err.split("rows ")
    assert summaries[1] == summaries[2]


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_score_refuses_a_bad_worker_count(tmp_path, capsys, value):
    assert main(["score", str(EXAMPLES / "spec.yaml"), str(EXAMPLES / "data.jsonl"), "--workers", value]) == 1  # usage
    assert f"argument --workers: must be a whole number of at least 1, not '{value}'" in capsys.readouterr().err


def test_fail_fast_with_workers_stops_at_the_first_error_in_input_order(monkeypatch):
    monkeypatch.setattr(runner, "BATCH_SIZE", 4)
    rows = [{"output_text": "a"}] * 10 + [{"output_text": "boom"}] + [{"output_text": "a"}] * 100
    seen = []
    with pytest.raises(runner.RunAborted, match="row 10: fragile: RuntimeError: kaput"):
        for entry in run(Fragile(), tasks_from_rows(rows), workers=2, fail_fast=True):
            seen.append(entry.task.index)
    assert seen == list(range(10))  # every row before the error, none after


def test_score_fail_fast_with_workers_writes_the_rows_before_the_error(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text('type: string_check\nreference: "{{ item.answer }}"\n', encoding="utf-8")
    data = tmp_path / "data.jsonl"
    data.write_text('{"output_text": "a", "answer": "a"}\n{not json\n{"output_text": "a", "answer": "a"}\n')
    out = tmp_path / "out.jsonl"
    assert main(["score", str(spec), str(data), "-o", str(out), "--no-progress", "--workers", "2", "--fail-fast"]) == 1
    assert [json.loads(line)["index"] for line in out.read_text(encoding="utf-8").splitlines()] == [0]
    assert f"error: {data}: line 2: invalid JSON" in capsys.readouterr().err


class CoresSeen(Grader):
    """Reports the cores its process may use, as graders with pools of their own see them."""

    type = "cores_seen"

    def evaluate(self, sample, item):
        return Result(1.0, metadata={"cpus": self.runtime.cpus, "no_cache": self.runtime.no_cache, "pid": os.getpid()})


def test_each_worker_gets_the_runs_settings_and_its_share_of_the_cores(monkeypatch):
    monkeypatch.setattr(runner, "BATCH_SIZE", 2)
    with Runtime(cpus=6, no_cache=True) as runtime:  # as if this run had 6 cores to give
        scored = list(run(CoresSeen().bind(runtime), tasks_from_rows([{"output_text": "x"}] * 20), workers=3))
        assert runtime.cpus == 6  # the parent's budget is left alone
    assert {entry.result.metadata["cpus"] for entry in scored} == {2}
    assert {entry.result.metadata["no_cache"] for entry in scored} == {True}
    assert os.getpid() not in {entry.result.metadata["pid"] for entry in scored}


# the math grader's pool follows the runtime's cores: tests/test_math_pool.py
