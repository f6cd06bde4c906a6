"""rft_core.report.scores: reading an output file of `rft score -o` back, with clear errors for bad lines."""

from __future__ import annotations

import json

import pytest

from rft_core.kernel.errors import RftError
from rft_core.run.output import result_from_row
from rft_core.report.summary import Summary
from rft_core.report.scores import read_scores

GOOD = {"index": 0, "id": "q0", "sample_index": 0, "reward": 1.0, "status": "ok", "reason": None,
        "sub_rewards": {"a": {"reward": 1.0, "status": "ok", "reason": None,
                              "sub_rewards": {"b": {"reward": 0.0, "status": "parse_error", "reason": "no answer"}}}},
        "errors": {}, "execution_time": 0.001}


def _write(tmp_path, *lines):
    path = tmp_path / "scores.jsonl"
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


def test_reads_rows_into_a_summary(tmp_path):
    rows = [GOOD, {**GOOD, "sample_index": 1, "reward": 0.0}, {**GOOD, "index": 1, "id": "q1", "sample_index": None}]
    summary = read_scores(_write(tmp_path, *rows, ""), pass_threshold=0.5)  # a trailing blank line is fine
    expected = Summary(0.5)
    for row in rows:
        expected.add(row["index"], result_from_row(row), row["id"])
    assert summary.to_dict() == expected.to_dict()
    assert summary.to_dict()["graders"]["a.b"]["status_rates"]["parse_error"] == 1.0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "invalid JSON at column 2: Expecting property name enclosed in double quotes"),
        ("[1, 2]", "a row must be a JSON object, not list"),
        ({**GOOD, "index": None}, "'index' must be a row number, not None"),
        ({**GOOD, "index": True}, "'index' must be a row number, not True"),
        ({**GOOD, "index": -1}, "'index' must be a row number, not -1"),
        ({**GOOD, "reward": "1"}, "'reward' must be a finite number, not '1'"),
        ('{"index": 0, "reward": NaN, "status": "ok"}', "'reward' must be a finite number, not nan"),
        ({**GOOD, "status": "fine"}, "'status' must be one of error, not_applicable, ok, parse_error, timeout, not 'fine'"),
        ({**GOOD, "sub_rewards": [1]}, "'sub_rewards' must be an object"),
        ({**GOOD, "metadata": "x"}, "'metadata' must be an object"),
        ({**GOOD, "sub_rewards": {"a": {"reward": 1.0, "status": "ok", "sub_rewards": {"b": {"reward": 1.0}}}}},
         "sub-grader 'a.b': 'status' must be one of error, not_applicable, ok, parse_error, timeout, not None"),
        ({**GOOD, "sub_rewards": {"a": 3}}, "sub-grader 'a': not a JSON object"),
    ],
    ids=["json", "array", "no-index", "bool-index", "negative-index", "string-reward", "nan-reward", "status",
         "sub-rewards-list", "metadata", "nested-status", "nested-not-object"],
)
def test_a_bad_line_is_named(tmp_path, line, message):
    path = _write(tmp_path, GOOD, "", line)  # the blank line still counts: the bad row is on line 3
    with pytest.raises(RftError) as caught:
        read_scores(path)
    assert str(caught.value) == f"{path}: line 3: {message}; expected an output row of `rft score -o`"


def test_a_missing_file(tmp_path):
    with pytest.raises(RftError, match=r"nope.jsonl: scores file not found"):
        read_scores(tmp_path / "nope.jsonl")


def test_an_empty_file_has_no_samples(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    assert read_scores(path).render() == "no samples scored"
