"""pass@k, maj@k and mean@k: the estimator against its definition, and in rft report (text, JSON, HTML)."""

from __future__ import annotations

import itertools
import json
import math

import pytest

from rft_core.cli import main as rft_main
from rft_core.report.k_samples import Draw, k_sample_metrics, k_values, maj_at_k, majority_solved, pass_at_k
from rft_core.report.summary import Summary
from rft_core.kernel.types import Result, Status


def metrics_of(*items):
    """k_sample_metrics of items given as lists of draws, aggregated as the report does."""
    voted = any(draw.answer is not None for draws in items for draw in draws)
    return k_sample_metrics([len(draws) for draws in items], [sum(draw.passed for draw in draws) for draws in items],
                            [sum(draw.reward for draw in draws) / len(draws) for draws in items],
                            list(items) if voted else None)


def pass_at_k_by_counting(outcomes, k):
    """The definition: the share of the k-subsets of an item's samples that hold a pass."""
    subsets = list(itertools.combinations(outcomes, k))
    return sum(any(subset) for subset in subsets) / len(subsets)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_pass_at_k_is_the_share_of_k_subsets_holding_a_pass(n):
    for c in range(n + 1):
        outcomes = [True] * c + [False] * (n - c)
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(pass_at_k_by_counting(outcomes, k), abs=1e-12), (n, c, k)


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (10, 0, 5, 0.0),  # nothing passes
        (10, 10, 1, 1.0),
        (10, 3, 1, 0.3),  # pass@1 is the pass rate
        (10, 3, 8, 1.0),  # fewer fails (7) than k: some pass always drawn
        (100, 1, 10, 0.1),  # 1 - C(99, 10) / C(100, 10) = 10 / 100
        (200, 17, 50, 1 - math.prod((200 - 17 - i) / (200 - i) for i in range(50))),  # the product form
    ],
)
def test_pass_at_k_closed_form(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, rel=1e-12)


def test_pass_at_k_refuses_impossible_counts():
    with pytest.raises(ValueError, match="pass@k needs 0 <= c <= n and 0 < k <= n, got n=3, c=4, k=1"):
        pass_at_k(3, 4, 1)


@pytest.mark.parametrize(("fewest", "ks"), [(1, [1]), (2, [1, 2]), (4, [1, 2, 4]), (6, [1, 2, 4, 6]), (0, [])])
def test_k_values(fewest, ks):
    assert k_values(fewest) == ks


@pytest.mark.parametrize(
    ("answers", "passed", "solved"),
    [
        (["4", "5", "4"], [True, False, True], True),
        (["5", "4", "5"], [False, True, False], False),  # the right answer is in the minority
        (["4", "5"], [True, False], True),  # a tie goes to the answer seen first
        (["5", "4"], [False, True], False),
        ([" 4 ", "4", "5"], [True, True, False], True),  # answers are compared trimmed
        ([None, None, "4"], [True, True, True], True),  # samples without an answer do not vote
        ([None, None], [True, True], False),  # no votes: not solved by majority
    ],
)
def test_majority_vote(answers, passed, solved):
    draws = [Draw(ok, float(ok), answer) for answer, ok in zip(answers, passed)]
    assert majority_solved(draws) is solved


def test_metrics_over_crafted_items():
    metrics = metrics_of(
        [Draw(True, 1.0, "4"), Draw(False, 0.0, "5"), Draw(True, 1.0, "4"), Draw(False, 0.0, "7")],  # c=2
        [Draw(False, 0.0, "1"), Draw(False, 0.0, "1"), Draw(False, 0.5, "2"), Draw(True, 1.0, "3")],  # c=1
        [Draw(False, 0.0, None)] * 4,  # c=0, no answers
    )
    assert metrics["items"] == 3 and metrics["samples_per_item"] == {"min": 4, "max": 4}
    for k in (1, 2, 4):
        expected = (pass_at_k(4, 2, k) + pass_at_k(4, 1, k) + 0.0) / 3
        assert metrics["pass@k"][str(k)] == pytest.approx(expected)
    assert metrics["pass@k"] == pytest.approx({"1": 0.25, "2": (5 / 6 + 1 / 2) / 3, "4": 2 / 3})
    # maj@k over every k-subset. k=1: each sample alone, 2/4, 1/4, 0. k=2: the first item's six pairs elect 4
    # four times (a 4-5 or 4-7 tie goes to the 4 that comes first), 5 twice; the second's never elect 3.
    # k=4: 4 (two votes) wins the first item, 1 (two votes) the second.
    assert metrics["maj@k"] == pytest.approx({"1": (2 / 4 + 1 / 4) / 3, "2": (4 / 6) / 3, "4": 1 / 3})
    assert metrics["mean@k"] == pytest.approx({"4": (0.5 + 1.5 / 4 + 0.0) / 3})  # the same for every k: shown once
    assert metrics["answered"] == pytest.approx(8 / 12)


