"""Requests from many clients graded together: one runner pass per grader per tick, off the event loop."""

from __future__ import annotations

import asyncio
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from ...run.data import Task
from ...kernel.grader import Grader
from ...run.runner import Scored, run

__all__ = ["Batcher"]

MAX_ROWS = 4096
"""Rows taken into one pass; requests beyond wait for the next (a pass still grades in runner-sized batches)."""


class _Lane:
    """The requests waiting for one grader, and whether a pass is grading them."""

    __slots__ = ("grader", "pending", "busy")

    def __init__(self, grader: Grader) -> None:
        self.grader = grader
        self.pending: deque[tuple[list[Task], asyncio.Future[list[Scored]]]] = deque()
        self.busy = False


class Batcher:
    """Coalesces the requests of concurrent clients per grader.

    ``score`` queues a request's tasks; the first request of a tick starts a pass that, one loop
    iteration later, takes every request queued for that grader and grades them together with
    ``runner.run`` in a worker thread (sync graders never run on the event loop; async ones get
    an event loop of their own there). Requests arriving meanwhile form the next pass. Each grader
    has its own lane, so a slow grader delays only its own requests; ``threads`` bounds the
    passes in flight at once across graders.
    """

    def __init__(self, threads: int = 16) -> None:
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="rft-serve")
        self._lanes: dict[int, _Lane] = {}
        self._passes: set[asyncio.Task[None]] = set()  # kept referenced until done

    async def score(self, grader: Grader, tasks: list[Task]) -> list[Scored]:
        """The tasks' results, in order (an unreadable task gets status error, as in ``rft score``)."""
        if not tasks:
            return []
        lane = self._lanes.get(id(grader))
        if lane is None or lane.grader is not grader:
            lane = self._lanes[id(grader)] = _Lane(grader)
        future: asyncio.Future[list[Scored]] = asyncio.get_running_loop().create_future()
        lane.pending.append((tasks, future))
        if not lane.busy:
            lane.busy = True
            graded = asyncio.get_running_loop().create_task(self._drain(lane))
            self._passes.add(graded)
            graded.add_done_callback(self._passes.discard)
        return await future

    async def _drain(self, lane: _Lane) -> None:
        loop = asyncio.get_running_loop()
        try:
            while lane.pending:
                await asyncio.sleep(0)  # requests that arrive in this tick join the pass
                taken, rows = [], 0
                while lane.pending and rows < MAX_ROWS:
                    tasks, future = lane.pending.popleft()
                    taken.append((tasks, future))
                    rows += len(tasks)
                combined = [task for tasks, _ in taken for task in tasks]
                try:
                    scored = await loop.run_in_executor(self._executor, _run_all, lane.grader, combined)
                except Exception as exc:  # noqa: BLE001 - each waiting request answers with it
                    for _, future in taken:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                start = 0
                for tasks, future in taken:
                    if not future.done():  # a client that went away leaves a cancelled future
                        future.set_result(scored[start:start + len(tasks)])
                    start += len(tasks)
        finally:
            lane.busy = False
            if self._lanes.get(id(lane.grader)) is lane and not lane.pending:
                del self._lanes[id(lane.grader)]

    def close(self) -> None:
        """Stop the worker threads (passes in flight finish; nothing new starts)."""
        self._executor.shutdown(wait=False, cancel_futures=True)


def _run_all(grader: Grader, tasks: list[Task]) -> list[Scored]:
    return list(run(grader, tasks))
