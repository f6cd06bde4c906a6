"""The math grader's worker side: what a comparison in a worker answers, and a worker never outlives
the process that started it."""

from __future__ import annotations

import pytest

from graders.math import MathGrader

CASES = [
    # equal to one of several references
    ("any_reference", "x^2-1", ["x+1", "(x-1)(x+1)"], (1.0, "ok", "sympy")),
    # equal to none
    ("none", "x^2", ["x+1"], (0.0, "ok", "sympy")),
    # over a cap: a parse_error before any worker, not a crash (the worker re-parses with the same caps)
    ("capped", "x^{10^{10}}", ["1"], (0.0, "parse_error", None)),
]


@pytest.mark.parametrize(("answer", "references", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_comparison(answer, references, expected):
    result = MathGrader(extract=r"(?s).+").grade(answer, {"answer": references})
    assert (result.reward, result.status.value, result.metadata.get("decided")) == expected
    if result.status.value == "parse_error":
        assert result.reason.endswith("is too complex: an exponent is over max_exponent=1000")


ORPHAN_SCRIPT = """
import os, threading, time
from graders.math import MathGrader
grader = MathGrader(workers=1, timeout=60)
grader.warm_up()
[worker] = [int(pid) for pid in os.listdir("/proc") if pid.isdigit() and pid != str(os.getpid())
            and _parent(pid) == os.getpid()]
print(worker, flush=True)
threading.Thread(target=grader.grade, args=("(x+y+z+1)^{300}", {"answer": "(x+y+z+2)^{300}"}), daemon=True).start()
time.sleep(1.0)
os._exit(0)  # the parent dies hard while its worker is deep in sympy
"""
PARENT = """
def _parent(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None
"""


@pytest.mark.integration
def test_a_busy_worker_exits_when_its_parent_dies():
    import os
    import subprocess
    import sys
    import time

    completed = subprocess.run([sys.executable, "-c", PARENT + ORPHAN_SCRIPT], capture_output=True, text=True, timeout=120)
    pid = int(completed.stdout.split()[0])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":  # exited, not yet reaped by init
                    return
        except OSError:  # gone (or no /proc): it exited
            return
        time.sleep(0.2)
    os.kill(pid, 9)
    pytest.fail("the orphaned worker was still running 30s after its parent died")
