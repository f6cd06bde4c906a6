"""Requests from many clients graded together: one grading pass per grader per tick, off the event loop."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ...kernel.grader import Grader
from ...kernel.types import Result, Sample
from ...run.deadline import Deadline, grader_timeout

__all__ = ["Batcher", "Graded"]

MAX_ROWS = 4096
"""Samples taken into one pass; requests beyond wait for the next (a request larger than this is one pass)."""

Graded = tuple[list[Result], float]
"""A request's results, in order, and the mean seconds per sample of the pass that graded them."""


class _Request:
    __slots__ = ("samples", "items", "future")

    def __init__(self, samples: Sequence[Sample], items: Sequence[Any], future: asyncio.Future[Graded]) -> None:
        self.samples = samples
        self.items = items
        self.future = future


class _Lane:
    """The requests waiting for one grader, whether a pass is grading them, and the grader's deadline."""

    __slots__ = ("grader", "pending", "busy", "deadline")

    def __init__(self, grader: Grader) -> None:
        self.grader = grader
        self.pending: deque[_Request] = deque()
        self.busy = False
        self.deadline = Deadline(grader_timeout(grader))


class Batcher:
    """Coalesces the requests of concurrent clients per grader.

    ``grade`` queues a request's samples; the first request of a tick starts a pass that, one loop
    iteration later, takes every request queued for that grader and grades them with one
    ``grade_batch`` in a worker thread, under the runner's per-sample deadline (sync graders never
    run on the event loop; async ones get the runtime's event loop). Requests arriving meanwhile
    form the next pass. Each grader has its own lane, so a slow grader delays only its own
    requests; ``threads`` bounds the passes in flight at once across graders.
    """

    def __init__(self, threads: int = 16) -> None:
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="rft-serve")
        self._lanes: dict[int, _Lane] = {}
        self._passes: set[asyncio.Task[None]] = set()  # kept referenced until done

    async def grade(self, grader: Grader, samples: Sequence[Sample], items: Sequence[Any]) -> Graded:
        """The samples' results, in order, and the seconds per sample their pass took."""
        if not samples:
            return [], 0.0
        lane = self._lanes.get(id(grader))
        if lane is None or lane.grader is not grader:
            lane = self._lanes[id(grader)] = _Lane(grader)
        loop = asyncio.get_running_loop()
        request = _Request(samples, items, loop.create_future())
        lane.pending.append(request)
        if not lane.busy:
            lane.busy = True
            graded = loop.create_task(self._drain(lane))
            self._passes.add(graded)
            graded.add_done_callback(self._passes.discard)
        return await request.future

    async def _drain(self, lane: _Lane) -> None:
        loop = asyncio.get_running_loop()
        try:
            while lane.pending:
                await asyncio.sleep(0)  # requests that arrive in this tick join the pass
                taken = _take(lane.pending)
                if len(taken) == 1:  # one request: its own lists, not copies
                    samples, items = taken[0].samples, taken[0].items
                else:
                    samples = [sample for request in taken for sample in request.samples]
                    items = [item for request in taken for item in request.items]
                try:
                    results, seconds = await loop.run_in_executor(
                        self._executor, _grade, lane.grader, lane.deadline, samples, items)
                except Exception as exc:  # noqa: BLE001 - each waiting request answers with it
                    for request in taken:
                        if not request.future.done():
                            request.future.set_exception(exc)
                    continue
                start = 0
                for request in taken:
                    end = start + len(request.samples)
                    if not request.future.done():  # a client that went away leaves a cancelled future
                        request.future.set_result((results if len(taken) == 1 else results[start:end], seconds))
                    start = end
        finally:
            lane.busy = False
            if self._lanes.get(id(lane.grader)) is lane and not lane.pending:
                del self._lanes[id(lane.grader)]

    def close(self) -> None:
        """Stop the worker threads (passes in flight finish; nothing new starts)."""
        self._executor.shutdown(wait=False, cancel_futures=True)


def _take(pending: deque[_Request]) -> list[_Request]:
    """The requests of one pass: at least one, then more while they fit in MAX_ROWS."""
    taken = [pending.popleft()]
    rows = len(taken[0].samples)
    while pending and rows + len(pending[0].samples) <= MAX_ROWS:
        request = pending.popleft()
        taken.append(request)
        rows += len(request.samples)
    return taken


def _grade(grader: Grader, deadline: Deadline, samples: Sequence[Sample], items: Sequence[Any]) -> Graded:
    """The pass, each sample within the deadline (``Deadline.grade``), and its seconds per sample
    rounded to the microsecond (output rows' ``execution_time``)."""
    start = time.perf_counter()
    results = deadline.grade(grader, samples, items)
    return results, round((time.perf_counter() - start) / len(samples), 6)
