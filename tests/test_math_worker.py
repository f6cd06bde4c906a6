"""Tests for graders/math/_worker.py: one request in, one JSON-ready answer out."""

from __future__ import annotations

import pytest

from graders.math._parse import Caps
from graders.math._worker import handle

CAPS = list(Caps().key())
OPTIONS = [1e-6, 1e-9, True, True, 6]

CASES = [
    # equal to one of several references
    ("any_reference", "x^2-1", ["x+1", "(x-1)(x+1)"], {"equal": True}),
    # equal to none
    ("none", "x^2", ["x+1"], {"equal": False}),
    # the worker re-parses with the caps it is sent: a refusal is a parse_error, not a crash
    ("capped", "x^{10^{10}}", ["1"], {"error": "an exponent is over max_exponent=1000", "status": "parse_error"}),
]


@pytest.mark.parametrize(("answer", "references", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_handle(answer, references, expected):
    assert handle({"answer": answer, "references": references, "caps": CAPS, "options": OPTIONS}) == expected


ORPHAN_SCRIPT = """
import json, os, time
from graders.math._pool import WorkerPool
from graders.math._parse import Caps
pool = WorkerPool(1)
pool.warm()
worker = pool._idle[0]
print(worker.process.pid, flush=True)
request = {"answer": "(x+y+z+1)^{300}", "references": ["(x+y+z+2)^{300}"], "caps": list(Caps().key()),
           "options": [1e-6, 1e-9, True, True, 6], "id": 0}
worker.process.stdin.write(json.dumps(request).encode() + b"\\n")
worker.process.stdin.flush()
time.sleep(0.5)
os._exit(0)  # the parent dies hard while its worker is deep in sympy
"""


@pytest.mark.integration
def test_a_busy_worker_exits_when_its_parent_dies():
    import os
    import subprocess
    import sys
    import time

    completed = subprocess.run([sys.executable, "-c", ORPHAN_SCRIPT], capture_output=True, text=True, timeout=120)
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
