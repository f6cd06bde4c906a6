"""A string_check + fuzzy_match composition against a hand-written function doing the same work.

Both sides: strip + casefold both texts, exact equality, rapidfuzz fuzz.ratio with
default_process, then 0.5 * exact + 0.5 * close.
Run: python benchmarks/composition_overhead.py [--samples N]
Target (issue 2): ours <= 2x the hand-written time.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("RFT_LOAD_PLUGINS", "")

from _corpus import best_rate, pairs  # noqa: E402
from rapidfuzz import fuzz, utils  # noqa: E402

from rft_core import Sample, load_spec  # noqa: E402

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
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=100_000)
    count = parser.parse_args().samples

    corpus = pairs(count)
    samples = [Sample(text) for text, _ in corpus]
    items = [{"answer": reference} for _, reference in corpus]
    grader = load_spec(SPEC)

    mismatches = sum(
        abs(grader.grade(s, i).reward - hand_written(s.output_text, i["answer"])) > 1e-12
        for s, i in zip(samples, items)
    )
    if mismatches:
        raise SystemExit(f"the two sides disagree on {mismatches} samples: not the same work")

    def ours() -> None:
        grade = grader.grade
        for sample, item in zip(samples, items):
            grade(sample, item)

    def baseline() -> None:
        for sample, item in zip(samples, items):
            hand_written(sample.output_text, item["answer"])

    rate = best_rate(ours, count)
    base = best_rate(baseline, count)
    print(f"samples                      {count:,} (identical rewards on every sample)")
    print(f"multi(string_check, fuzzy)   {rate:,.0f} samples/s")
    print(f"hand-written function        {base:,.0f} samples/s")
    print(f"time ratio ours/hand-written {base / rate:.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
