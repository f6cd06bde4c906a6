"""Grade a run's batches on a Ray cluster: actors each holding the grader, results in input order."""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, TextIO

from ..kernel.errors import MissingDependencyError, RftError
from .data import Task
from ..kernel.grader import Grader
from .deadline import DEFAULT_GRADER_TIMEOUT, Deadline
from .runner import LOOKAHEAD, Scored, _collect, _timed_grade
from ..kernel.runtime import Runtime
from ..kernel.types import Result

__all__ = ["graded_on_ray"]

CONNECT_SECONDS = 10.0  # to reach an explicit cluster address before Ray tries it


class _BatchGrader:
    """A Ray actor's state: the grader, unpickled once when the actor starts, bound to a runtime made
    from the driver's settings. The actor holds one CPU, so graders with worker pools of their own
    (math) start one worker."""

    def __init__(self, grader: Grader, settings: dict[str, Any]) -> None:
        self.grader = grader.bind(Runtime(**{**settings, "cpus": 1}))

    def pid(self) -> int:
        """The actor's process id (answering at all means the grader was built)."""
        return os.getpid()

    def grade(self, samples: list[Any], items: list[Any], deadline: Deadline) -> tuple[list[Result], float]:
        """A batch's results (``grade_batch``: async graders grade it concurrently), each sample within
        the deadline, and its mean seconds."""
        return _timed_grade(self.grader, samples, items, deadline)


def graded_on_ray(
    grader: Grader,
    batches: Iterator[list[Task]],
    *,
    workers: int | None = None,
    address: str | None = None,
    deadline: Deadline | None = None,
) -> Iterator[list[Scored]]:
    """Batches go to ``workers`` Ray actors (default: one per CPU of the cluster), ``LOOKAHEAD`` per
    actor in flight; scored batches come back in input order.

    ``address`` is Ray's: ``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``; without it Ray starts a local
    instance (or joins the cluster ``RAY_ADDRESS`` names, or one ``ray start`` began on this machine).
    An actor that dies turns the batches it had in hand into error rows and a fresh actor takes its
    place. Actors are killed, and a Ray this call started is shut down, when the generator is closed.
    """
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("ray", "ray", "rft score --backend ray") from None
    with _ray_notices_to_stderr():
        yield from _graded(ray, grader, batches, workers, address, deadline or Deadline(DEFAULT_GRADER_TIMEOUT))


@contextmanager
def _ray_notices_to_stderr() -> Iterator[None]:
    """While the run lasts, what Ray's notice thread prints (``(raylet) A worker died ...``) goes to
    stderr: Ray prints it to ``sys.stdout``, which holds the output rows when ``rft score`` has no ``-o``."""
    saved = sys.stdout
    sys.stdout = _NoticesToStderr(saved)
    try:
        yield
    finally:
        sys.stdout = saved


class _NoticesToStderr:
    """Stands in for ``sys.stdout``: writes from Ray's notice thread go to stderr, the rest to stdout."""

    RAY_NOTICE_THREAD = "ray_listen_error_messages"

    def __init__(self, stdout: TextIO) -> None:
        self.stdout = stdout

    def _stream(self) -> TextIO:
        return sys.stderr if threading.current_thread().name == self.RAY_NOTICE_THREAD else self.stdout

    def write(self, text: str) -> int:
        return self._stream().write(text)

    def flush(self) -> None:
        self._stream().flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stdout, name)


def _graded(
    ray: Any,
    grader: Grader,
    batches: Iterator[list[Task]],
    workers: int | None,
    address: str | None,
    deadline: Deadline,
) -> Iterator[list[Scored]]:
    started = not ray.is_initialized()
    if started:
        _connect(ray, address)
    actors = _Actors(ray, grader)
    try:
        actors.start(workers)
        pending: deque[tuple[list[Task], int, Any, Future[Any]]] = deque()
        for number, batch in enumerate(batches):
            slot = number % len(actors.handles)
            actor = actors.handles[slot]
            good = [task for task in batch if task.error is None]
            ref = actor.grade.remote([task.sample for task in good], [task.item for task in good], deadline)
            pending.append((batch, slot, actor, ref.future()))
            if len(pending) == len(actors.handles) * LOOKAHEAD:
                yield actors.collect(*pending.popleft())
        while pending:
            yield actors.collect(*pending.popleft())
    finally:
        actors.kill()
        if started:
            ray.shutdown()


def _connect(ray: Any, address: str | None) -> None:
    """``ray.init``; an explicit address must answer first (Ray would retry it for minutes, deaf to Ctrl-C)."""
    if address not in (None, "auto", "local"):
        _check_reachable(address)
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    except ConnectionError as exc:
        if address == "auto":  # Ray's own message speaks of its `--address` flag, which rft does not have
            raise RftError(
                "--ray-address auto: no Ray cluster is running on this machine: start one (`ray start --head`), "
                "give its HOST:PORT, or leave out --ray-address to start a local Ray instance for this run"
            ) from None
        raise RftError(f"cannot connect to the Ray cluster at {address}: {exc}") from None


def _check_reachable(address: str) -> None:
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise RftError(f"Ray address {address!r}: write HOST:PORT, ray://HOST:PORT or auto")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as exc:
        raise RftError(
            f"cannot reach the Ray cluster at {address}: {exc} (is `ray start --head` running there, "
            "and is this its port?)"
        ) from None


class _Actors:
    """The run's actors, one a slot; a dead one is replaced by a fresh actor in its slot."""

    def __init__(self, ray: Any, grader: Grader) -> None:
        self.ray = ray
        self.grader = grader
        self.settings = grader.runtime.settings()
        self.remote = ray.remote(num_cpus=1, scheduling_strategy="SPREAD")(_BatchGrader)  # a CPU each, over the nodes
        self.handles: list[Any] = []

    def start(self, workers: int | None) -> None:
        """``workers`` actors (default: one per CPU of the cluster), returning once each holds the grader."""
        cpus = int(self.ray.cluster_resources().get("CPU", 0))
        if workers is None:
            workers = max(cpus, 1)
        if workers > cpus:
            raise RftError(
                f"the Ray cluster has {cpus} CPUs and each worker takes one: ask for at most {cpus} workers "
                "(or add nodes to the cluster)"
            )
        self.handles = [self.remote.remote(self.grader, self.settings) for _ in range(workers)]
        try:
            self.ray.get([actor.pid.remote() for actor in self.handles])
        except self.ray.exceptions.RayError as exc:
            raise RftError(
                f"the grader could not be started on the Ray cluster: {_cause(exc)} "
                "(are rft-graders and the spec's plugins installed on every node?)"
            ) from None

    def collect(self, batch: list[Task], slot: int, actor: Any, future: Future[Any]) -> list[Scored]:
        """A batch's rows; if its actor died, error rows, and a new actor takes the slot."""
        scored = _collect(batch, future.exception() or future.result())
        if isinstance(future.exception(), self.ray.exceptions.RayActorError) and self.handles[slot] is actor:
            self.ray.kill(actor)
            self.handles[slot] = self.remote.remote(self.grader, self.settings)
        return scored

    def kill(self) -> None:
        for actor in self.handles:
            self.ray.kill(actor)


def _cause(error: Exception) -> str:
    """The last line of Ray's report of an error: the exception that caused it, e.g. ``ModuleNotFoundError: ...``."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip(" .^")]
    return lines[-1] if lines else type(error).__name__
