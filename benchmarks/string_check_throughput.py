"""string_check throughput on one core, in-process, against a hand-written comparison.

Run: python benchmarks/string_check_throughput.py [--samples N]
Target (issue 2): >= 100,000 samples/s for string_check alone.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("RFT_LOAD_PLUGINS", "")

from _corpus import best_rates, samples_and_items

from rft_core import load_spec

BATCH = 1024  # what rft score and the TRL adapter hand to grade_batch

SPEC = {
    "type": "string_check",
    "input": "{{ sample.output_text }}",
    "reference": "{{ item.answer }}",
    "operation": "eq",
    "casefold": True,
    "strip": True,
}


def main() -> None:
    count, samples, items = samples_and_items(__doc__, 200_000)
    grader = load_spec(SPEC)

    def one_by_one() -> None:
        grade = grader.grade
        for sample, item in zip(samples, items):
            grade(sample, item)

    def batched() -> None:
        for start in range(0, count, BATCH):
            grader.grade_batch(samples[start : start + BATCH], items[start : start + BATCH])

    def hand_written() -> None:
        for sample, item in zip(samples, items):
            1.0 if sample.output_text.strip().casefold() == item["answer"].strip().casefold() else 0.0

    rewards = [result.reward for result in grader.grade_batch(samples, items)]
    expected = [
        1.0 if s.output_text.strip().casefold() == i["answer"].strip().casefold() else 0.0 for s, i in zip(samples, items)
    ]
    if rewards != expected or [grader.grade(s, i).reward for s, i in zip(samples, items)] != expected:
        raise SystemExit("string_check and the hand-written comparison disagree: not the same work")
    rates = best_rates({"base": hand_written, "one": one_by_one, "batched": batched}, count)
    base = rates["base"]
    print(f"samples                         {count:,} (identical rewards on every sample)")
    print(f"hand-written comparison         {base:,.0f} samples/s")
    for label, key in (("grade() one by one", "one"), (f"grade_batch({BATCH})", "batched")):
        rate = rates[key]
        print(f"string_check {label:<19}{rate:,.0f} samples/s   {rate / 100_000:.2f}x the 100,000/s target, "
              f"time ratio to hand-written {base / rate:.2f}x")


if __name__ == "__main__":
    main()
