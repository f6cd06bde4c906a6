"""The runner's deadline: every sample's grade gets a time budget, whatever the grader does.

A batch is graded in a thread of its own while the caller waits for it with a timeout: the
whole batch gets one sample's budget (graders spend far less than that per sample). A batch
that runs over is split in halves, each graded again under the budget, down to single samples:
a sample that alone runs over gets status ``timeout`` and the others their results.

Python cannot kill a thread. An abandoned grade is asked to stop (an exception raised in its
thread at its next Python instruction); code inside a C call, or sleeping, keeps its thread
and CPU until the call returns, and meanwhile the run goes on. C code that holds the GIL
(``re`` on a pathological pattern, for instance) even keeps the waiting thread from noticing
the deadline until it returns: run such graders with ``rft score --workers N``, whose worker
processes are killed and replaced when a batch overruns.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from .grader import Grader
from .types import Result, Status

__all__ = ["DEFAULT_GRADER_TIMEOUT", "GradeAbandoned", "grade_within", "grader_timeout", "timeout_result"]

DEFAULT_GRADER_TIMEOUT = 300.0
"""Seconds one sample may take when neither the spec nor the caller sets a budget."""


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


def grade_within(grader: Grader, samples: Sequence[Any], items: Sequence[Any], seconds: float) -> list[Result]:
    """``grader.grade_batch(samples, items)`` where a sample whose grade runs past ``seconds``
    gets status timeout instead of holding up the others."""
    if not samples:
        return []
    results = _attempt(lambda: grader.grade_batch(samples, items), seconds)
    if results is not None:
        return results
    if len(samples) == 1:
        return [timeout_result(grader, seconds)]
    middle = len(samples) // 2
    return grade_within(grader, samples[:middle], items[:middle], seconds) + grade_within(
        grader, samples[middle:], items[middle:], seconds
    )


def _attempt(function: Callable[[], list[Result]], seconds: float) -> list[Result] | None:
    """``function()`` run in a daemon thread; None when it does not return within ``seconds``."""
    future: Future[list[Result]] = Future()

    def target() -> None:
        try:
            future.set_result(function())
        except GradeAbandoned:
            pass
        except BaseException as exc:  # noqa: BLE001 - re-raised in the waiting thread
            future.set_exception(exc)

    thread = threading.Thread(target=target, name="rft-grade", daemon=True)
    thread.start()
    try:
        return future.result(timeout=seconds)
    except FutureTimeout:
        _ask_to_stop(thread)
        return None


def _ask_to_stop(thread: threading.Thread) -> None:
    """Raise GradeAbandoned in ``thread`` at its next Python instruction (CPython's
    PyThreadState_SetAsyncExc); a thread inside a C call sees it when the call returns."""
    if thread.ident is not None and thread.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(GradeAbandoned))
