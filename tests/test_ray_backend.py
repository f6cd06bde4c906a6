"""rft score --backend ray / run(..., backend="ray"): batches graded by Ray actors on a local 2-CPU
instance, the output (rows, summary, resume) the local backend's; dying actors give error rows."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import ray

from rft_core import Status
from rft_core.kernel import registry as registry_module
from rft_core.run import ray_backend, runner
from rft_core.cli import main
from rft_core.run.data import tasks_from_rows
from rft_core.kernel.errors import MissingDependencyError, RftError
from rft_core.run.runner import RunAborted, run

TESTS = Path(__file__).parent
EXAMPLES = TESTS.parent / "examples"
sys.path.insert(0, str(TESTS))

from judge_server import JudgeServer, completion  # noqa: E402
from test_workers import Fragile  # noqa: E402 - "boom" raises, "die" ends the process

MARK = "RFT_RAY_TEST_MARK"  # every process a test's Ray starts inherits it: leftovers are found by it
QUIET = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "disabled",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # Ray's local-only switch: the node's address is 127.0.0.1
    "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),  # actors import test graders
}


def _marked(marker: str) -> list[str]:
    """Command lines of the live processes (not this one) whose environment holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if f"{MARK}={marker}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:  # gone meanwhile, or not ours
            continue
    return found


def _assert_all_gone(marker: str) -> None:
    deadline = time.monotonic() + 30
    while _marked(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _marked(marker) == []


@pytest.fixture(scope="module", autouse=True)
def ray_tmpdir():
    """Every Ray of the module keeps its sessions and sockets in a short temp dir, removed at the end
    (and cannot join a cluster `ray start` began on this machine)."""
    path = tempfile.mkdtemp(prefix="rftray-", dir="/tmp")  # short: socket paths have a length limit
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_TMPDIR", path)
        yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster(ray_tmpdir):
    """A local Ray instance with 2 CPUs for the module (tests in this process and CLI runs join it);
    every one of its processes is gone after ray.shutdown()."""
    marker = uuid.uuid4().hex
    saved = dict(os.environ)
    os.environ.update(QUIET, **{MARK: marker, "RFT_NO_CACHE": "1", "OPENAI_API_KEY": "sk-test"})
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
        _assert_all_gone(marker)


@pytest.fixture(autouse=True)
def default_registry(monkeypatch, registry):
    monkeypatch.setattr(registry_module, "_default", registry)
    return registry


def _rft(*args: str, plugin: bool = False, marker: str = "") -> subprocess.Popen:
    """``rft`` in a subprocess (with tests/slow_plugin.py's grader when ``plugin``)."""
    command = ["-c", "import slow_plugin; slow_plugin.main()"] if plugin else ["-m", "rft_core.cli"]
    return subprocess.Popen(
        [sys.executable, *command, *args], env={**os.environ, **QUIET, MARK: marker},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _finish(process: subprocess.Popen) -> tuple[str, str]:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return out, err


def _rows(output: Path | str) -> list[dict]:
    """The rows of an output file (or text), without their execution_time."""
    text = output.read_text(encoding="utf-8") if isinstance(output, Path) else output
    rows = [json.loads(line) for line in text.splitlines()]
    for row in rows:
        del row["execution_time"]
    return rows


# --- the CLI: same output, same summary, resume --------------------------------------------


def test_score_on_a_local_ray_writes_what_the_local_backend_writes(tmp_path, capsys):
    """No --ray-address: the run starts its own Ray instance and leaves no Ray process behind;
    stdout holds the rows and nothing else."""
    data = tmp_path / "data.jsonl"
    examples = (EXAMPLES / "data.jsonl").read_text(encoding="utf-8").splitlines()
    lines = [examples[index % len(examples)] for index in range(300)]  # 1,200 samples: 5 batches
    lines[123] = "{not json"  # an unreadable row is an error row on both backends
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    local = tmp_path / "local.jsonl"
    assert main(["score", str(EXAMPLES / "spec.yaml"), str(data), "-o", str(local), "--no-progress"]) == 0
    local_summary = capsys.readouterr().err
    marker = uuid.uuid4().hex
    out, err = _finish(_rft("score", str(EXAMPLES / "spec.yaml"), str(data), "--no-progress", "--backend", "ray",
                            marker=marker))
    assert _rows(out) == _rows(local)
    assert len(_rows(local)) == 299 * 4 + 1
    assert err == local_summary  # nothing but the summary on stderr, and the same one
    _assert_all_gone(marker)


SLOW_SPEC = "rft: 1\ntype: multi\ncalculate_output: slow\ngraders:\n  slow: {type: slow}\n"


def test_resume_after_sigkill_on_ray_scores_every_sample_once(cluster, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SLOW_SPEC, encoding="utf-8")
    data = tmp_path / "data.jsonl"
    with open(data, "w", encoding="utf-8") as handle:
        for index in range(1000):  # 3,000 samples at 1 ms
            handle.write(json.dumps({"id": index, "answer": "a", "completions": ["a", "b", "a" * (index % 5)]}) + "\n")
    full = tmp_path / "full.jsonl"
    _, full_summary = _finish(_rft("score", str(spec), str(data), "-o", str(full), "--no-progress", plugin=True))
    out = tmp_path / "out.jsonl"
    on_ray = ("--no-progress", "--backend", "ray", "--ray-address", cluster)
    process = _rft("score", str(spec), str(data), "-o", str(out), *on_ray, plugin=True)
    deadline = time.monotonic() + 60
    while not (out.exists() and out.stat().st_size > 0):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    written = out.read_text(encoding="utf-8").count("\n")
    assert 0 < written < 3000
    _, err = _finish(_rft("score", str(spec), str(data), "-o", str(out), "--resume", *on_ray, plugin=True))
    assert _rows(out) == _rows(full)
    assert err == full_summary  # the summary counts the rows of both runs


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_cluster_that_is_not_there_is_an_error_at_once():
    """Ray itself would retry a wrong HOST:PORT for minutes."""
    port = _closed_port()
    process = _rft("score", str(EXAMPLES / "spec.yaml"), str(EXAMPLES / "data.jsonl"), "--no-progress",
                   "--backend", "ray", "--ray-address", f"127.0.0.1:{port}")
    assert process.communicate(timeout=60) == (
        "", f"error: cannot reach the Ray cluster at 127.0.0.1:{port}: [Errno 111] Connection refused "
        "(is `ray start --head` running there, and is this its port?)\n"
    )
    assert process.returncode == 1


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("ray://127.0.0.1:{port}", "cannot reach the Ray cluster at ray://127.0.0.1:{port}: [Errno 111] "
                                   "Connection refused (is `ray start --head` running there, and is this its port?)"),
        ("127.0.0.1", "Ray address '127.0.0.1': write HOST:PORT, ray://HOST:PORT or auto"),
        ("ray://head", "Ray address 'ray://head': write HOST:PORT, ray://HOST:PORT or auto"),
    ],
    ids=["client_refused", "no_port", "client_no_port"],
)
def test_addresses_are_checked_before_ray_is_asked(address, message):
    port = _closed_port()
    with pytest.raises(RftError) as error:
        ray_backend._connect(ray, address.format(port=port))
    assert str(error.value) == message.format(port=port)


