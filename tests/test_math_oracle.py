"""Differential test: rft math and math-verify (an independent oracle) over a generated corpus.

The truth of every pair is known by construction (tests/math_oracle_corpus.py), so both
graders are scored against it. Every form on which the two disagree must be one where
rft math is right and must be listed, with the reason, in tests/math_oracle_disagreements.yaml;
a form where rft math is wrong must be fixed, and a listed form that no longer disagrees
must be removed from the file. math-verify is a test-only dependency (the ``dev`` extra).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from math_oracle_corpus import corpus, math_verify_verdicts

from graders.math import MathGrader
from rft_core import Sample
from rft_core.kernel.cpus import available_cpus

pytest.importorskip("math_verify")

REVIEWED = Path(__file__).with_name("math_oracle_disagreements.yaml")
PAIRS = corpus(rounds=15)


def _balanced(verdicts: list[bool]) -> float:
    positives = [verdict for verdict, pair in zip(verdicts, PAIRS) if pair.equal]
    negatives = [not verdict for verdict, pair in zip(verdicts, PAIRS) if not pair.equal]
    return (sum(positives) / len(positives) + sum(negatives) / len(negatives)) / 2


@pytest.fixture(scope="module")
def verdicts() -> dict[str, list[bool]]:
    results = MathGrader(workers=1).grade_batch([Sample(pair.output) for pair in PAIRS], [{"answer": pair.reference} for pair in PAIRS])
    ours = [result.reward == 1.0 for result in results]
    return {"rft": ours, "math_verify": math_verify_verdicts(PAIRS, processes=min(2, available_cpus()))}


def test_corpus_is_large_and_balanced():
    assert len(PAIRS) >= 5000
    assert 0.4 < sum(pair.equal for pair in PAIRS) / len(PAIRS) < 0.7
    assert corpus(rounds=15) == PAIRS  # deterministic


def test_accuracy_against_the_construction_truth(verdicts):
    ours, theirs = _balanced(verdicts["rft"]), _balanced(verdicts["math_verify"])
    print(f"\nbalanced accuracy on {len(PAIRS)} pairs: rft math {ours:.4f}, math-verify {theirs:.4f}")
    wrong = [(pair.form, pair.reference, pair.output[-60:]) for verdict, pair in zip(verdicts["rft"], PAIRS) if verdict != pair.equal]
    assert not wrong, f"rft math is wrong on {len(wrong)} pairs, first: {wrong[:5]}"
    false_passes = [pair.form for verdict, pair in zip(verdicts["rft"], PAIRS) if verdict and not pair.equal]
    assert not false_passes


def test_every_disagreement_is_reviewed(verdicts):
    reviewed = {entry["form"]: entry for entry in yaml.safe_load(REVIEWED.read_text())}
    disagreeing: dict[str, object] = {}
    for ours, theirs, pair in zip(verdicts["rft"], verdicts["math_verify"], PAIRS):
        if ours != theirs:
            assert ours == pair.equal, f"math-verify is right and rft math wrong on {pair}: fix rft math"
            disagreeing.setdefault(pair.form, pair)
    missing = {form: (pair.reference, pair.output[-60:]) for form, pair in disagreeing.items() if form not in reviewed}
    assert not missing, f"disagreements not listed in {REVIEWED.name}: {missing}"
    stale = sorted(set(reviewed) - set(disagreeing))
    assert not stale, f"{REVIEWED.name} lists forms that no longer disagree: {stale}"
    for form, entry in reviewed.items():
        assert entry["truth"] == ("equal" if disagreeing[form].equal else "not equal"), form
        assert entry["reason"].strip(), form
