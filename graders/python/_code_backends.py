"""Where the ``code`` grader runs a program on one test case: a local sandbox (Python) or a Sandbox Fusion server.

Both return an ``Execution``: what the program did (exit, signal, timeout, output), never a
verdict; the grader compares it with the expected output in rft's own process.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rft_core import GradeError, Status, sandbox

__all__ = ["Execution", "LocalPython", "SandboxFusion"]

_HERE = Path(__file__).resolve().parent
_RUNNER = str(_HERE / "_code_runner.py")
_SHARED = str(_HERE / "_worker.py")  # the runner reuses its process reaping
_GRACE = 10.0  # seconds on top of a case's timeout for the sandbox to start and answer
SERVER_ERROR = "code_backend_error"


@dataclass(frozen=True)
class Execution:
    """What one run of the program did."""

    compile_error: str | None = None
    exit: int | None = None
    signal: str | None = None
    timed_out: bool = False
    output_limit: bool = False
    stdout: str = ""
    stderr: str = ""
    value: str = ""  # JSON text of a call's or expression's result (local backend)


class LocalPython:
    """One sandboxed supervisor (graders/python/_code_runner.py) per grader, started on first use and reused."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.process: subprocess.Popen | None = None
        self.owner = os.getpid()
        self.buffer = b""
        self.started = 0  # supervisors ever started (tests and the benchmark read it)

    def run(self, program: str, case: dict[str, Any], timeout: float, memory_bytes: int, max_output: int) -> Execution:
        request = {"program": program, **case, "timeout": timeout, "memory_bytes": memory_bytes,
                   "max_output": max_output}
        process = self._ready()
        try:
            process.stdin.write(json.dumps(request).encode() + b"\n")
            process.stdin.flush()
            answer = json.loads(self._read_line(timeout + _GRACE))
        except (OSError, ValueError, TimeoutError) as exc:
            self.close()
            raise GradeError(f"{self.name}: the code sandbox failed ({exc})", code=SERVER_ERROR) from None
        return Execution(**answer)

    def _ready(self) -> subprocess.Popen:
        if self.process is not None and (self.owner != os.getpid() or self.process.poll() is not None):
            if self.owner == os.getpid():
                self.close()
            self.process = None  # forked: that supervisor is the parent's
        if self.process is None:
            reason = sandbox.unavailable_reason()
            if reason is not None:
                raise GradeError(
                    f"{self.name}: refusing to run model code without OS isolation: {reason}. Install bubblewrap "
                    "and allow unprivileged user namespaces, or set 'backend: sandbox_fusion' with an 'endpoint'",
                    code=SERVER_ERROR,
                )
            executable = os.path.realpath(sys.executable)
            argv, fds = sandbox.sandboxed(
                [executable, "-I", "-S", _RUNNER],
                readable=[sys.base_prefix, os.path.dirname(executable), _RUNNER, _SHARED],
                limits=sandbox.Limits(), env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
                                              "PYTHONDONTWRITEBYTECODE": "1"},
            )
            try:
                self.process = subprocess.Popen(
                    argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                    pass_fds=fds, start_new_session=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                )
            finally:
                for fd in fds:
                    os.close(fd)
            self.owner, self.buffer = os.getpid(), b""
            self.started += 1
            weakref.finalize(self, _kill, self.process, self.owner)
        return self.process

    def _read_line(self, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        fd = self.process.stdout.fileno()
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no answer within {timeout:g}s")
            if select.select([fd], [], [], remaining)[0]:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise OSError(f"the supervisor exited (status {self.process.wait()})")
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line

    def close(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            _kill(process, self.owner)


def _kill(process: subprocess.Popen, owner: int) -> None:
    if os.getpid() != owner or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)  # its session; pid 1 of the sandbox takes the rest with it
    except OSError:
        pass
    process.kill()
    process.wait()
    for stream in (process.stdin, process.stdout):
        stream.close()


class SandboxFusion:
    """A Sandbox Fusion server's ``POST /run_code`` (github.com/bytedance/SandboxFusion, sandbox/server/sandbox_api.py).

    Request: ``code``, ``language``, ``stdin``, ``compile_timeout``, ``run_timeout``,
    ``memory_limit_MB``. Response: ``status`` (Success, Failed, SandboxError), ``message``,
    ``compile_result`` and ``run_result``, each ``{status: Finished | Error | TimeLimitExceeded,
    return_code, stdout, stderr, execution_time}``.
    """

    def __init__(self, name: str, endpoint: str, language: str) -> None:
        self.name = name
        self.url = endpoint.rstrip("/") + "/run_code"
        self.language = language

    def run(self, program: str, case: dict[str, Any], timeout: float, memory_bytes: int, max_output: int) -> Execution:
        body = {
            "code": program, "language": self.language, "stdin": case["stdin"], "compile_timeout": timeout,
            "run_timeout": timeout, "memory_limit_MB": memory_bytes >> 20 if memory_bytes else -1,
        }
        request = urllib.request.Request(self.url, json.dumps(body).encode(), {"Content-Type": "application/json"})  # noqa: S310 - the spec's URL
        try:
            with urllib.request.urlopen(request, timeout=2 * timeout + _GRACE) as response:  # noqa: S310 - the spec's URL
                answer = json.loads(response.read(4 * max_output + (1 << 20)))
        except (OSError, ValueError) as exc:
            raise GradeError(f"{self.name}: the Sandbox Fusion server at {self.url} failed: {exc}. Check the grader's "
                             "'endpoint' in the spec", code=SERVER_ERROR) from None
        return _execution(answer, self.name, max_output)


def _execution(answer: Any, name: str, max_output: int) -> Execution:
    """A ``run_code`` response as an Execution; a SandboxError is the server's failure, not the program's."""
    if not isinstance(answer, dict) or answer.get("status") not in ("Success", "Failed", "SandboxError"):
        raise GradeError(f"{name}: the Sandbox Fusion server answered outside its API: {str(answer)[:200]}",
                         code=SERVER_ERROR)
    compiled, ran = answer.get("compile_result") or {}, answer.get("run_result") or {}
    if compiled.get("status") == "Finished" and compiled.get("return_code") not in (0, None):
        return Execution(compile_error=str(compiled.get("stderr") or compiled.get("stdout") or "compilation failed"))
    if compiled.get("status") == "TimeLimitExceeded":
        return Execution(compile_error="compilation took longer than the time limit")
    if answer["status"] == "SandboxError" or not ran:
        raise GradeError(f"{name}: the Sandbox Fusion server could not run the program: "
                         f"{str(answer.get('message'))[:300]}", status=Status.ERROR, code=SERVER_ERROR)
    stdout = str(ran.get("stdout") or "")
    code = ran.get("return_code")
    timed_out = ran.get("status") == "TimeLimitExceeded"
    return Execution(
        exit=code if isinstance(code, int) and not timed_out else None, timed_out=timed_out,
        output_limit=len(stdout.encode()) > max_output, stdout=stdout, stderr=str(ran.get("stderr") or "")[-4000:],
    )
