"""The math grader's worker processes: deadlines that kill, replacement, threads, forks, the runtime's
cores. Seen from outside: the grader's Results and the worker processes this test process has."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import pytest

from graders.math import MathGrader
from rft_core.kernel.runtime import Runtime

QUICK = ("(x-1)(x+1)", {"answer": "x^2-1"})  # equal, needs sympy
DIFFERENT = ("x", {"answer": "x+1"})
HEAVY = ("(x+y+z+1)^{300}", {"answer": "(x+y+z+2)^{300}"})  # sympy runs far past a second
WORKER_COMMAND = b"graders.math._worker"  # how a worker process shows in /proc/<pid>/cmdline


def workers() -> list[int]:
    """The pids of this process's math worker processes (children running the worker module)."""
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
            if int(fields[1]) == os.getpid() and fields[0] != "Z" and WORKER_COMMAND in command:
                pids.append(int(entry))
    return sorted(pids)


def grade_all(grader: MathGrader, *cases: tuple[str, dict]):
    return grader.grade_batch([text for text, _ in cases], [item for _, item in cases])


def sympy_verdicts(results) -> list[float | str]:
    """Each result's reward when sympy decided it, else its status."""
    return [result.reward if result.metadata.get("decided") == "sympy" else result.status.value for result in results]


@pytest.fixture
def runtime():
    with Runtime(no_cache=True) as runtime:
        yield runtime


needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")


def test_answers_come_back_in_order(runtime):
    results = grade_all(MathGrader(workers=2).bind(runtime), QUICK, DIFFERENT, ("(x+1)(x-1)", {"answer": "x^2-1"}))
    assert sympy_verdicts(results) == [1.0, 0.0, 1.0]


@needs_proc
def test_an_overrun_is_killed_and_replaced(runtime):
    grader = MathGrader(workers=2, timeout=1.0).bind(runtime)
    grader.warm_up()
    before = workers()
    start = time.monotonic()
    heavy, quick = grade_all(grader, HEAVY, QUICK)
    assert heavy.status.value == "timeout" and heavy.error_code == "timeout_error"
    assert "the worker was killed" in heavy.reason
    assert quick.reward == 1.0 and quick.metadata["decided"] == "sympy"
    assert time.monotonic() - start < 30  # the deadline is enforced, not waited out (a bound, not a benchmark)
    after = workers()
    assert len(set(before) - set(after)) == 1 and len(set(after) - set(before)) <= 1  # one killed, one at most new
    assert sympy_verdicts(grade_all(grader, ("(x+2)(x-2)", {"answer": "x^2-4"}))) == [1.0]  # healthy afterwards


@needs_proc
def test_a_worker_killed_from_outside_gives_an_error_and_is_replaced(runtime):
    others = set(workers())  # other tests' pools may have workers too
    grader = MathGrader(workers=1, timeout=60).bind(runtime)
    grader.warm_up()
    [worker] = set(workers()) - others
    results = {}
    thread = threading.Thread(target=lambda: results.update(r=grader.grade(*HEAVY)))
    thread.start()
    time.sleep(1.0)  # the heavy comparison is running in the worker
    os.kill(worker, 9)
    thread.join(60)
    assert (results["r"].status.value, results["r"].reward) == ("error", 0.0)
    assert results["r"].reason.endswith("the worker process died")
    assert sympy_verdicts(grade_all(grader, ("(x+3)(x-3)", {"answer": "x^2-9"}))) == [1.0]
    assert len(set(workers()) - others) == 1 and worker not in workers()


@needs_proc
def test_threads_share_the_pool_without_exceeding_its_size(runtime):
    others = set(workers())
    grader = MathGrader(workers=2).bind(runtime)
    outcomes, most = [], []
    cases = [(f"(x-{n})(x+{n})", {"answer": f"x^2-{n * n}"}) for n in range(4, 16)]

    def work(part):
        outcomes.extend(sympy_verdicts(grade_all(grader, *part)))
        most.append(len(set(workers()) - others))

    threads = [threading.Thread(target=work, args=(cases[n::4],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert outcomes == [1.0] * 12
    assert max(most) <= 2


@needs_proc
def test_warm_up_starts_every_worker(runtime):
    before = workers()
    MathGrader(workers=2).bind(runtime).warm_up()
    assert len(set(workers()) - set(before)) == 2


@needs_proc
def test_the_pool_is_one_per_size_and_closing_the_runtime_kills_its_workers():
    others = set(workers())
    with Runtime(no_cache=True) as runtime:
        MathGrader(workers=3).bind(runtime).warm_up()
        three = set(workers()) - others
        MathGrader(workers=3).bind(runtime).warm_up()  # another grader with the same size: the same workers
        assert set(workers()) - others == three and len(three) == 3
        MathGrader(workers=1).bind(runtime).warm_up()
        mine = set(workers()) - others
        assert len(mine) == 4
    deadline = time.monotonic() + 30
    while mine & set(workers()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not mine & set(workers())


@needs_proc
def test_the_pool_is_sized_by_the_runtimes_cores():
    for cpus, workers_setting, expected in [(1, None, 1), (3, None, 3), (3, 2, 2)]:  # the grader's own setting wins
        others = set(workers())
        with Runtime(cpus=cpus, no_cache=True) as runtime:
            MathGrader(workers=workers_setting).bind(runtime).warm_up()
            assert len(set(workers()) - others) == expected


def _in_forked_child(runtime, queue) -> None:
    result = MathGrader(workers=2).bind(runtime).grade(*QUICK)
    queue.put((result.reward, result.metadata.get("decided")))


@needs_proc
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_workers_of_its_own(runtime):
    grader = MathGrader(workers=2).bind(runtime)
    assert grader.grade(*QUICK).reward == 1.0  # the parent has live workers
    parents = workers()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_in_forked_child, args=(runtime, queue))
    child.start()
    assert queue.get(timeout=120) == (1.0, "sympy")
    child.join(60)
    assert sympy_verdicts([grader.grade("(x-5)(x+5)", {"answer": "x^2-25"})]) == [1.0]
    assert set(parents) <= set(workers())  # the child left the parent's workers alone


def test_cheap_cases_need_no_worker(runtime):
    before = workers() if os.path.isdir("/proc/self") else []
    results = MathGrader(workers=7).bind(runtime).grade_batch(
        [f"#### {i}" for i in range(100)], [{"answer": str(i)} for i in range(100)]
    )
    assert [r.reward for r in results] == [1.0] * 100
    assert {r.metadata["decided"] for r in results} == {"exact"}
    if os.path.isdir("/proc/self"):
        assert set(workers()) <= set(before)  # none started
