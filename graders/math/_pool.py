"""A small pool of worker processes, each killed and replaced when a request overruns its deadline.

Workers are fresh interpreters (``subprocess`` with ``sys.executable``, the same isolation
as multiprocessing's spawn context, but it needs no ``if __name__ == "__main__"`` guard in
the user's script and works inside daemonic pool workers, which may not start
multiprocessing children). Requests are JSON lines; no pickle crosses the pipe.

The deadline is enforced by the *calling* thread with ``select`` on the workers' pipes and
a SIGKILL, so it works from any thread, from asyncio (via a thread) and with no signals.
A process that forks gets a pool of its own on first use; the parent's workers are left alone.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

from rft_core import Runtime

__all__ = ["WorkerPool", "get_pool"]

_ROOT = str(Path(__file__).resolve().parent.parent.parent)  # the directory holding the graders package
_STARTUP_TIMEOUT = 120.0


class _Worker:
    __slots__ = ("process", "fd", "buffer", "ready", "task", "sent_at")

    def __init__(self, memory_mb: int) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = _ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.pop("PYTHONSTARTUP", None)
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from graders.math._worker import main; main()", str(memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            close_fds=True,
            start_new_session=True,  # Ctrl-C in the terminal is the parent's business
        )
        self.fd = self.process.stdout.fileno()
        self.buffer = b""
        self.ready = False
        self.task: int | None = None
        self.sent_at = time.monotonic()  # for a starting worker: when it was started

    def send(self, task: int, payload: bytes) -> None:
        self.task = task
        self.sent_at = time.monotonic()
        self.process.stdin.write(payload)
        self.process.stdin.flush()

    def read_lines(self) -> list[bytes] | None:
        """Complete lines available now; None at end of file (the worker died)."""
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            return None
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        return lines

    def kill(self) -> None:
        try:
            self.process.kill()
        except OSError:
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a SIGKILLed process always exits
            pass

    def alive(self) -> bool:
        return self.process.poll() is None


class WorkerPool:
    """At most ``size`` worker processes shared by every thread of this process."""

    def __init__(self, size: int, memory_mb: int = 4096) -> None:
        self.size = max(1, size)
        self.memory_mb = memory_mb
        self._idle: list[_Worker] = []
        self._count = 0  # workers that exist (idle or checked out)
        self._condition = threading.Condition()
        self._pid = os.getpid()
        self.started = 0  # workers ever started: tests read it to see replacements
        self.killed = 0

    # --- checking workers in and out ------------------------------------------------------

    def _check_fork(self) -> None:
        if os.getpid() != self._pid:  # forked: those workers belong to the parent
            self._idle = []
            self._count = 0
            self._pid = os.getpid()
            self._condition = threading.Condition()

    def _checkout(self, wanted: int, block: bool) -> list[_Worker]:
        with self._condition:
            self._check_fork()
            while True:
                taken: list[_Worker] = []
                while self._idle and len(taken) < wanted:
                    worker = self._idle.pop()
                    if worker.alive():
                        taken.append(worker)
                    else:
                        self._count -= 1
                        worker.kill()
                while len(taken) < wanted and self._count < self.size:
                    taken.append(self._start())
                if taken or not block:
                    return taken
                self._condition.wait()

    def _start(self) -> _Worker:
        worker = _Worker(self.memory_mb)  # the caller holds the condition
        self._count += 1
        self.started += 1
        return worker

    def _checkin(self, workers: list[_Worker]) -> None:
        with self._condition:
            if os.getpid() != self._pid:
                return
            for worker in workers:
                if worker.task is None and worker.alive():
                    self._idle.append(worker)
                else:
                    self._count -= 1
                    worker.kill()
            self._condition.notify_all()

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        with self._condition:
            self.killed += 1
            self.started += 1
            return _Worker(self.memory_mb)  # the count is unchanged: one out, one in

    def close(self) -> None:
        """Kill the idle workers (workers in use are killed when handed back)."""
        with self._condition:
            if os.getpid() != self._pid:
                return
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for worker in idle:
            worker.kill()

    def warm(self) -> None:
        """Start every worker and wait until each has imported sympy (so later deadlines are pure work)."""
        held = self._checkout(self.size, block=True)
        try:
            while not all(worker.ready for worker in held):
                self._wait(held, [], _STARTUP_TIMEOUT, short=False)
        finally:
            self._checkin(held)

    # --- running -------------------------------------------------------------------------

    def run(self, requests: list[dict], timeout: float) -> list[dict]:
        """One response per request, in order: the worker's answer, or ``{"timeout": True}``."""
        if not requests:
            return []
        results: list[dict | None] = [None] * len(requests)
        payloads = [json.dumps({**request, "id": index}).encode() + b"\n" for index, request in enumerate(requests)]
        pending = list(range(len(requests) - 1, -1, -1))  # a stack: pop() gives the next in order
        wanted = min(len(requests), self.size)
        held = self._checkout(wanted, block=True)
        try:
            while pending or any(worker.task is not None for worker in held):
                if pending and len(held) < wanted:
                    held.extend(self._checkout(wanted - len(held), block=False))
                for position, worker in enumerate(held):
                    if worker.ready and worker.task is None and pending:
                        index = pending.pop()
                        try:
                            worker.send(index, payloads[index])
                        except OSError:  # it died between requests: retry the request on a new one
                            pending.append(index)
                            worker.task = None
                            held[position] = self._replace(worker)
                self._wait(held, results, timeout, short=bool(pending) and len(held) < wanted)
        finally:
            self._checkin(held)
        return results  # type: ignore[return-value]

    def _wait(self, held: list[_Worker], results: list, timeout: float, short: bool) -> None:
        now = time.monotonic()
        deadlines = [
            worker.sent_at + (timeout if worker.ready else _STARTUP_TIMEOUT)
            for worker in held
            if worker.task is not None or not worker.ready
        ]
        wait = max(0.0, min(deadlines) - now) if deadlines else 0.05
        if short:
            wait = min(wait, 0.05)  # another thread may hand a worker back soon
        readable, _, _ = select.select([worker.fd for worker in held], [], [], wait)
        ready_fds = set(readable)
        for position, worker in enumerate(held):
            if worker.fd in ready_fds:
                lines = worker.read_lines()
                if lines is None:  # died: out of memory, or killed from outside
                    if not worker.ready:
                        worker.kill()
                        raise RuntimeError("a math worker process exited while starting (see graders/math/_worker.py)")
                    if worker.task is not None:
                        results[worker.task] = {"error": "the worker process died", "status": "error"}
                        worker.task = None
                    held[position] = self._replace(worker)
                    continue
                for line in lines:
                    message = json.loads(line)
                    if message.get("ready"):
                        worker.ready = True
                    elif message.get("id") == worker.task:
                        results[worker.task] = message
                        worker.task = None
        now = time.monotonic()
        for position, worker in enumerate(held):
            if worker.task is not None and now - worker.sent_at > timeout:
                results[worker.task] = {"timeout": True}
                worker.task = None
                held[position] = self._replace(worker)
            elif not worker.ready and now - worker.sent_at > _STARTUP_TIMEOUT:
                raise RuntimeError(f"a math worker process did not start within {_STARTUP_TIMEOUT:.0f}s")


def get_pool(runtime: Runtime, size: int | None = None, memory_mb: int = 4096) -> WorkerPool:
    """The runtime's pool of that size (``None``: one worker per core of the runtime's budget)."""
    size = size or runtime.cpus
    return runtime.shared(("math worker pool", size, memory_mb), lambda: WorkerPool(size, memory_mb))