def test_ray_address_needs_the_ray_backend(capsys):
    assert main(["score", str(EXAMPLES / "spec.yaml"), str(EXAMPLES / "data.jsonl"), "--ray-address", "auto"]) == 1
    assert "error: --ray-address is for --backend ray" in capsys.readouterr().err


def test_without_ray_installed_the_error_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    with pytest.raises(MissingDependencyError):
        next(ray_backend.graded_on_ray(Fragile(), iter([])))
    assert main(["score", str(EXAMPLES / "spec.yaml"), str(EXAMPLES / "data.jsonl"), "--backend", "ray"]) == 1
    assert capsys.readouterr().err == (
        "error: rft score --backend ray needs the 'ray' package, which is not installed: "
        "pip install 'rft-graders[ray]'\n"
    )


# --- the runner on the module's cluster ----------------------------------------------------


def test_a_dying_actor_gives_error_rows_and_is_replaced(cluster, monkeypatch, capsys):
    monkeypatch.setattr(runner, "BATCH_SIZE", 4)
    rows = [{"output_text": "a"}] * 9 + [{"output_text": "die"}] + [{"output_text": "a"}] * 40
    scored = list(run(Fragile(), tasks_from_rows(rows), backend="ray"))
    assert [entry.task.index for entry in scored] == list(range(50))
    failed = [entry.task.index for entry in scored if entry.result.status is Status.ERROR]
    assert 9 in failed
    assert len(failed) <= 12  # the batches the dead actor had in hand: 2 in flight, and 1 it had just sent back
    for index in failed:
        result = scored[index].result
        assert result.reason.startswith(f"worker process failed: {result.metadata['exception']}: The actor ")
        assert "\n" not in result.reason  # Ray's report is many lines: the first says what happened
        assert result.metadata["exception"] in {"ActorDiedError", "ActorUnavailableError"}  # Ray's words for it
        assert result.error_code == "other_error"
    printed = capsys.readouterr()
    assert "A worker died" in printed.err  # Ray's notice, kept off stdout (the rows' place)
    assert "A worker died" not in printed.out
    pids = [entry.result.metadata["pid"] for entry in scored if entry.result.status is Status.OK]
    assert os.getpid() not in pids
    # Two actors still grade at the end: the dead one was replaced. (Which rows each actor got
    # before the death depends on timing: the results it had in hand may be lost with it.)
    assert len(set(pids[-10:])) == 2


