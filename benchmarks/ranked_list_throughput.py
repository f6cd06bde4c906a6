"""ranked_list throughput on one core, against a hand-written rank lookup on the same outputs.

The outputs are the gene-ranking demo's (numbered lists with markdown and reasons, comma lists,
JSON, a stuffed 82-gene list, prose), repeated. The hand-written baseline only splits lines,
strips "N. " and "**", and looks the gene up: it has none of ranked_list's parsing, normalising,
aliases or guards, so the ratio is the price of those.

Run: python benchmarks/ranked_list_throughput.py [--samples N]
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("RFT_LOAD_PLUGINS", "")

from _corpus import best_rate

from rft_core import load_spec
from rft_core.kernel.types import Sample

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "gene_ranking" / "data.jsonl"
SPEC = {"type": "ranked_list", "reference": "{{ item.genes }}", "max_items": 10}
MARKER = re.compile(r"^\s*\d+[.)]\s*")


def hand_written(text: str, genes: list[str]) -> float:
    items = [MARKER.sub("", line).replace("**", "").split(" ")[0].upper() for line in text.splitlines() if line.strip()]
    ranks = [items.index(gene) + 1 for gene in genes if gene in items]
    return 0.7 ** (min(ranks) - 1) if ranks and len(items) <= 10 else 0.0


def main() -> None:
    count = int(sys.argv[sys.argv.index("--samples") + 1]) if "--samples" in sys.argv else 100_000
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    pairs = [(Sample(text), {"genes": row["genes"]}) for row in rows for text in row["completions"]]
    pairs = (pairs * (count // len(pairs) + 1))[:count]
    samples = [sample for sample, _ in pairs]
    items = [item for _, item in pairs]
    grader = load_spec(SPEC)

    def graded() -> None:
        grade = grader.grade
        for sample, item in pairs:
            grade(sample, item)

    def batched() -> None:
        for start in range(0, count, 1024):
            grader.grade_batch(samples[start : start + 1024], items[start : start + 1024])

    def baseline() -> None:
        for sample, item in pairs:
            hand_written(sample.output_text, item["genes"])

    agree = sum(
        grader.grade(sample, item).reward == hand_written(sample.output_text, item["genes"]) for sample, item in pairs
    )
    base = best_rate(baseline, count, repeats=3)
    print(f"samples                       {count:,} ({agree / count:.0%} same reward as the hand-written lookup, "
          "which misreads prose, JSON, aliases and lookalikes)")
    print(f"hand-written rank lookup      {base:,.0f} samples/s")
    for label, function in (("grade() one by one", graded), ("grade_batch(1024)", batched)):
        rate = best_rate(function, count, repeats=3)
        print(f"ranked_list {label:<19}{rate:,.0f} samples/s   time ratio to hand-written {base / rate:.1f}x")


if __name__ == "__main__":
    main()
