"""Batch scoring: grade tasks in order and turn results into output rows."""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .data import Task, tasks_from_rows
from .deadline import Deadline, grader_timeout, timeout_result
from ..kernel.errors import RftError
from ..kernel.grader import Grader
from ..kernel.registry import Registry
from ..kernel.runtime import Runtime
from ..kernel.spec import load_spec
from ..kernel.types import Result, SharedResult, Status

__all__ = ["RunAborted", "Scored", "output_row", "pair_results", "run", "score", "to_rows"]

BATCH_SIZE = 256
LOOKAHEAD = 2  # batches in flight at once for async graders
WORKER_STARTUP_SECONDS = 60.0  # the most a new pool's processes may take to start, on top of the deadline


class RunAborted(RftError):
    """``fail_fast`` stopped the run at the first sample that errored."""


@dataclass(slots=True)
class Scored:
    """A task, its result and the seconds its grade took (to the microsecond: ``execution_time``)."""

    task: Task
    result: Result
    seconds: float

    def to_row(self, shared: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
        """The output row ``rft score`` writes (docs/cli.md, "Output rows"). With ``shared`` (see ``to_rows``), a read-only sub-result
        is turned into its dict once and that dict is reused."""
        task = self.task
        return output_row(self.result, self.seconds, task.index, shared, row_id=task.id, sample_index=task.sample_index,
                          unreadable=task.error is not None, line=task.line)


def to_rows(scored: Iterable[Scored]) -> list[dict[str, Any]]:
    """``to_row`` of each, a read-only sub-result's dict made once and shared by the rows holding it
    (string_check's 1.0 in most rows): for rows serialized at once, not edited one by one."""
    shared: dict[int, dict[str, Any]] = {}
    return [entry.to_row(shared) for entry in scored]


def output_row(
    result: Result, seconds: float, index: int, shared: dict[int, dict[str, Any]] | None = None, *,
    row_id: Any = None, sample_index: int | None = None, unreadable: bool = False, line: int | None = None,
) -> dict[str, Any]:
    """The output row of a sample's result (``Scored.to_row``), for callers holding no Task (``rft serve``).

    ``shared`` (see ``to_rows``) keeps each read-only sub-result's dict for the rows after it;
    ``unreadable`` rows (the row could not be read) also give their ``line``."""
    row: dict[str, Any] = {"index": index}
    if row_id is not None:
        row["id"] = row_id
    if sample_index is not None:
        row["sample_index"] = sample_index
    row["reward"] = result.reward
    row["status"] = result.status._value_  # the plain attribute: Enum's .value is a slow descriptor
    row["reason"] = result.reason
    subs: dict[str, Any] = {}
    nested_codes = result.error_code is not None
    for name, sub in result.sub_rewards.items():  # each sub-result's to_dict(), inlined: rows are made by the million
        if sub.error_code is not None or sub.sub_rewards:
            nested_codes = True
        view = shared.get(id(sub)) if shared is not None else None
        if view is None:
            if sub.sub_rewards or sub.metadata or sub.error_code is not None or sub.usage is not None:
                view = sub.to_dict()
            else:
                view = {"reward": sub.reward, "status": sub.status._value_, "reason": sub.reason}
            if shared is not None and isinstance(sub, SharedResult):  # it lives as long as its grader: its id stays its own
                shared[id(sub)] = view
        subs[name] = view
    row["sub_rewards"] = subs
    row["errors"] = result.error_codes() if nested_codes else {}
    metadata = result.row_metadata()
    if metadata:
        row["metadata"] = metadata
    if unreadable:
        row["line"] = line
    row["execution_time"] = seconds
    return row


def run(
    grader: Grader,
    tasks: Iterable[Task],
    *,
    fail_fast: bool = False,
    workers: int | None = None,
    backend: str = "local",
    ray_address: str | None = None,
    timeout: float | None = None,
) -> Iterator[Scored]:
    """Grade tasks in order, a batch at a time (``grade_batch``: concurrent for async graders,
    column-wise for CPU ones). Unreadable tasks give status error; ``fail_fast`` raises instead.

    Every sample has a time budget (``timeout``, else the grader's ``grader_timeout``, else
    300 s): a sample whose grade runs past it gets status timeout and the run goes on (see
    ``deadline``; with ``workers`` > 1 a worker process stuck past it is killed and replaced).

    ``workers`` > 1 grades the batches of a synchronous grader in that many processes, each
    holding its own copy of the grader (pickled to it once); results still come in input order.
    Async graders are always graded in this process, as is everything by default.

    ``backend="ray"`` grades every grader's batches in ``workers`` Ray actors instead (default: one
    per CPU of the cluster at ``ray_address``, or of a local Ray instance): see ``ray_backend``.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if backend not in ("local", "ray"):
        raise ValueError(f"backend must be 'local' or 'ray', not {backend!r}")
    if ray_address is not None and backend != "ray":
        raise ValueError("ray_address is for backend='ray'")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout}")
    deadline = Deadline(grader_timeout(grader, timeout))
    iterator = iter(tasks)
    batches = _batches(iterator, BATCH_SIZE)  # read at call time: tests set a smaller size
    if backend == "ray":
        from .ray_backend import graded_on_ray

        graded = graded_on_ray(grader, batches, workers=workers, address=ray_address, deadline=deadline)
    elif grader.is_async():
        graded = _graded_ahead(grader, batches, deadline)
    elif workers is not None and workers > 1:
        graded = _graded_in_processes(grader, batches, workers, deadline)
    else:
        graded = (_grade_batch(grader, b, deadline) for b in batches)
    try:
        for scored_batch in graded:
            for scored in scored_batch:
                if fail_fast and scored.result.status is Status.ERROR:
                    raise RunAborted(_where(scored.task) + str(scored.result.reason))
                yield scored
    finally:
        graded.close()  # stops worker processes and batches in flight at once


def _batches(tasks: Iterator[Task], size: int) -> Iterator[list[Task]]:
    """Batches of ``size`` tasks, stretched so the samples of one row (``completions``) stay in one
    batch: a grader comparing the samples of an item (length's group mode) sees them all."""
    batch: list[Task] = []
    for task in tasks:
        if len(batch) >= size and not (task.sample_index and task.index == batch[-1].index):
            yield batch
            batch = []
        batch.append(task)
    if batch:
        yield batch


def _graded_ahead(grader: Grader, batches: Iterator[list[Task]], deadline: Deadline) -> Iterator[list[Scored]]:
    """Async graders (I/O, e.g. LLM judges): the next batch is already being graded while this one
    finishes, so requests stay in flight across batch boundaries. Results still come in order."""
    pending: deque[Future[list[Scored]]] = deque()
    for batch in batches:
        pending.append(_in_thread(lambda batch=batch: _grade_batch(grader, batch, deadline)))
        if len(pending) == LOOKAHEAD:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _in_thread(function: Any) -> Future[Any]:
    """Run ``function`` in a daemon thread (an interrupted run exits without waiting for it)."""
    future: Future[Any] = Future()

    def target() -> None:
        future.set_running_or_notify_cancel()
        try:
            future.set_result(function())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller of result()
            future.set_exception(exc)

    threading.Thread(target=target, name="rft-batch", daemon=True).start()
    return future


def _where(task: Task) -> str:
    if task.error is not None:  # an unreadable row's reason already says where it is
        return ""
    return f"row {task.index}" + (f" (line {task.line})" if task.line is not None else "") + ": "


def _grade_batch(grader: Grader, batch: list[Task], deadline: Deadline) -> list[Scored]:
    good = [task for task in batch if task.error is None]
    results, seconds = _timed_grade(grader, [task.sample for task in good], [task.item for task in good], deadline)
    return pair_results(batch, results, seconds)


def _timed_grade(
    grader: Grader, samples: Sequence[Any], items: Sequence[Any], deadline: Deadline
) -> tuple[list[Result], float]:
    """The results of a batch, each sample within the deadline, and its mean seconds per sample."""
    start = time.perf_counter()
    results = deadline.grade(grader, samples, items)
    return results, (time.perf_counter() - start) / max(len(samples), 1)


def pair_results(batch: list[Task], results: Sequence[Result], seconds: float) -> list[Scored]:
    """Pair a batch's tasks with the results of its readable ones (an unreadable task gets status
    error); each is charged the mean time, rounded to the microsecond once per batch (not per row:
    ``round`` is slow)."""
    seconds = round(seconds, 6)
    if len(results) == len(batch):  # every task readable: the usual batch, paired in one pass
        return [Scored(task, result, seconds) for task, result in zip(batch, results)]
    remaining = iter(results)
    return [
        Scored(task, Result.failure(Status.ERROR, task.error, "sample_parse_error"), 0.0) if task.error is not None
        else Scored(task, next(remaining), seconds)
        for task in batch
    ]


# --- worker processes (workers > 1) ---------------------------------------------------

_worker_grader: Grader | None = None  # in a worker process: the grader it was started with


def _start_worker(grader: Grader, settings: dict[str, Any]) -> None:
    """Pool initializer: keep the grader (unpickled once per process), bound to a runtime made from the
    parent's settings with this process's share of the cores; Ctrl-C is the parent's to handle."""
    global _worker_grader
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_grader = grader.bind(Runtime(**settings))


def _grade_in_worker(samples: list[Any], items: list[Any], deadline: Deadline) -> tuple[list[Result], float]:
    assert _worker_grader is not None
    return _timed_grade(_worker_grader, samples, items, deadline)


def _graded_in_processes(
    grader: Grader, batches: Iterator[list[Task]], workers: int, deadline: Deadline
) -> Iterator[list[Scored]]:
    """Batches go to ``workers`` processes, ``LOOKAHEAD`` per worker in flight; results come back in order.

    A worker that dies (killed, out of memory) breaks the pool: the batches in flight become error
    rows and a fresh pool grades the rest. Each worker keeps its samples to the deadline itself
    (``Deadline.grade``, at the pace the batches before it took); a batch not back when even that cannot explain the wait (its grade stuck
    in C code that holds the GIL) gets status timeout, and the pool is killed and replaced, the
    other batches in flight submitted to the new one.
    """
    pools = [_start_pool(grader, workers)]  # the current pool, replaced when broken or killed
    warm = [False]  # whether the current pool has sent results back (its workers have started)
    pending: deque[tuple[list[Task], Future[tuple[list[Result], float]]]] = deque()

    def replace_pool() -> None:
        pools.append(_start_pool(grader, workers))
        pools.pop(-2).shutdown(wait=False)
        warm[0] = False

    def submit(batch: list[Task]) -> None:
        good = [task for task in batch if task.error is None]
        arguments = (_grade_in_worker, [task.sample for task in good], [task.item for task in good], deadline)
        try:
            future = pools[-1].submit(*arguments)
        except BrokenProcessPool:
            replace_pool()
            future = pools[-1].submit(*arguments)
        pending.append((batch, future))

    def collect() -> list[Scored]:
        batch, future = pending.popleft()
        good = sum(task.error is None for task in batch)
        try:
            # more than a worker's Deadline.grade can take, every sample overrunning: 2n - 1 attempts
            # (plus, until the pool has answered once, the time its processes take to start)
            limit = deadline.allowance(good) * (2 * good + 1) + (0.0 if warm[0] else WORKER_STARTUP_SECONDS)
            outcome = future.result(timeout=limit)
            deadline.pace = outcome[1]  # the next batches are sent with it
            warm[0] = True
            return _collect(batch, outcome)
        except FutureTimeout:
            _kill_workers(pools[-1])
            replace_pool()
            for _ in range(len(pending)):
                submit(pending.popleft()[0])  # the batches the killed pool held
            return pair_results(batch, [timeout_result(grader, deadline.seconds)] * good, deadline.seconds)
        except Exception as exc:  # noqa: BLE001 - the worker died, or a result would not pickle: error rows, not a crash
            return _collect(batch, exc)

    try:
        for batch in batches:
            submit(batch)
            if len(pending) == workers * LOOKAHEAD:
                yield collect()
        while pending:
            yield collect()
    finally:
        pools[-1].shutdown(wait=not pending, cancel_futures=True)


def _start_pool(grader: Grader, workers: int) -> ProcessPoolExecutor:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    settings = grader.runtime.settings(workers=workers)
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(grader, settings))


def _collect(batch: list[Task], outcome: tuple[list[Result], float] | BaseException) -> list[Scored]:
    """A batch's rows from its worker's results, or error rows when the worker failed."""
    if not isinstance(outcome, BaseException):
        return pair_results(batch, *outcome)
    what = str(outcome).partition("\n")[0]  # the first line says it (Ray's reports run on for lines)
    message = f"worker process failed: {type(outcome).__name__}: {what}".rstrip(": ")
    good = sum(task.error is None for task in batch)
    failure = Result.failure(Status.ERROR, message, "other_error", exception=type(outcome).__name__)
    return pair_results(batch, [failure] * good, 0.0)


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """Kill a pool's processes (``_processes``: the executor has no public way to)."""
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        process.kill()


def score(
    spec: Grader | str | Path | Mapping[str, Any],
    rows: Iterable[Any],
    *,
    registry: Registry | None = None,
    fail_fast: bool = False,
    workers: int | None = None,
    backend: str = "local",
    ray_address: str | None = None,
    timeout: float | None = None,
    runtime: Runtime | None = None,
) -> list[Result]:
    """Score rows (mappings in any row format of docs/cli.md, "Input rows") with a spec; one Result per sample.

    Args:
        spec: a Grader, a spec file path, or a spec mapping.
        rows: the rows, e.g. ``[{"output_text": "4", "answer": "4"}]``.
        registry: grader types to build the spec with (default: installed plugins).
        fail_fast: raise RunAborted at the first errored sample instead of recording it.
        workers: processes to grade a synchronous grader's batches in (default 1: this one);
            with ``backend="ray"``, Ray actors (default: one per CPU of the cluster).
        backend: ``"local"`` (this machine) or ``"ray"`` (a Ray cluster; needs ``rft-graders[ray]``).
        ray_address: the Ray cluster to join (``auto``, ``HOST:PORT``, ``ray://HOST:PORT``);
            default: a local Ray instance.
        timeout: seconds one sample's grade may take before it gets status timeout (default: the
            spec's ``grader_timeout``, else 300; see ``run``).
        runtime: what the graders share (caches, pools, settings); default: a runtime made from the
            environment for this call and closed when it returns (for a Grader: the one it has).

    Returns:
        Results in input order, several per row when a row has ``completions``.

    >>> score({"type": "string_check", "reference": "{{ item.answer }}"}, [{"output_text": "4", "answer": "4"}])[0].reward
    1.0
    """
    if runtime is None and not isinstance(spec, Grader):
        with Runtime.from_environment() as own:
            return score(spec, rows, registry=registry, fail_fast=fail_fast, workers=workers, backend=backend,
                         ray_address=ray_address, timeout=timeout, runtime=own)
    grader = spec if isinstance(spec, Grader) else load_spec(spec, registry, runtime=runtime)
    if runtime is not None:
        grader.bind(runtime)
    tasks = tasks_from_rows(rows)
    scored = run(
        grader, tasks, fail_fast=fail_fast, workers=workers, backend=backend, ray_address=ray_address, timeout=timeout
    )
    return [entry.result for entry in scored]
