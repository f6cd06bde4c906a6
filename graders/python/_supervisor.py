"""The ``python`` grader's handle on its supervisor process (``_worker.py`` in the OS sandbox):
starting it, the JSON-lines exchange, deadlines, and cleaning up after it."""

from __future__ import annotations

import ast
import json
import math
import os
import select
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any

from rft_core import sandbox

__all__ = []

_WORKER = str(Path(__file__).resolve().parent / "_worker.py")
_STARTUP_GRACE = 10.0  # seconds for the sandbox and the supervisor to start or answer, on top of the grader's timeout


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        else:  # assignments, and definitions under if/try at top level
            for child in ast.walk(node):
                if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                    names.add(child.id)
                elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    names.add(child.name)
                elif isinstance(child, ast.alias):
                    names.add((child.asname or child.name).split(".")[0])
    return names


def _top_level_imports(source: str) -> list[str]:
    """The modules the source imports at top level (absolute imports): the supervisor loads them once."""
    names = []
    for node in ast.parse(source, "<grader>").body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # a name imported from a package may be a submodule (from rouge_score import rouge_scorer)
            names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*")]
    return names


def _unserialisable(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class _Died(Exception):
    pass


class _LoadError(Exception):
    pass


class _LoadTimeout(Exception):
    pass


def _environment() -> dict[str, str]:
    """The supervisor's whole environment besides HOME and TMPDIR: nothing is inherited from ours."""
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def _interpreter(site_packages: bool) -> tuple[list[str], list[str]]:
    """The command starting the supervisor, and the host paths it needs to read (bound read-only in the sandbox)."""
    executable = os.path.realpath(sys.executable)
    readable = [sys.base_prefix, os.path.dirname(executable), _WORKER]
    if site_packages:  # the environment's own interpreter (a venv finds its site-packages) and its packages
        readable += [sys.prefix, *site.getsitepackages()]
        return [sys.executable, "-I", _WORKER], readable
    return [executable, "-I", "-S", _WORKER], readable


def _parse(line: bytes) -> Any:
    return json.loads(line, parse_constant=_no_constant)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def _valid_response(message: Any, request_id: int) -> bool:
    """The supervisor's answer, exactly: a finite float reward (never a bool), or an error and its kind."""
    if not isinstance(message, dict) or message.get("id") != request_id:
        return False
    if set(message) == {"id", "reward"}:
        return type(message["reward"]) is float and math.isfinite(message["reward"])
    return set(message) == {"id", "error", "kind"} and all(isinstance(message[key], str) for key in ("error", "kind"))


class _Worker:
    """The sample supervisor's process (in the OS sandbox unless ``isolation: none``); killed by ``kill``."""

    def __init__(self, source: str, timeout: float, limits: dict) -> None:
        self.pid = os.getpid()
        command, readable = _interpreter(limits["site_packages"])
        fds: list[int] = []
        self.workdir = None
        if limits["sandboxed"]:
            command, fds = sandbox.sandboxed(
                command, readable=readable, env=_environment(),
                limits=sandbox.Limits(memory_bytes=limits["memory_bytes"] or None),
            )
            options: dict[str, Any] = {"env": {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}}
        else:
            self.workdir = tempfile.mkdtemp(prefix="rft-python-grader-")
            options = {"cwd": self.workdir, "env": {**_environment(), "HOME": self.workdir, "TMPDIR": self.workdir}}
        try:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                close_fds=True, pass_fds=fds, start_new_session=True, **options,
            )
        except OSError:
            if self.workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)
            raise
        finally:
            for fd in fds:
                os.close(fd)
        # kills the process and removes the directory when kill() runs, when the worker is
        # garbage collected (a grader dropped without close()) or at interpreter exit
        self._cleanup = weakref.finalize(self, _cleanup, self.process, self.workdir, self.pid)
        self.fd = self.process.stdout.fileno()
        self.buffer = b""
        self.next_id = 0
        config = {"source": source, "timeout": timeout, "limits": limits, "preload": _top_level_imports(source)}
        self.process.stdin.write(json.dumps(config).encode() + b"\n")
        self.process.stdin.flush()

    def wait_ready(self, timeout: float) -> None:
        message = _parse(self._read_line(timeout))
        if isinstance(message, dict) and "load_error" in message:
            raise _LoadError(message["load_error"])
        if message == {"load_timeout": True}:
            raise _LoadTimeout
        if message != {"ready": True}:
            raise _Died(f"unexpected first message {message!r}")

    def request(self, payload: bytes, timeout: float) -> dict:
        request_id = self.next_id
        self.next_id += 1
        try:
            self.process.stdin.write(b'{"id": %d, ' % request_id + payload[1:])
            self.process.stdin.flush()
        except OSError as exc:
            raise _Died(f"could not send the request: {exc}") from None
        line = self._read_line(timeout)
        try:
            message = _parse(line)
        except ValueError:
            message = None
        if not _valid_response(message, request_id):
            raise _Died(f"it answered outside the protocol: {line[:200]!r}")
        return message

    def _read_line(self, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no answer within {timeout:g}s")
            readable, _, _ = select.select([self.fd], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                raise _Died(self._exit_description())
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line

    def _exit_description(self) -> str:
        code = self.process.wait()
        error = self.process.stderr.read(4000).decode(errors="replace").strip()
        name = signal.Signals(-code).name if code < 0 and -code in signal.valid_signals() else None
        status = f"killed by {name}" if name else f"exit status {code}"
        return f"{status}: {error}" if error else status

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self._cleanup()


def _cleanup(process: subprocess.Popen, workdir: str | None, owner: int) -> None:
    if os.getpid() != owner:  # a forked child dropping its copy: the worker is the parent's
        return
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # its session; in the sandbox, pid 1 takes the rest with it
        except OSError:
            pass
        try:
            process.kill()
        except OSError:
            pass
    for stream in (process.stdin, process.stdout, process.stderr):
        try:
            stream.close()
        except OSError:
            pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - a SIGKILLed process always exits
        pass
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)
