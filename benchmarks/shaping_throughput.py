"""format, length, repetition and tool_call throughput on one core, in-process, each against a
hand-written function computing the same rewards on the same samples. Rates are per CPU second
of this process (single-threaded work: other processes on a shared machine do not count against it).

Run: python benchmarks/shaping_throughput.py [--samples N]
Target (issue 19): >= 100,000 samples/s batched for each of the four.
"""

from __future__ import annotations

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("RFT_LOAD_PLUGINS", "")

import orjson
from _corpus import best_rates
from _shaping_corpus import reasoning_outputs, tool_rows

from rft_core import Sample, load_spec

BATCH = 1024  # what rft score and the TRL adapter hand to grade_batch

WELL_FORMED = re.compile(r"\s*<think>([^<]*)</think>\s*<answer>([^<]*)</answer>\s*")
HEDGE = re.compile(r"(?i)\bor\b")


def format_by_hand(text: str) -> float:
    """<think> then <answer>, whitespace around them, an answer that is neither empty nor a hedge."""
    match = WELL_FORMED.fullmatch(text)
    if match is None:
        return 0.0
    answer = match[2].strip()
    return float(bool(answer) and HEDGE.search(answer) is None and answer.count("\\boxed") < 2)


def overlong_by_hand(text: str, max_length: int = 60, buffer: int = 20) -> float:
    """DAPO's soft overlong punishment in words."""
    excess = len(text.split()) - (max_length - buffer)
    return 0.0 if excess <= 0 else max(-1.0, -excess / buffer)


def repetition_by_hand(text: str, threshold: float = 0.1) -> float:
    """The share of repeated word 4-grams past the threshold, as a linear penalty."""
    words = text.split()
    total = len(words) - 3
    if total <= 0:
        return 0.0
    share = 1.0 - len(set(zip(words, words[1:], words[2:], words[3:]))) / total
    return 0.0 if share <= threshold else max(-1.0, -(share - threshold) / (1.0 - threshold))


def tool_f1_by_hand(sample: Sample, item: dict) -> float:
    """F1 of made against expected calls, a call matching on its name and equal arguments."""
    made = [(call["function"]["name"], orjson.loads(call["function"]["arguments"])) for call in sample.output_tools]
    expected = [(call["name"], call["arguments"]) for call in item["tool_calls"]]
    free = list(made)
    paired = 0
    for call in expected:
        if call in free:
            free.remove(call)
            paired += 1
    if not paired:
        return 0.0
    precision, recall = paired / len(made), paired / len(expected)
    return 2 * precision * recall / (precision + recall)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=20_000)
    count = parser.parse_args().samples
    texts = [Sample(text) for text in reasoning_outputs(count)]
    tool_samples, tool_items = tool_rows(count)
    tool_samples = [Sample.coerce(sample) for sample in tool_samples]
    cases = {
        "format": ({"type": "format"}, texts, [{}] * count, lambda s, i: format_by_hand(s.output_text)),
        "length": (
            {"type": "length", "unit": "words", "max_length": 60, "buffer": 20},
            texts, [{}] * count, lambda s, i: overlong_by_hand(s.output_text),
        ),
        "repetition": ({"type": "repetition"}, texts, [{}] * count, lambda s, i: repetition_by_hand(s.output_text)),
        "tool_call": ({"type": "tool_call"}, tool_samples, tool_items, tool_f1_by_hand),
    }
    print(f"samples per grader: {count:,}; grade_batch({BATCH}); best of interleaved rounds; per CPU second")
    for name, (spec, samples, items, by_hand) in cases.items():
        grader = load_spec(spec)
        rewards = [result.reward for result in grader.grade_batch(samples, items)]
        expected = list(map(by_hand, samples, items))
        if any(abs(got - want) > 1e-9 for got, want in zip(rewards, expected)):
            raise SystemExit(f"{name} and its hand-written function disagree: not the same work")

        def batched(grader=grader, samples=samples, items=items) -> None:
            for start in range(0, count, BATCH):
                grader.grade_batch(samples[start : start + BATCH], items[start : start + BATCH])

        def hand_written(samples=samples, items=items, by_hand=by_hand) -> None:
            for sample, item in zip(samples, items):
                by_hand(sample, item)

        rates = best_rates({"base": hand_written, "batched": batched}, count, repeats=5, clock=time.process_time)
        base, rate = rates["base"], rates["batched"]
        print(f"{name:<11} hand-written {base:>10,.0f}/s   grade_batch {rate:>10,.0f}/s   "
              f"{rate / 100_000:.2f}x the 100,000/s target, time ratio to hand-written {base / rate:.2f}x")


if __name__ == "__main__":
    main()
