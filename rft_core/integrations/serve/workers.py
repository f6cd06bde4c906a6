"""``rft serve --workers N``: N server processes sharing one listening socket.

The parent binds the socket, then starts each worker with ``multiprocessing``'s spawn method,
handing it the socket, the app's options and uvicorn's settings as arguments; the worker builds
the app itself and runs ``uvicorn.Server(config).run(sockets=[sock])``. On Ctrl-C or SIGTERM the
parent asks every worker to finish (SIGTERM: uvicorn completes the requests in flight) and waits
for them. A worker that dies is replaced; one that cannot start stops the server. Each worker also
watches a pipe from the parent and stops when the parent is gone, so none outlives it.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn

from ...kernel.errors import RftError

__all__ = ["freeze_startup_objects", "run_workers", "stopped_by_signal"]

LOG = logging.getLogger("uvicorn.error")
STARTUP_FAILURE = 3
"""A worker's exit code when its server could not start (uvicorn's own code for it)."""
SHUTDOWN_MARGIN = 10.0
"""Seconds a worker may take beyond uvicorn's graceful shutdown before it is killed."""
_SPAWN = multiprocessing.get_context("spawn")


def run_workers(build_app: Callable[[], Any], workers: int, settings: dict[str, Any]) -> None:
    """Serve with ``workers`` processes until Ctrl-C or SIGTERM.

    ``build_app`` (picklable: a module-level function or a ``functools.partial`` of one) makes the
    app in each worker; ``settings`` are ``uvicorn.Config``'s keyword arguments (host, port...).
    RftError when a worker cannot start (the port is taken, the app fails to build).
    """
    listener = uvicorn.Config(build_app, **settings).bind_socket()  # logs "Uvicorn running on ..."
    stop = threading.Event()
    previous = {signum: signal.signal(signum, lambda signum, frame: stop.set()) for signum in (signal.SIGINT, signal.SIGTERM)}
    processes: list[tuple[BaseProcess, Connection]] = []
    try:
        for _ in range(workers):
            processes.append(_start(build_app, settings, listener))
        LOG.info("Started parent process [%d] with %d workers", os.getpid(), workers)
        while not stop.wait(0.5):
            for position, (process, lifeline) in enumerate(processes):
                if process.is_alive():
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    raise RftError(f"rft serve: worker process {process.pid} could not start its server "
                                   "(its log above says why); stopping")
                LOG.warning("worker process %d ended (exit code %s): starting another", process.pid, process.exitcode)
                lifeline.close()
                processes[position] = _start(build_app, settings, listener)
    finally:
        _stop(processes, settings.get("timeout_graceful_shutdown") or 0.0)
        listener.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        LOG.info("Stopped parent process [%d]", os.getpid())


def _start(build_app: Callable[[], Any], settings: dict[str, Any], listener: socket.socket) -> tuple[BaseProcess, Connection]:
    """A started worker, and the parent's end of its lifeline (the worker stops when it closes)."""
    watched, lifeline = _SPAWN.Pipe(duplex=False)
    process = _SPAWN.Process(target=_worker, args=(build_app, settings, listener, watched), name="rft-serve-worker")
    process.start()
    watched.close()  # the worker holds it now
    return process, lifeline


def _stop(processes: list[tuple[BaseProcess, Connection]], graceful: float) -> None:
    """SIGTERM to every worker still running, then wait for each (killed past the grace period)."""
    for process, _ in processes:
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signal.SIGTERM)
    for process, lifeline in processes:
        process.join(graceful + SHUTDOWN_MARGIN)
        if process.is_alive():
            LOG.warning("worker process %d did not stop in time: killed", process.pid)
            process.kill()
            process.join()
        lifeline.close()


def _worker(build_app: Callable[[], Any], settings: dict[str, Any], listener: socket.socket, watched: Connection) -> None:
    """A worker process: the app built here, served on the parent's socket until a signal or the parent's end."""
    try:
        app = build_app()
    except Exception as exc:  # noqa: BLE001 - the parent reads the exit code; the message goes to the log
        LOG.error("worker process %d could not build the app: %s: %s", os.getpid(), type(exc).__name__, exc)
        sys.exit(STARTUP_FAILURE)
    freeze_startup_objects()
    server = uvicorn.Server(uvicorn.Config(app, **settings))

    def watch_parent() -> None:
        try:
            watched.recv()
        except EOFError:  # the parent closed its end or is gone
            pass
        server.should_exit = True

    threading.Thread(target=watch_parent, name="rft-serve-parent", daemon=True).start()
    with stopped_by_signal():
        server.run(sockets=[listener])


class _Stopped(Exception):
    """SIGTERM, raised again by uvicorn once it has shut down gracefully."""


@contextlib.contextmanager
def stopped_by_signal() -> Iterator[None]:
    """A graceful shutdown on Ctrl-C or SIGTERM is a normal end: uvicorn raises the signal again after
    it, which would otherwise kill the process (SIGTERM) or surface as KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stopped(signum: int, frame: Any) -> None:
        raise _Stopped

    previous = signal.signal(signal.SIGTERM, stopped)
    try:
        yield
    except (_Stopped, KeyboardInterrupt):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


YOUNG_COLLECTION_THRESHOLD = 100_000
"""Allocations between the collector's young-generation passes in a server (Python's default: 700)."""


def freeze_startup_objects() -> None:
    """Tune the garbage collector for serving, once the app is built.

    What start-up made (modules, the spec's graders) moves out of the collector's sight
    (``gc.freeze``), so a collection no longer walks the whole long-lived heap. And a request
    allocates thousands of short-lived objects (its rows, samples, results) that its own reply
    frees by reference counting: with Python's default threshold the collector would pass over the
    rows of every request in flight hundreds of times per request, so young passes run
    ``YOUNG_COLLECTION_THRESHOLD`` allocations apart instead (reference cycles are still freed)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)