def test_maj_at_k_does_not_depend_on_the_order_of_the_samples():
    """Two right answers among five: the first three would elect it, the last three not; over every
    3-subset a majority of 'right' needs both right samples among the three: 3 of 10 subsets."""
    right, wrong = Draw(True, 1.0, "4"), Draw(False, 0.0, "5")
    assert maj_at_k([right, right, wrong, wrong, wrong], 3) == maj_at_k([wrong, wrong, wrong, right, right], 3) == 0.3


def test_maj_at_k_ties_go_to_the_answer_first_in_the_data():
    distinct = [Draw(True, 1.0, "4")] + [Draw(False, 0.0, str(n)) for n in range(5, 9)]
    assert maj_at_k(distinct, 3) == pytest.approx(6 / 10)  # every subset ties; those holding the first sample pass
    assert maj_at_k(distinct[1:] + distinct[:1], 3) == 0.0


def test_maj_at_k_of_many_samples_is_estimated_from_a_fixed_draw_of_subsets():
    draws = [Draw(n % 3 == 0, 0.0, "right" if n % 3 == 0 else f"wrong {n % 2}") for n in range(30)]
    estimate = maj_at_k(draws, 10, seed=1)
    assert estimate == maj_at_k(draws, 10, seed=1)  # deterministic
    assert estimate == pytest.approx(0.35, abs=0.15)  # 10 right against two wrong answers of 10 each


def test_no_metrics_without_several_samples_per_item():
    assert metrics_of([Draw(True, 1.0, None)], [Draw(False, 0.0, None)]) is None
    assert "maj@k" not in metrics_of([Draw(True, 1.0, None)] * 2)


def test_summary_gathers_a_rows_samples_wherever_they_are():
    """rft score writes a row's samples together; a hand-made scores file may not."""
    summary = Summary()
    for index, reward in [(0, 1.0), (1, 0.0), (0, 0.0), (1, 0.0), (2, 1.0), (2, 1.0)]:
        summary.add(index, Result(reward))
    metrics = summary.to_dict()["k_samples"]["(root)"]
    assert metrics["items"] == 3 and metrics["samples_per_item"] == {"min": 2, "max": 2}
    assert metrics["pass@k"] == pytest.approx({"1": (0.5 + 0 + 1) / 3, "2": (1 + 0 + 1) / 3})


def test_summary_keeps_not_applicable_samples_out():
    summary = Summary()
    for index, status in [(0, Status.OK), (0, Status.NOT_APPLICABLE), (0, Status.OK), (1, Status.OK), (1, Status.OK)]:
        summary.add(index, Result(1.0 if status is Status.OK and index == 0 else 0.0, status))
    report = summary.to_dict()
    assert report["k_samples"]["(root)"]["samples_per_item"] == {"min": 2, "max": 2}
    assert report["k_samples"]["(root)"]["pass@k"] == {"1": 0.5, "2": 0.5}


MATH_ROWS = [
    # answers 4, 4, 5: 2 of 3 pass and the majority is right
    {"id": "a", "answer": "4", "completions": ["\\boxed{4}", "The answer is 4.", "\\boxed{5}"]},
    # answers 7, 7, 6: majority wrong though one sample is right
    {"id": "b", "answer": "6", "completions": ["\\boxed{7}", "#### 7", "\\boxed{6}"]},
    # 1/2 and 0.5 are the same value but different text: the vote is on text, 3 beats both
    {"id": "c", "answer": "3", "completions": ["\\boxed{3}", "\\boxed{1/2}", "\\boxed{3}"]},
]


def test_rft_report_gives_pass_maj_and_mean_at_k_for_math(tmp_path, capsys):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"type": "math", "reference": "{{ item.answer }}"}))
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in MATH_ROWS))
    out = tmp_path / "out.jsonl"
    assert rft_main(["score", str(spec), str(data), "-o", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    html = tmp_path / "report.html"
    assert rft_main(["report", str(out), "--json", "--html", str(html)]) == 0
    metrics = json.loads(capsys.readouterr().out)["k_samples"]["(root)"]
    assert metrics["pass@k"] == pytest.approx({
        "1": (2 / 3 + 1 / 3 + 2 / 3) / 3,
        "2": (pass_at_k(3, 2, 2) + pass_at_k(3, 1, 2) + pass_at_k(3, 2, 2)) / 3,
        "3": 1.0,
    })
    # any one sample: 2/3, 1/3, 2/3 right; pairs: a always 4, b always 7, c 3 but for the 1/2-3 tie; all three:
    # b's majority is wrong
    assert metrics["maj@k"] == pytest.approx({"1": 5 / 9, "2": (1 + 0 + 2 / 3) / 3, "3": 2 / 3})
    assert metrics["mean@k"] == pytest.approx({"3": (2 / 3 + 1 / 3 + 2 / 3) / 3})
    page = html.read_text()
    assert '<section id="k-samples">' in page and "<th>maj@3</th>" in page
    assert rft_main(["report", str(out)]) == 0
    text = capsys.readouterr().out
    header = next(line for line in text.splitlines() if line.startswith("k samples"))
    assert header.split() == ["k", "samples", "items", "pass@1", "pass@2", "pass@3", "maj@1", "maj@2", "maj@3",
                              "mean@3"]
    assert any(line.split()[:3] == ["(root)", "3", "0.5556"] for line in text.splitlines())
