"""A reproducible corpus of (output_text, answer) pairs shared by the benchmarks."""

from __future__ import annotations

import random

ANSWERS = ["Paris", "Amazon", "Au", "George Orwell", "Mars", "Pacific Ocean", "Leonardo da Vinci", "300000 km/s"]
WRONG = ["Lyon", "Nile", "Ag", "Aldous Huxley", "Jupiter", "Atlantic Ocean", "Michelangelo", "150000 km/s"]


def pairs(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """``count`` (model answer, reference) pairs: about half right, some with case and spacing noise."""
    rng = random.Random(seed)
    corpus = []
    for _ in range(count):
        index = rng.randrange(len(ANSWERS))
        reference = ANSWERS[index]
        answer = reference if rng.random() < 0.5 else WRONG[index]
        if rng.random() < 0.3:
            answer = f"  {answer.upper()} "
        corpus.append((answer, reference))
    return corpus


def samples_and_items(description: str, default_count: int) -> tuple[int, list, list[dict]]:
    """Parse ``--samples N`` and build that many (Sample, item) pairs from ``pairs``."""
    import argparse

    from rft_core import Sample

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--samples", type=int, default=default_count)
    count = parser.parse_args().samples
    corpus = pairs(count)
    return count, [Sample(text) for text, _ in corpus], [{"answer": reference} for _, reference in corpus]


def best_rates(functions: dict, count: int, repeats: int = 7, clock=None) -> dict:
    """Units per second of each ``function()`` (each does ``count`` units of work), best of
    ``repeats``. The functions take turns in every round, so a noisy neighbour slows them alike
    and their ratios stay fair. ``clock`` is wall time unless given (``time.process_time`` counts
    only this process's CPU seconds: the fair clock for single-threaded work on a shared machine)."""
    import time

    clock = clock or time.perf_counter
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(repeats):
        for name, function in functions.items():
            start = clock()
            function()
            best[name] = min(best[name], clock() - start)
    return {name: count / seconds for name, seconds in best.items()}


def best_rate(function, count: int, repeats: int = 5) -> float:
    """Units per second of one ``function()`` doing ``count`` units of work, best of ``repeats``."""
    return best_rates({"only": function}, count, repeats)["only"]
