"""A string_check + fuzzy_match composition against a hand-written function doing the same work.

Both sides: strip + casefold both texts, exact equality, rapidfuzz fuzz.ratio with
default_process, then 0.5 * exact + 0.5 * close.
Run: python benchmarks/composition_overhead.py [--samples N]
Target (issue 2): ours <= 2x the hand-written time. Both the one-by-one path (grade) and
the batch path (grade_batch, which rft score uses) are measured.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("RFT_LOAD_PLUGINS", "")

from _corpus import best_rates, samples_and_items
from rapidfuzz import fuzz, utils

from rft_core import load_spec

BATCH = 1024  # what rft score and the TRL adapter hand to grade_batch

SPEC = {
    "type": "multi",
    "calculate_output": "0.5 * exact + 0.5 * close",
    "graders": {
        "exact": {"type": "string_check", "reference": "{{ item.answer }}", "casefold": True, "strip": True},
        "close": {
            "type": "fuzzy_match",
            "reference": "{{ item.answer }}",
            "metric": "ratio",
            "processor": "default",
            "casefold": True,
            "strip": True,
        },
    },
}


def hand_written(text: str, answer: str) -> float:
    text, answer = text.strip().casefold(), answer.strip().casefold()
    exact = 1.0 if text == answer else 0.0
    close = fuzz.ratio(text, answer, processor=utils.default_process) / 100.0
    return 0.5 * exact + 0.5 * close


def main() -> None:
    count, samples, items = samples_and_items(__doc__, 100_000)
    grader = load_spec(SPEC)

    expected = [hand_written(s.output_text, i["answer"]) for s, i in zip(samples, items)]
    one_by_one = [grader.grade(s, i).reward for s, i in zip(samples, items)]
    batched = [result.reward for result in grader.grade_batch(samples, items)]
    mismatches = sum(a != b or a != c for a, b, c in zip(expected, one_by_one, batched))
    if mismatches:
        raise SystemExit(f"the two sides disagree on {mismatches} samples: not the same work")

    def ours_one_by_one() -> None:
        grade = grader.grade
        for sample, item in zip(samples, items):
            grade(sample, item)

    def ours_batched() -> None:
        for start in range(0, count, BATCH):
            grader.grade_batch(samples[start : start + BATCH], items[start : start + BATCH])

    def baseline() -> None:
        for sample, item in zip(samples, items):
            hand_written(sample.output_text, item["answer"])

    rates = best_rates({"one": ours_one_by_one, "batched": ours_batched, "base": baseline}, count)
    one, batched, base = rates["one"], rates["batched"], rates["base"]
    print(f"samples                          {count:,} (identical rewards on every sample)")
    print(f"hand-written function            {base:,.0f} samples/s")
    print(f"multi grade() one by one         {one:,.0f} samples/s   time ratio {base / one:.2f}x")
    print(f"multi grade_batch({BATCH})        {batched:,.0f} samples/s   time ratio {base / batched:.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
