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


def test_workers_share_the_port():
    process, url = _start(str(SPEC), "--workers", "2")
    try:
        for _ in range(4):
            status, body = call(url + "/get_reward", {"query": ["Q Answer: Rome"], "prompts": ["Q "], "labels": ["rome"]})
            assert status == 200 and body["rewards"] == [1.0]
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0


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
