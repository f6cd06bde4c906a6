"""What the run summary costs `rft score`: Summary.add per sample (in the scoring loop) and the
report built once at the end, against a loop that only appends each sample's reward to a list.

Run:
    python benchmarks/report_summary.py [--samples 100000] [--repeats 5]

Results are those of a multi of two components (exact 0/1, close in [0, 1], 3% parse errors),
four samples per item, as `rft score` gives them. Prints microseconds per sample for the floor
and Summary.add, their ratio, and the milliseconds of Summary.to_dict() (statistics, readiness).
Each timing is the best of ``--repeats`` runs; the three take turns.
"""

from __future__ import annotations

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))

from _corpus import best_rates

from rft_core.report.summary import Summary
from rft_core.kernel.types import Result, Status


def _results(count: int) -> list[tuple[int, Result]]:
    generator = random.Random(0)
    results = []
    for position in range(count):
        exact = 1.0 if generator.random() < 0.6 else 0.0
        close = Result.failure(Status.PARSE_ERROR, "no answer") if generator.random() < 0.03 else Result(generator.random())
        reward = 0.8 * exact + 0.2 * close.reward
        results.append((position // 4, Result(reward, sub_rewards={"exact": Result(exact), "close": close})))
    return results


def _floor(results: list[tuple[int, Result]]) -> None:
    rewards = []
    append = rewards.append
    for _, result in results:
        append(result.reward)


def _summary(results: list[tuple[int, Result]]) -> Summary:
    summary = Summary()
    add = summary.add
    for index, result in results:
        add(index, result)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    results = _results(args.samples)
    summary = _summary(results)
    rates = best_rates(  # runs per second, the three taking turns so a busy machine slows them alike
        {"floor": lambda: _floor(results), "add": lambda: _summary(results), "report": summary.to_dict}, 1, args.repeats
    )
    floor, adding, report = (1 / rate for rate in rates.values())  # seconds
    per = 1e6 / args.samples
    print(f"{args.samples} samples (multi of 2 components, 4 samples per item), best of {args.repeats}")
    print(f"floor (append the reward)   {floor * per:6.2f} us/sample")
    print(f"Summary.add                 {adding * per:6.2f} us/sample  ({adding / floor:.1f}x the floor)")
    print(f"Summary.to_dict at the end  {report * 1000:6.1f} ms  ({report * per:.2f} us/sample)")


if __name__ == "__main__":
    main()
