"""`rft score` end to end (a subprocess: start-up, reading JSONL, grading, writing rows, summary),
and what `--workers 2` gives against `--workers 1`, in the same run.

Run:
    python benchmarks/score_end_to_end.py [--rows 100000] [--math-rows 3000] [--rouge-rows 1024]

Prints:
- rows/s of `rft score` with a multi of string_check + fuzzy_match on ``--rows`` one-sample rows,
  against baselines measured in the same run: a loop that only reads the same file (json.loads
  per line) and writes one output-sized row per line (json.dumps) — the standard library's JSON
  I/O floor — and the same loop with orjson, which `rft score` reads and writes rows with.
  Target (issue 8): >= 30,000 rows/s including JSON I/O.
- seconds with `--workers 1` and `--workers 2` for math (which already spreads sympy over its own
  worker pool) and text_similarity rouge_l (pure Python, CPU-bound in one process), and the
  speed-up; the outputs are checked equal (but for execution_time and math's cache flag) first.
Each timing is the best of ``--repeats`` runs; runs take turns so a noisy neighbour slows all alike.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, os.path.dirname(__file__))

from _corpus import pairs
from math_corpus import corpus as math_corpus

TEXT_SPEC = """\
type: multi
calculate_output: 0.8 * exact + 0.2 * close
graders:
  exact: {type: string_check, operation: eq, reference: "{{ item.answer }}", casefold: true, collapse_whitespace: true}
  close: {type: fuzzy_match, metric: token_set_ratio, reference: "{{ item.answer }}"}
"""
MATH_SPEC = "type: math\n"
ROUGE_SPEC = 'type: text_similarity\nevaluation_metric: rouge_l\nreference: "{{ item.answer }}"\n'
WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi".split()


def _write(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return path


def _rft_score(spec: Path, data: Path, out: Path, workers: int) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rft_core.cli", "score", str(spec), str(data), "-o", str(out), "--no-progress",
         "--workers", str(workers)],
        check=True, stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def _json_floor(data: Path, out: Path, loads: Callable[[bytes], Any], dumps: Callable[[dict], str]) -> float:
    """Read every row and write one output-sized row per line: the JSON I/O a scorer cannot avoid."""
    start = time.perf_counter()
    with open(data, "rb") as source, open(out, "w", encoding="utf-8") as sink:
        for index, line in enumerate(source):
            loads(line)
            row = {"index": index, "reward": 1.0, "status": "ok", "reason": None, "errors": {},
                   "sub_rewards": {"exact": {"reward": 1.0, "status": "ok", "reason": None},
                                   "close": {"reward": 1.0, "status": "ok", "reason": None}},
                   "execution_time": 1e-05}
            sink.write(dumps(row) + "\n")
    return time.perf_counter() - start


def _best(functions: dict, repeats: int) -> dict:
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(repeats):
        for name, function in functions.items():
            best[name] = min(best[name], function())
    return best


def _rows_of(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        del row["execution_time"]
        row.get("metadata", {}).pop("decided", None)  # math: "cache" only where this process compared before
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--math-rows", type=int, default=3000)
    parser.add_argument("--rouge-rows", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        text_spec = root / "text.yaml"
        text_spec.write_text(TEXT_SPEC, encoding="utf-8")
        text_data = _write(root / "text.jsonl", [{"answer": ref, "output_text": out} for out, ref in pairs(args.rows)])
        times = _best(
            {"floor": lambda: _json_floor(text_data, root / "floor.jsonl", json.loads,
                                          lambda row: json.dumps(row, ensure_ascii=False)),
             "orjson floor": lambda: _json_floor(text_data, root / "floor.jsonl", orjson.loads,
                                                 lambda row: orjson.dumps(row).decode()),
             "rft": lambda: _rft_score(text_spec, text_data, root / "text-out.jsonl", 1)},
            args.repeats,
        )
        rate, floor, orjson_floor = (args.rows / times[name] for name in ("rft", "floor", "orjson floor"))
        print(f"\nstring_check + fuzzy_match, {args.rows:,} rows, rft score end to end")
        print(f"  JSON read+write floor  {floor:10,.0f} rows/s  (json; with orjson: {orjson_floor:,.0f} rows/s)")
        print(f"  rft score              {rate:10,.0f} rows/s  ({rate / floor:.2f}x the floor, {rate / orjson_floor:.2f}x "
              f"the orjson one; target >= 30,000 rows/s: {'met' if rate >= 30_000 else 'NOT met'})")

        triples = math_corpus()
        math_rows = [{"answer": reference, "output_text": output} for reference, output, _ in triples]
        math_rows = (math_rows * (args.math_rows // len(math_rows) + 1))[: args.math_rows]
        random.Random(0).shuffle(math_rows)
        rng = random.Random(1)
        rouge_rows = [
            {"answer": " ".join(rng.choice(WORDS) for _ in range(150)), "output_text": " ".join(rng.choice(WORDS) for _ in range(150))}
            for _ in range(args.rouge_rows)
        ]
        for name, spec_text, rows in (("math", MATH_SPEC, math_rows), ("text_similarity rouge_l", ROUGE_SPEC, rouge_rows)):
            spec = root / "spec.yaml"
            spec.write_text(spec_text, encoding="utf-8")
            data = _write(root / "data.jsonl", rows)
            outs = {workers: root / f"out{workers}.jsonl" for workers in (1, 2)}
            times = _best({workers: (lambda w=workers: _rft_score(spec, data, outs[w], w)) for workers in (1, 2)}, args.repeats)
            assert _rows_of(outs[1]) == _rows_of(outs[2]), f"{name}: --workers 2 wrote other rows than --workers 1"
            print(f"\n{name}, {len(rows):,} rows")
            for workers, seconds in times.items():
                print(f"  --workers {workers}  {seconds:7.2f} s  {len(rows) / seconds:9,.0f} rows/s")
            print(f"  scaling (workers 2 / workers 1 rows/s): {times[1] / times[2]:.2f}x")


if __name__ == "__main__":
    main()
