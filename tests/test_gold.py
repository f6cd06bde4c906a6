"""rft_core.report.gold: gold labels from a data file (per row or per sample) and agreement with rewards."""

from __future__ import annotations

import json

import pytest

from rft_core.kernel.errors import RftError
from rft_core.report.gold import Gold, agreement, read_gold


def _data(tmp_path, *rows):
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(row if isinstance(row, str) else json.dumps(row) for row in rows) + "\n")
    return path


def test_labels_per_row_per_sample_and_in_items(tmp_path):
    path = _data(
        tmp_path,
        {"output_text": "a", "label": 1},  # one sample, a number
        {"completions": ["a", "b", "c"], "label": "pass"},  # one word for every sample of the row
        {"completions": ["a", "b"], "label": [True, False]},  # a list: per completion
        "",  # blank lines do not count as rows
        {"item": {"label": 0.25}, "sample": "x"},  # canonical: in the item
        {"output_text": "no label here"},  # missing: unlabelled
        {"completions": ["a", "b"], "label": [None, "no"]},  # a null label: that sample unlabelled
        "{not json",  # an unreadable row: unlabelled, still counts as a row
        {"output_text": "z", "label": "Correct "},  # words are case- and space-insensitive
    )
    gold = read_gold(path, "label")
    assert gold.column == "label"
    assert gold.labels == {
        (0, 0): 1.0,
        (1, 0): 1.0, (1, 1): 1.0, (1, 2): 1.0,
        (2, 0): 1.0, (2, 1): 0.0,
        (3, 0): 0.25,
        (5, 1): 0.0,
        (7, 0): 1.0,
    }


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"output_text": "a", "label": "maybe"}, "line 2: column 'label': 'maybe' is not a label: use a number, true/false or pass/fail"),
        ({"output_text": "a", "label": {"score": 1}}, "line 2: column 'label': {'score': 1} is not a label"),
        ({"output_text": "a", "label": float("nan")}, "line 2: column 'label': nan is not a label"),
        ({"completions": ["a", "b", "c"], "label": [1, 0]},
         "line 2: column 'label': a list of 2 labels for a row of 3 sample(s); give one label per completion"),
        ({"output_text": "a", "label": [1, 0]}, "line 2: column 'label': a list of 2 labels for a row of 1 sample(s)"),
    ],
    ids=["word", "object", "nan", "list-length", "list-for-one-sample"],
)
def test_bad_labels_name_the_file_and_line(tmp_path, row, message):
    path = _data(tmp_path, {"output_text": "ok", "label": 1}, row)
    with pytest.raises(RftError) as caught:
        read_gold(path, "label")
    assert str(caught.value).startswith(f"{path}: {message}")


def test_a_column_no_row_has(tmp_path):
    path = _data(tmp_path, {"output_text": "a", "answer": "x"})
    with pytest.raises(RftError, match=r"no row has a column 'labe' to take gold labels from"):
        read_gold(path, "labe")


def test_a_missing_file(tmp_path):
    with pytest.raises(RftError, match=r"nope.jsonl: data file not found$"):
        read_gold(tmp_path / "nope.jsonl", "label")


def _graded(rewards, ok=None):
    return [((index, 0), reward, True if ok is None else ok[index]) for index, reward in enumerate(rewards)]


def test_perfect_agreement():
    labels = {(index, 0): label for index, label in enumerate([1.0, 0.0, 1.0, 0.0])}
    result = agreement(labels, _graded([1.0, 0.2, 1.0, 0.0]), pass_threshold=1.0)
    # ranks: labels (3.5, 1.5, 3.5, 1.5), rewards (3.5, 2, 3.5, 1): covariance 4, spreads 4 and 4.5
    assert result == {"labelled": 4, "accuracy": 1.0, "spearman": pytest.approx(4 / 18 ** 0.5),
                      "true_pass": 2, "false_pass": 0, "false_fail": 0, "true_fail": 2}


def test_inverse_agreement():
    labels = {(index, 0): float(index) for index in range(4)}  # graded labels 0..3
    result = agreement(labels, _graded([1.0, 0.7, 0.3, 0.0]), pass_threshold=0.5)
    assert result["spearman"] == pytest.approx(-1.0)
    # labels 1, 2, 3 pass (>= 0.5) but only the first two rewards do: 0 passes against label 0, ...
    assert (result["true_pass"], result["false_pass"], result["false_fail"], result["true_fail"]) == (1, 1, 2, 0)
    assert result["accuracy"] == 0.25


def test_ties_and_unlabelled_and_non_ok():
    labels = {(0, 0): 1.0, (1, 0): 1.0, (2, 0): 0.0, (3, 0): 0.0}  # sample 4 has no label
    # sample 1 has reward 1.0 but a non-ok status: it does not pass
    graded = _graded([1.0, 1.0, 0.5, 0.5, 1.0], ok=[True, False, True, True, True])
    result = agreement(labels, graded, pass_threshold=1.0)
    assert result["labelled"] == 4
    assert (result["true_pass"], result["false_fail"], result["true_fail"], result["false_pass"]) == (1, 1, 2, 0)
    # ranks: labels (3.5, 3.5, 1.5, 1.5), rewards (3.5, 3.5, 1.5, 1.5): perfectly correlated despite ties
    assert result["spearman"] == pytest.approx(1.0)


def test_no_labels_at_all():
    result = agreement({}, _graded([1.0, 0.0]), pass_threshold=1.0)
    assert (result["labelled"], result["accuracy"], result["spearman"]) == (0, None, None)


def test_gold_holds_its_column():
    assert Gold("label").labels == {}
