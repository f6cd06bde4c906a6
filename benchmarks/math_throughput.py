"""math grader throughput and accuracy against math-verify, on the same corpus, in the same run.

Run:
    python benchmarks/math_throughput.py                 # our grader only, if math-verify is missing
    pip install math-verify                              # the peer (NOT a project dependency)
    python benchmarks/math_throughput.py [--repeats N]

The corpus: benchmarks/math_corpus.py (GSM8K/MATH-style outputs) plus every third pair of the
generated oracle corpus (tests/math_oracle_corpus.py: the notation forms of issue 13, chains,
ratios, inequalities, matrices, degrees, bases, ...; ``--oracle-step 1`` takes all of it).

Prints pairs/s for one core and for all cores (ours: grade_batch with 1 worker process, then
one per core; math-verify: a loop in this process, then a multiprocessing pool of one process
per core), the ratios, each side's accuracy against the corpus's ground truth, their agreement
rate and every disagreement with the side that is right.
Caches are cleared before every timed pass (ours: verdicts, cleaned and parsed references; fresh
worker processes, so no sympy cache either).
Target (issue 13): >= 5x math-verify's single-process throughput, no loss of accuracy.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
os.environ.setdefault("RFT_LOAD_PLUGINS", "")

from math_corpus import corpus
from math_oracle_corpus import corpus as oracle_corpus

import graders.math as math_grader
from graders.math import MathGrader
from rft_core import Sample
from rft_core.kernel.runtime import Runtime

CORES = os.cpu_count() or 1


def _clear_caches() -> None:
    math_grader._parse_reference.cache_clear()
    math_grader._clean_reference.cache_clear()


def ours(rows, workers: int) -> tuple[float, list[bool]]:
    samples = [Sample(output) for _, output, _ in rows]
    items = [{"answer": reference} for reference, _, _ in rows]
    with Runtime() as runtime:  # fresh workers and no remembered verdicts: nothing left from an earlier pass
        grader = MathGrader(workers=workers).bind(runtime)
        grader.warm_up()  # start them outside the timing
        _clear_caches()
        start = time.perf_counter()
        results = grader.grade_batch(samples, items)
        elapsed = time.perf_counter() - start
    return len(rows) / elapsed, [result.reward == 1.0 for result in results]


def _math_verify_one(row) -> bool:
    from math_verify import parse, verify

    reference, output, _ = row
    try:
        return bool(verify(parse(f"${reference}$"), parse(output)))
    except Exception:  # noqa: BLE001 - a crash of the peer counts as "not equal"
        return False


def math_verify_single(rows) -> tuple[float, list[bool]]:
    _math_verify_one(rows[0])  # imports and warm-up outside the timing
    start = time.perf_counter()
    verdicts = [_math_verify_one(row) for row in rows]
    return len(rows) / (time.perf_counter() - start), verdicts


def math_verify_all_cores(rows) -> tuple[float, list[bool]]:
    with multiprocessing.get_context("spawn").Pool(CORES) as pool:
        pool.map(_math_verify_one, rows[:CORES * 2])  # warm every process
        start = time.perf_counter()
        verdicts = pool.map(_math_verify_one, rows, chunksize=8)
        return len(rows) / (time.perf_counter() - start), verdicts


def best(function, rows, repeats: int) -> tuple[float, list[bool]]:
    runs = [function(rows) for _ in range(repeats)]
    return max(rate for rate, _ in runs), runs[0][1]


def best_interleaved(functions: list, rows, repeats: int) -> list[tuple[float, list[bool]]]:
    """Best rate and first verdicts of each function, their passes alternating (a change in the
    machine's load hits every side alike, so the ratios stay fair)."""
    runs: list[list] = [[] for _ in functions]
    for _ in range(repeats):
        for function, function_runs in zip(functions, runs):
            function_runs.append(function(rows))
    return [(max(rate for rate, _ in function_runs), function_runs[0][1]) for function_runs in runs]


def _has_math_verify() -> bool:
    try:
        import math_verify  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per measurement; the best is shown")
    parser.add_argument("--oracle-step", type=int, default=3, help="take every Nth pair of the generated oracle corpus")
    arguments = parser.parse_args()
    repeats = arguments.repeats
    oracle = [(pair.reference, pair.output, pair.equal) for pair in oracle_corpus()[:: arguments.oracle_step]]
    rows = corpus() + oracle
    truth = [equal for _, _, equal in rows]
    print(f"corpus                           {len(rows)} pairs ({sum(truth)} equal, {len(rows) - sum(truth)} not), {CORES} cores")

    singles = [lambda r: ours(r, 1)] + ([math_verify_single] if _has_math_verify() else [])
    (ours_single, our_verdicts), *peer_single = best_interleaved(singles, rows, repeats)
    ours_all, our_verdicts_all = best(lambda r: ours(r, CORES), rows, repeats)
    if our_verdicts_all != our_verdicts:
        raise SystemExit("our grader gave different verdicts with 1 and with all workers")
    our_accuracy = sum(v == t for v, t in zip(our_verdicts, truth)) / len(rows)
    print(f"rft math, 1 worker               {ours_single:8,.0f} pairs/s")
    print(f"rft math, {CORES} workers              {ours_all:8,.0f} pairs/s")
    print(f"rft math accuracy                {our_accuracy:.2%}")
    for index, (verdict, expected) in enumerate(zip(our_verdicts, truth)):
        if verdict != expected:
            reference, output, _ = rows[index]
            print(f"  rft wrong on #{index}: reference {reference!r}, output ...{output[-70:]!r}, said {verdict}")

    if not peer_single:
        print("math-verify is not installed: `pip install -e .[dev]` to compare (it is a test-only dependency)")
        return
    mv_single, mv_verdicts = peer_single[0]
    mv_all, _ = best(math_verify_all_cores, rows, max(1, repeats - 1))
    mv_accuracy = sum(v == t for v, t in zip(mv_verdicts, truth)) / len(rows)
    print(f"math-verify, 1 process           {mv_single:8,.0f} pairs/s")
    print(f"math-verify, {CORES} processes         {mv_all:8,.0f} pairs/s")
    print(f"math-verify accuracy             {mv_accuracy:.2%}")
    print(f"ratio, one core (ours / theirs)  {ours_single / mv_single:.2f}x   (target >= 5x)")
    print(f"ratio, all cores                 {ours_all / mv_all:.2f}x")
    disagreements = [i for i, (a, b) in enumerate(zip(our_verdicts, mv_verdicts)) if a != b]
    print(f"agreement                        {1 - len(disagreements) / len(rows):.2%} ({len(disagreements)} disagreements)")
    for index in disagreements:
        reference, output, expected = rows[index]
        right = "rft" if our_verdicts[index] == expected else "math-verify"
        print(f"  #{index}: reference {reference!r}, output ...{output[-60:]!r}: rft={our_verdicts[index]}, "
              f"math-verify={mv_verdicts[index]}, truth={expected} -> {right} is right")
    verdict = "met" if ours_single >= 5 * mv_single and our_accuracy >= mv_accuracy else "NOT met"
    print(f"target (>= 5x one-core throughput, accuracy not lower): {verdict}")


if __name__ == "__main__":
    main()
