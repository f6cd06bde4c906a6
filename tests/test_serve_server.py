"""`rft serve` as a real subprocess: it serves, and Ctrl-C or SIGTERM shut it down cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from serve_server import call

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "spec.yaml"
STARTUP_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    command = [sys.executable, "-m", "rft_core.cli", "serve", *args, "--port", str(port)]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if call(url + "/health", timeout=2)[0] == 200:
                return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"rft serve did not start: {process.communicate()[1]}")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serves_then_shuts_down_cleanly_on_a_signal(signum):
    process, url = _start(str(SPEC))
    try:
        status, body = call(url + "/score", {"rows": [{"output_text": "Answer: Paris", "answer": "paris"}]})
        assert status == 200 and body["rows"][0]["reward"] == 1.0
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "Shutting down" in stderr and "Finished server process" in stderr
    assert "Traceback" not in stderr


def _workers(pid: int) -> list[int]:
    """The worker processes of an ``rft serve --workers`` parent (its multiprocessing children, less
    the resource tracker multiprocessing starts beside them)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children if "spawn_main" in _command_line(int(child))]


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _running(pid: int) -> bool:
    """Whether the process exists and has not ended (an ended one nobody reaped yet is a zombie, state Z)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_until(condition, seconds: float = STARTUP_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _reward(url: str) -> float:
    status, body = call(url + "/get_reward", {"query": ["Q Answer: Rome"], "prompts": ["Q "], "labels": ["rome"]})
    assert status == 200
    return body["rewards"][0]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_workers_share_the_port_and_stop_together(signum):
    process, url = _start(str(SPEC), "--workers", "2")
    try:
        assert _wait_until(lambda: len(_workers(process.pid)) == 2)
        workers = _workers(process.pid)
        assert [_reward(url) for _ in range(4)] == [1.0] * 4
        # a worker that dies is replaced, and the port keeps answering meanwhile
        os.kill(workers[0], signal.SIGKILL)
        assert _wait_until(lambda: len(_workers(process.pid)) == 2 and workers[0] not in _workers(process.pid))
        assert [_reward(url) for _ in range(4)] == [1.0] * 4
        workers = _workers(process.pid)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "Traceback" not in stderr and "Stopped parent process" in stderr
    assert not [pid for pid in workers if _running(pid)]  # no worker outlives the server


def test_workers_end_when_the_parent_is_killed():
    # SIGKILL leaves the parent no chance to stop its workers: they notice it is gone and stop themselves
    process, url = _start(str(SPEC), "--workers", "2")
    try:
        assert _wait_until(lambda: len(_workers(process.pid)) == 2)
        workers = _workers(process.pid)
        assert _reward(url) == 1.0
        process.kill()
        process.communicate(timeout=60)
        assert _wait_until(lambda: not [pid for pid in workers if _running(pid)], 60)
    finally:
        if process.poll() is None:
            process.kill()


ERRORS = [
    # (arguments, environment, what stderr says)
    pytest.param([str(ROOT / "missing.yaml")], {}, "missing.yaml", id="missing-spec"),
    pytest.param([str(SPEC), "--token-env", "RFT_TEST_TOKEN_UNSET"], {},
                 "--token-env RFT_TEST_TOKEN_UNSET: the variable is not set", id="token-unset"),
    pytest.param(["--spec-only"], {}, "--spec-only needs a SPEC", id="spec-only-without-spec"),
]


@pytest.mark.parametrize(("arguments", "env", "message"), ERRORS)
def test_refuses_to_start_with_a_clear_error(tmp_path, arguments, env, message):
    command = [sys.executable, "-m", "rft_core.cli", "serve", *arguments, "--port", str(_free_port())]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    environment.pop("RFT_TEST_TOKEN_UNSET", None)
    done = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=60)
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr


def test_bad_spec_names_the_file_and_path(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("type: string_check\noperation: nope\n")
    command = [sys.executable, "-m", "rft_core.cli", "serve", str(spec), "--port", str(_free_port())]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          timeout=60)
    assert done.returncode == 1
    assert str(spec) in done.stderr and "operation (line 2)" in done.stderr


def test_startup_objects_are_frozen_and_young_collections_spaced():
    """``freeze_startup_objects`` (run by every server process once its app is built) leaves the
    collector's frozen generation holding start-up's objects and its young threshold raised; in a
    fresh interpreter, so this test process's collector is untouched."""
    program = ("import gc\n"
               "from rft_core.integrations.serve.workers import YOUNG_COLLECTION_THRESHOLD, freeze_startup_objects\n"
               "default = gc.get_threshold()\n"
               "freeze_startup_objects()\n"
               "print(gc.get_freeze_count() > 1000, gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, *default[1:]), "
               "YOUNG_COLLECTION_THRESHOLD > default[0])\n")
    shown = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert shown.stdout.split() == ["True", "True", "True"], shown.stderr
