"""code grader throughput: programs run against their tests in the OS sandbox, against a plain subprocess per case.

Run: python benchmarks/code_throughput.py [--repeats N]

The stdin/stdout problems of tests/code_corpus.py (4 cases each) in the variants that end on
their own (correct, off by one, wrong format, hard-coded example, wrong on the last case, early
exit, crash), graded through one ``code`` grader (one sandbox, a fresh process per case), and
the floor it is compared with: each case run as ``python -I -S -c program`` in a plain
subprocess (no isolation, a new interpreter per case), compared the same way. Both must give
the same rewards. Also the sandbox's start cost: a bare ``bwrap`` start, and a new grader's
first result (sandbox, supervisor and one 4-case sample).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.dirname(__file__), ROOT, os.path.join(ROOT, "tests")]
os.environ.setdefault("RFT_LOAD_PLUGINS", "")

from _corpus import best_rates  # noqa: E402
from code_corpus import triples  # noqa: E402

from graders.python._code_tests import outputs_equal  # noqa: E402
from graders.python.code import Code, extract_program  # noqa: E402
from rft_core.infra import sandbox  # noqa: E402

VARIANTS = ("correct", "off_by_one", "wrong_format", "hardcoded_example", "wrong_on_last", "exits_early", "crashes")


def plain_subprocess(rows) -> list[float]:
    """Each case in a new, unisolated interpreter: the floor a sandbox is measured against."""
    rewards = []
    for row in rows:
        program = extract_program(row.output_text, "python")
        tests = row.item["tests"]
        passed = 0
        for case in tests:
            done = subprocess.run([sys.executable, "-I", "-S", "-c", program], input=case["stdin"],
                                  capture_output=True, text=True, timeout=30)
            passed += done.returncode == 0 and outputs_equal(done.stdout, case["stdout"], "lines", 1e-6)
        rewards.append(passed / len(tests))
    return rewards


def bwrap_start_seconds() -> float:
    best = float("inf")
    for _ in range(5):
        argv, fds = sandbox.sandboxed(["/usr/bin/true"], readable=(), limits=sandbox.Limits())
        start = time.perf_counter()
        subprocess.run(argv, pass_fds=fds, check=True)
        best = min(best, time.perf_counter() - start)
        for fd in fds:
            os.close(fd)
    return best


def first_result_seconds(row) -> float:
    best = float("inf")
    for _ in range(3):
        grader = Code()
        start = time.perf_counter()
        grader.grade(row.output_text, row.item)
        best = min(best, time.perf_counter() - start)
        grader.close()
    return best


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=2)
    arguments = parser.parse_args()
    if (reason := sandbox.unavailable_reason()) is not None:
        raise SystemExit(f"no OS sandbox on this machine: {reason}")
    rows = [row for row in triples("/nonexistent") if row.variant in VARIANTS and "stdin" in row.item["tests"][0]]
    cases = sum(len(row.item["tests"]) for row in rows)
    grader = Code()
    texts, items = [row.output_text for row in rows], [row.item for row in rows]
    sandboxed = [result.reward for result in grader.grade_batch(texts, items)]
    if sandboxed != [row.reward for row in rows] or sandboxed != plain_subprocess(rows):
        raise SystemExit("the sandbox and the plain subprocesses give different rewards: not the same work")
    rates = best_rates({
        "sandbox": lambda: grader.grade_batch(texts, items),
        "subprocess": lambda: plain_subprocess(rows),
    }, len(rows), repeats=arguments.repeats)
    started = grader.sandboxes_started
    grader.close()
    per_case = len(rows) / cases
    print(f"samples                              {len(rows)} ({cases} cases; identical rewards in both set-ups)")
    print(f"code grader, OS sandbox              {rates['sandbox']:>8,.1f} samples/s  {rates['sandbox'] / per_case:>8,.1f} cases/s"
          f"  ({started} sandbox start{'s' if started != 1 else ''} for every batch)")
    print(f"plain subprocess per case (no isolation) {rates['subprocess']:>4,.1f} samples/s  "
          f"{rates['subprocess'] / per_case:>8,.1f} cases/s")
    print(f"sandbox / plain subprocess           {rates['sandbox'] / rates['subprocess']:.2f}x")
    print(f"sandbox start: bare bwrap            {bwrap_start_seconds() * 1000:,.0f} ms")
    print(f"sandbox start: new grader's first 4-case sample {first_result_seconds(rows[0]) * 1000:,.0f} ms")


if __name__ == "__main__":
    main()
