"""string_check throughput on one core, in-process, against a hand-written comparison.

Run: python benchmarks/string_check_throughput.py [--samples N]
Target (issue 2): >= 100,000 samples/s for string_check alone.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("RFT_LOAD_PLUGINS", "")

from _corpus import best_rate, pairs  # noqa: E402

from rft_core import Sample, load_spec  # noqa: E402

SPEC = {
    "type": "string_check",
    "input": "{{ sample.output_text }}",
    "reference": "{{ item.answer }}",
    "operation": "eq",
    "casefold": True,
    "strip": True,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=200_000)
    count = parser.parse_args().samples

    corpus = pairs(count)
    samples = [Sample(text) for text, _ in corpus]
    items = [{"answer": reference} for _, reference in corpus]
    grader = load_spec(SPEC)

    def ours() -> None:
        grade = grader.grade
        for sample, item in zip(samples, items):
            grade(sample, item)

    def hand_written() -> None:
        for sample, item in zip(samples, items):
            1.0 if sample.output_text.strip().casefold() == item["answer"].strip().casefold() else 0.0

    agree = sum(
        grader.grade(s, i).reward == (1.0 if s.output_text.strip().casefold() == i["answer"].casefold() else 0.0)
        for s, i in zip(samples, items)
    )
    rate = best_rate(ours, count)
    baseline = best_rate(hand_written, count)
    print(f"samples                     {count:,} (agreement with hand-written: {agree / count:.1%})")
    print(f"string_check grade()        {rate:,.0f} samples/s")
    print(f"hand-written comparison     {baseline:,.0f} samples/s")
    print(f"ratio to target 100,000/s   {rate / 100_000:.2f}x")
    print(f"time ratio vs hand-written  {baseline / rate:.2f}x")


if __name__ == "__main__":
    main()
