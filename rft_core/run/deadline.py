"""The runner's deadline: every sample's grade gets a time budget, whatever the grader does.

A batch is graded in a thread of its own while the caller waits for it with a timeout: one
sample's budget, or PACE_SLACK times what the batch should take at the pace of the batches
before it when that is longer (a concurrent grader's big batch can take longer than a sample's
budget). A batch that runs over is split in halves, each graded again, down to single samples:
a sample that alone runs over the budget gets status ``timeout`` and the others their results.

Python cannot kill a thread. An abandoned grade is asked to stop (an exception raised in its
thread at its next Python instruction); code inside a C call, or sleeping, keeps its thread
and CPU until the call returns, and meanwhile the run goes on. C code that holds the GIL
(``re`` on a pathological pattern, for instance) even keeps the waiting thread from noticing
the deadline until it returns: run such graders with ``rft score --workers N``, whose worker
processes are killed and replaced when a batch overruns.
"""

from __future__ import annotations

import ctypes
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from ..kernel.grader import Grader
from ..kernel.types import Result, Status

__all__ = ["DEFAULT_GRADER_TIMEOUT", "Deadline", "GradeAbandoned", "grader_timeout", "timeout_result"]

DEFAULT_GRADER_TIMEOUT = 300.0
"""Seconds one sample may take when neither the spec nor the caller sets a budget."""

PACE_SLACK = 4.0
"""How many times its expected time (at the pace so far) a batch may take before it is split."""

CLOSE_WAIT_SECONDS = 5.0
"""How long closing a runtime waits for each idle grading thread to end (they end at once)."""


class GradeAbandoned(BaseException):
    """Raised in a grading thread whose batch ran past the deadline (a BaseException: a grader's
    ``except Exception`` does not swallow it)."""


def grader_timeout(grader: Grader, override: float | None = None) -> float:
    """The budget of one sample: ``override`` (``--grader-timeout``), else the grader's
    ``grader_timeout`` field, else DEFAULT_GRADER_TIMEOUT."""
    if override is not None:
        return override
    configured = getattr(grader.config, "grader_timeout", None)
    return DEFAULT_GRADER_TIMEOUT if configured is None else configured


def timeout_result(grader: Grader, seconds: float) -> Result:
    """The result of a sample whose grade ran past the deadline."""
    return Result.failure(
        Status.TIMEOUT,
        f"{grader.name}: the grade did not finish within grader_timeout={seconds:g}s; it was abandoned",
        "timeout_error",
    )


class Deadline:
    """A per-sample budget, and the pace (seconds per sample) of the last batch graded within it."""

    __slots__ = ("seconds", "pace")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.pace = 0.0

    def __getstate__(self) -> tuple[float, float]:
        return self.seconds, self.pace

    def __setstate__(self, state: tuple[float, float]) -> None:
        self.seconds, self.pace = state

    def allowance(self, count: int) -> float:
        """The seconds a batch of ``count`` samples may take before it is split."""
        return max(self.seconds, PACE_SLACK * count * self.pace) if count > 1 else self.seconds

    def grade(self, grader: Grader, samples: Sequence[Any], items: Sequence[Any]) -> list[Result]:
        """``grader.grade_batch(samples, items)`` where a sample whose grade runs past the budget
        gets status timeout instead of holding up the others."""
        if not samples:
            return []
        start = time.perf_counter()
        threads = grader.runtime.shared("grading threads", _GradingThreads)
        results = threads.attempt(lambda: grader.grade_batch(samples, items), self.allowance(len(samples)))
        if results is not None:
            self.pace = (time.perf_counter() - start) / len(samples)
            return results
        if len(samples) == 1:
            return [timeout_result(grader, self.seconds)]
        middle = len(samples) // 2
        return self.grade(grader, samples[:middle], items[:middle]) + self.grade(grader, samples[middle:], items[middle:])


class _GradingThread:
    """A daemon thread that runs one function at a time, handed to it through a queue."""

    def __init__(self) -> None:
        self.inbox: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any] | None]] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name="rft-grade", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            function, future = self.inbox.get()
            if future is None:  # closed: the thread ends
                return
            try:
                future.set_result(function())
            except GradeAbandoned:
                return  # its caller gave up on it: the thread ends
            except BaseException as exc:  # noqa: BLE001 - re-raised in the waiting thread
                future.set_exception(exc)


class _GradingThreads:
    """A runtime's grading threads: those whose last function returned in time wait for the next."""

    def __init__(self) -> None:
        self.idle: list[_GradingThread] = []
        self.lock = threading.Lock()

    def attempt(self, function: Callable[[], list[Result]], seconds: float) -> list[Result] | None:
        """``function()`` run in a grading thread (an idle one, else a new one); None when it does not
        return within ``seconds``, and then that thread is asked to stop and never used again."""
        with self.lock:
            worker = self.idle.pop() if self.idle else None
        if worker is None:
            worker = _GradingThread()
        future: Future[list[Result]] = Future()
        worker.inbox.put((function, future))
        try:
            results = future.result(timeout=seconds)
        except FutureTimeout:
            _ask_to_stop(worker.thread)
            return None
        with self.lock:
            self.idle.append(worker)
        return results

    def close(self) -> None:
        """End the idle threads (the runtime closes) and wait for them: a thread that ran torch
        code and is still ending while the interpreter shuts down can abort the process."""
        with self.lock:
            idle, self.idle = self.idle, []
        for worker in idle:
            worker.inbox.put((lambda: None, None))
        for worker in idle:
            worker.thread.join(timeout=CLOSE_WAIT_SECONDS)


def _ask_to_stop(thread: threading.Thread) -> None:
    """Raise GradeAbandoned in ``thread`` at its next Python instruction (CPython's
    PyThreadState_SetAsyncExc); a thread inside a C call sees it when the call returns."""
    if thread.ident is not None and thread.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(GradeAbandoned))
