"""Tests for graders/math/_pool.py: deadlines that kill, replacement, threads, forks."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import pytest

from graders.math._parse import Caps
from graders.math._pool import WorkerPool, get_pool
from rft_core.kernel.runtime import Runtime

CAPS = list(Caps().key())
OPTIONS = [1e-6, 1e-9, True, True, 6]


def request(answer: str, reference: str) -> dict:
    return {"answer": answer, "references": [reference], "caps": CAPS, "options": OPTIONS}


QUICK = request("(x-1)(x+1)", "x^2-1")
HEAVY = request("(x+y+z+1)^{300}", "(x+y+z+2)^{300}")  # sympy runs far past a second


@pytest.fixture(scope="module")
def pool():
    pool = WorkerPool(2)
    yield pool
    pool._checkin([])  # nothing held; idle workers are killed by close()
    for worker in pool._idle:
        worker.kill()


def test_answers_come_back_in_order(pool):
    results = pool.run([QUICK, request("x", "x+1"), QUICK], timeout=30)
    assert [result.get("equal") for result in results] == [True, False, True]


def test_an_overrun_is_killed_and_replaced(pool):
    killed = pool.killed
    start = time.monotonic()
    results = pool.run([HEAVY, QUICK], timeout=1.0)
    assert results[0] == {"timeout": True}
    assert results[1]["equal"] is True
    assert pool.killed == killed + 1
    assert time.monotonic() - start < 30  # the deadline is enforced, not waited out (a bound, not a benchmark)
    assert pool.run([QUICK], timeout=30)[0]["equal"] is True  # healthy afterwards


def test_a_worker_killed_from_outside_gives_an_error_and_is_replaced():
    pool = WorkerPool(1)  # its one worker is the only new child process
    before = set(_children())
    pool.warm()
    results = {}
    thread = threading.Thread(target=lambda: results.update(r=pool.run([HEAVY], timeout=60)))
    thread.start()
    deadline = time.monotonic() + 60
    new = []
    while not new and time.monotonic() < deadline:
        time.sleep(0.05)
        new = sorted(set(_children()) - before)
    time.sleep(0.5)
    os.kill(new[0], 9)
    thread.join(60)
    assert results["r"][0]["status"] == "error"
    assert results["r"][0]["error"] == "the worker process died"
    assert pool.run([QUICK], timeout=30)[0]["equal"] is True
    for worker in pool._idle:
        worker.kill()


def _children() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    command = cmdline.read()
            except OSError:
                continue
            if int(fields[1]) == os.getpid() and b"graders.math._worker" in command:
                pids.append(int(entry))
    return pids


def test_threads_share_the_pool_without_exceeding_its_size(pool):
    outcomes = []

    def work():
        outcomes.extend(result["equal"] for result in pool.run([QUICK] * 3, timeout=30))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert outcomes == [True] * 12
    assert pool._count <= pool.size


def test_warm_starts_every_worker():
    pool = WorkerPool(2)
    pool.warm()
    assert pool.started == 2 and len(pool._idle) == 2 and all(w.ready for w in pool._idle)
    for worker in pool._idle:
        worker.kill()


def test_get_pool_is_one_per_size_and_closing_the_runtime_kills_its_workers():
    with Runtime() as runtime:
        assert get_pool(runtime, 3) is get_pool(runtime, 3)
        assert get_pool(runtime, 3) is not get_pool(runtime, 4)
        pool = get_pool(runtime, 1)
        assert pool.run([QUICK], timeout=30)[0]["equal"] is True
        workers = list(pool._idle)
        assert [worker.alive() for worker in workers] == [True]
    assert [worker.alive() for worker in workers] == [False] and pool._idle == []


def _in_forked_child(runtime, queue) -> None:
    result = get_pool(runtime, 2).run([QUICK], timeout=30)[0]
    queue.put(result.get("equal"))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_workers_of_its_own():
    with Runtime() as runtime:
        parent = get_pool(runtime, 2)
        assert parent.run([QUICK], timeout=30)[0]["equal"] is True  # the parent has live workers
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_in_forked_child, args=(runtime, queue))
        child.start()
        assert queue.get(timeout=120) is True
        child.join(60)
        assert parent.run([QUICK], timeout=30)[0]["equal"] is True  # the child left the parent's workers alone
        assert get_pool(runtime, 2) is parent
