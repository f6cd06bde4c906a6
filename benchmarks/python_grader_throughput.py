"""python grader throughput: the OS sandbox (a fresh process per sample) against the implementation before it.

Run: python benchmarks/python_grader_throughput.py [--samples N] [--previous COMMIT]

A trivial grade(sample, item) through grade_batch, in four set-ups measured in turns:
- isolation: sandbox (the default: bwrap namespaces, one forked process per sample);
- isolation: none (no namespaces, still one forked process per sample);
- the previous implementation (one reused worker process with an audit hook), loaded from git
  history at COMMIT (the parent of the sandbox's first commit by default; skipped without git);
- the same grade function called in this process (the floor).
Also the time to the first result (sandbox start, supervisor, load check, one sample).
Target (issue 14): the sandbox must stay usable for RL; the figure is printed, no threshold.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("RFT_LOAD_PLUGINS", "")

from _corpus import best_rates, pairs

from rft_core import Sample
from graders.python.python_grader import PythonGrader

SOURCE = """
def grade(sample, item):
    return 1.0 if sample["output_text"].strip().casefold() == item["answer"].casefold() else 0.0
"""
PREVIOUS = "6d5418e"  # main before the sandbox: graders/python/python_grader.py with its reused, hooked worker


def previous_grader_class(commit: str):
    """PythonGrader as it was at ``commit`` (its module and worker written to a temporary directory), or None."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    directory = tempfile.mkdtemp(prefix="rft-previous-python-grader-")
    for name in ("python_grader.py", "_python_worker.py"):
        shown = subprocess.run(["git", "-C", root, "show", f"{commit}:graders/{name}"], capture_output=True)
        if shown.returncode != 0:
            return None
        with open(os.path.join(directory, name), "wb") as handle:
            handle.write(shown.stdout)
    spec = importlib.util.spec_from_file_location("previous_python_grader", os.path.join(directory, "python_grader.py"))
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except (ImportError, TypeError) as exc:  # written against an rft_core contract that has since changed
        print(f"previous implementation ({commit}) does not load with this rft_core: {type(exc).__name__}: {exc}")
        return None
    return module.PythonGrader


def first_result_seconds(make) -> float:
    """Seconds from a new grader to its first result (best of 3)."""
    best = float("inf")
    for _ in range(3):
        grader = make()
        start = time.perf_counter()
        grader.grade("Paris", {"answer": "Paris"})
        best = min(best, time.perf_counter() - start)
        grader.close()
    return best


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--previous", default=PREVIOUS)
    arguments = parser.parse_args()
    corpus = pairs(arguments.samples)
    samples = [Sample(text) for text, _ in corpus]
    items = [{"answer": reference} for _, reference in corpus]
    expected = [1.0 if text.strip().casefold() == reference.casefold() else 0.0 for text, reference in corpus]

    makers = {
        "sandbox": lambda: PythonGrader(source=SOURCE),
        "none": lambda: PythonGrader(source=SOURCE, isolation="none"),
    }
    previous = previous_grader_class(arguments.previous)
    if previous is not None:
        makers["previous"] = lambda: previous(source=SOURCE)
    graders = {name: make() for name, make in makers.items()}
    for name, grader in graders.items():
        rewards = [result.reward for result in grader.grade_batch(samples, items)]
        if rewards != expected:
            raise SystemExit(f"{name}: rewards differ from the hand-written ones: not the same work")
    namespace: dict = {}
    exec(SOURCE, namespace)  # noqa: S102 - our own constant source: the in-process floor
    grade = namespace["grade"]

    def in_process() -> None:
        for sample, item in zip(samples, items):
            grade(sample.to_dict(), item)

    functions = {name: (lambda grader=grader: grader.grade_batch(samples, items)) for name, grader in graders.items()}
    rates = best_rates({**functions, "in_process": in_process}, arguments.samples, repeats=3)
    starts = {name: first_result_seconds(make) for name, make in makers.items()}
    for grader in graders.values():
        grader.close()

    labels = {
        "sandbox": "isolation: sandbox (fresh process per sample)",
        "none": "isolation: none (fresh process per sample)",
        "previous": f"previous implementation ({arguments.previous}: reused hooked worker)",
        "in_process": "grade() called in this process",
    }
    print(f"samples                          {arguments.samples:,} (identical rewards in every set-up)")
    for name in ("sandbox", "none", "previous", "in_process"):
        if name in rates:
            start = f", first result after {starts[name] * 1000:,.0f} ms" if name in starts else ""
            print(f"{labels[name]:<62} {rates[name]:>10,.0f} samples/s{start}")
    if previous is None:
        print(f"previous implementation: not measured ({arguments.previous} not found or not loadable)")
    else:
        print(f"sandbox / previous throughput    {rates['sandbox'] / rates['previous']:.3f}x")
    print(f"sandbox / isolation: none        {rates['sandbox'] / rates['none']:.3f}x")


if __name__ == "__main__":
    main()