def test_workers_sets_the_number_of_actors_and_errors_stay_rows(cluster, monkeypatch):
    monkeypatch.setattr(runner, "BATCH_SIZE", 2)
    rows = [{"output_text": "a"}] * 5 + [{"output_text": "boom"}, "not a row"]
    scored = list(run(Fragile(), tasks_from_rows(rows), backend="ray", workers=1))
    assert len({entry.result.metadata["pid"] for entry in scored[:5]}) == 1
    assert scored[5].result.reason == "fragile: RuntimeError: kaput"
    assert scored[6].result.error_code == "sample_parse_error"


def test_more_workers_than_cluster_cpus_is_refused(cluster):
    with pytest.raises(RftError, match="the Ray cluster has 2 CPUs and each worker takes one: ask for at most 2"):
        list(run(Fragile(), tasks_from_rows([{"output_text": "a"}]), backend="ray", workers=3))


def test_a_grader_the_cluster_cannot_import_stops_the_run_at_the_start(cluster, tmp_path, monkeypatch):
    (tmp_path / "driver_only.py").write_text(
        "from rft_core import Grader, Result\n\n\nclass DriverOnly(Grader):\n    type = 'driver_only'\n\n"
        "    def evaluate(self, sample, item):\n        return Result(1.0)\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))  # importable here, not in the actors
    from driver_only import DriverOnly

    with pytest.raises(RftError) as error:
        list(run(DriverOnly(), tasks_from_rows([{"output_text": "a"}]), backend="ray"))
    assert str(error.value) == (
        "the grader could not be started on the Ray cluster: ModuleNotFoundError: No module named 'driver_only' "
        "(are rft-graders and the spec's plugins installed on every node?)"
    )


def test_fail_fast_on_ray_stops_at_the_first_error_in_input_order(cluster, monkeypatch):
    monkeypatch.setattr(runner, "BATCH_SIZE", 4)
    rows = [{"output_text": "a"}] * 10 + [{"output_text": "boom"}] + [{"output_text": "a"}] * 100
    seen = []
    with pytest.raises(RunAborted, match="row 10: fragile: RuntimeError: kaput"):
        for entry in run(Fragile(), tasks_from_rows(rows), backend="ray", fail_fast=True):
            seen.append(entry.task.index)
    assert seen == list(range(10))


def test_an_async_judge_grades_on_ray_as_it_does_locally(cluster, monkeypatch):
    monkeypatch.setenv("RFT_NO_CACHE", "1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setattr(runner, "BATCH_SIZE", 8)

    def script(body, number):  # the score is the number of x in the answer, in tenths
        return completion(json.dumps({"steps": [], "result": body["messages"][-1]["content"].count("x") / 10}))

    with JudgeServer(script, lifetime=60) as server:
        spec = {"type": "score_model", "model": "judge-model", "base_url": server.base_url, "timeout": 5.0,
                "input": [{"role": "user", "content": "Answer: {{ sample.output_text }}"}]}
        rows = [{"output_text": f"{'x' * (index % 11)} (row {index})"} for index in range(40)]  # 40 requests
        local = runner.score(spec, rows)
        on_ray = runner.score(spec, rows, backend="ray")
        assert server.count == 80
    assert [result.reward for result in on_ray] == [(index % 11) / 10 for index in range(40)]
    assert [result.to_dict() for result in on_ray] == [result.to_dict() for result in local]
