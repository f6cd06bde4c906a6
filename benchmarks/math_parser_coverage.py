"""Our answer parser against latex2sympy2_extended (the ANTLR parser behind math-verify): coverage and speed.

Run (latex2sympy2_extended comes with math-verify, a test-only dependency):
    python benchmarks/math_parser_coverage.py

Every distinct answer and gold string of the generated oracle corpus (tests/math_oracle_corpus.py)
is parsed by both: ours (``clean`` then ``parse`` into a checked tree; no sympy) and
latex2sympy2_extended (its own normalisation, then ANTLR, then sympy objects). Prints the share
each parses without an error, per family where they differ, and microseconds per string.
A parse is not a correct reading: equivalence accuracy is measured by tests/test_math_oracle.py.
"""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

from math_oracle_corpus import corpus

from graders.math._parse import ParseFailure, clean, parse


def ours(text: str) -> bool:
    try:
        parse(clean(text))
        return True
    except ParseFailure:
        return False


def theirs(text: str) -> bool:
    from latex2sympy2_extended import latex2sympy

    try:
        latex2sympy(text)
        return True
    except Exception:  # noqa: BLE001 - any failure of the peer is "not parsed"
        return False


def timed(function, texts: list[str]) -> tuple[list[bool], float]:
    start = time.perf_counter()
    results = [function(text) for text in texts]
    return results, (time.perf_counter() - start) / len(texts) * 1e6


def main() -> None:
    strings: dict[str, str] = {}
    for pair in corpus():
        strings.setdefault(pair.answer, pair.family)
        strings.setdefault(pair.reference, pair.family)
    texts = list(strings)
    theirs(texts[0])  # imports outside the timing
    our_results, our_us = timed(ours, texts)
    their_results, their_us = timed(theirs, texts)
    print(f"{len(texts)} distinct answer and gold strings")
    print(f"ours                  parsed {sum(our_results) / len(texts):7.2%}   {our_us:8.1f} us/string")
    print(f"latex2sympy2_extended parsed {sum(their_results) / len(texts):7.2%}   {their_us:8.1f} us/string")
    print(f"speed ratio (theirs / ours per string): {their_us / our_us:.1f}x")
    failures: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for text, mine, peer in zip(texts, our_results, their_results):
        counts = failures[strings[text]]
        counts[0] += 1
        counts[1] += not mine
        counts[2] += not peer
    print("families where either fails (strings, ours failed, theirs failed):")
    for family, (total, mine, peer) in sorted(failures.items()):
        if mine or peer:
            print(f"  {family:22} {total:5} {mine:5} {peer:5}")


if __name__ == "__main__":
    main()
