"""rft_core.run.rows: the one reader of rows, and every command's reader saying a bad line the same way."""

from __future__ import annotations

import gzip
import json

import pytest

from rft_core.cli.app import main
from rft_core.kernel.errors import RftError
from rft_core.run.jsonl import BadLine
from rft_core.run.rows import count_rows, read_values, rows_in

ROW = '{"prompt": "2+2?", "answer": "4"}'
ONE_OBJECT = "; the data file holds one JSON object a line"


def _write(tmp_path, content, name="data.jsonl"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "{path}: data file not found", id="missing"),
        pytest.param("", "{path}: no rows to test", id="empty"),
        pytest.param("\n \r\n\t\n", "{path}: no rows to test", id="blank lines only"),
        pytest.param("\ufeff\n", "{path}: no rows to test", id="a byte order mark only"),
        pytest.param(ROW + "\n\n{oops\n", "{path}: line 3: invalid JSON at column 2: Expecting property name enclosed "
                     "in double quotes" + ONE_OBJECT, id="a bad line after a blank one: its own number"),
        pytest.param(ROW + "\n" + ROW[:-1] + "\r\n", "{path}: line 2: invalid JSON at column 33: Expecting ',' "
                     "delimiter" + ONE_OBJECT, id="a truncated line with CRLF"),
        pytest.param(ROW.encode() + b'\n{"a": "\xff\xfe"}\n', "{path}: line 2: invalid UTF-8 at byte 7" + ONE_OBJECT,
                     id="not UTF-8"),
        pytest.param(ROW + "\n[1, 2]\n", "{path}: line 2: a row must be a JSON object, not list" + ONE_OBJECT,
                     id="a JSON value that is not an object"),
        pytest.param(ROW + '\n{"n": ' + "7" * 5000 + "}\n", "{path}: line 2: an integer of more than 4300 digits "
                     "(more than Python reads as a number): write it as a string" + ONE_OBJECT, id="a huge integer"),
        pytest.param(ROW + "\n" + "[" * 200_000 + "\n", "{path}: line 2: invalid JSON: nested too deeply" + ONE_OBJECT,
                     id="nested too deeply"),
        pytest.param(ROW + '\n{"text": "' + "x" * 4_000_000 + "\n", "{path}: line 2: invalid JSON at column 10: "
                     "Unterminated string starting" + ONE_OBJECT, id="a huge line cut short: a short message"),
        pytest.param("[" + ROW + ", " + ROW + "]\n", "{path}: the data file is a JSON array, not JSON Lines (one JSON "
                     "object per line): write one object per line, e.g. jq -c '.[]' {path} > {path}.jsonl",
                     id="a JSON array on one line"),
        pytest.param(json.dumps([json.loads(ROW)] * 2, indent=2), "{path}: the data file is a JSON array, not JSON Lines",
                     id="a pretty-printed JSON array"),
        pytest.param("prompt,answer\n2+2?,4\n", "{path}: the data file is comma-separated (CSV), not JSON Lines",
                     id="CSV"),
        pytest.param(gzip.compress(ROW.encode()), "{path}: the data file is gzip-compressed, not JSON Lines (one JSON "
                     "object per line): decompress it first, e.g. gunzip -k {path}", id="gzip"),
    ],
)
def test_the_reader_names_the_file_the_line_and_what_to_do(tmp_path, content, message):
    path = _write(tmp_path, content, "data")  # no .jsonl suffix: the advice names data.jsonl as the output
    with pytest.raises(RftError) as raised:
        list(rows_in(path, empty="no rows to test"))
    assert str(raised.value).startswith(message.format(path=path))
    assert len(str(raised.value)) < 400  # never the line itself


def test_rows_in_memory_are_named_by_position(tmp_path):
    with pytest.raises(RftError, match=r"^prompts: row 1: a row must be a JSON object, not str$"):
        list(rows_in([{"prompt": "a"}, "b"], "prompts"))
    with pytest.raises(RftError, match=r"^prompts: no rows to test$"):
        list(rows_in([], "prompts", empty="no rows to test"))
    assert list(rows_in([{"prompt": "a"}], "prompts")) == [("prompts: row 0", {"prompt": "a"})]


def test_a_huge_line_reads(tmp_path):
    text = "é" * 3_000_000
    path = _write(tmp_path, "\ufeff" + ROW + "\n\n" + json.dumps({"prompt": text}, ensure_ascii=False) + "\n")
    assert list(rows_in(path)) == [(f"{path}: line 1", json.loads(ROW)), (f"{path}: line 3", {"prompt": text})]
    assert count_rows(path) == 2


def test_the_tolerant_reader_hands_bad_lines_over_and_goes_on(tmp_path):
    path = _write(tmp_path, ROW + "\n{oops\n\n[1]\n")
    values = list(read_values(path))
    assert [number for number, _ in values] == [1, 2, 4]
    assert isinstance(values[1][1], BadLine) and str(values[1][1]).startswith("invalid JSON at column 2")
    assert values[2][1] == [1]


# --- every command's reader says a bad line the same way -------------------------------------------

BAD_LINE = "{path}: line 2: invalid JSON at column 2: Expecting property name enclosed in double quotes"


def _load_dataset(path):
    pytest.importorskip("datasets")
    from rft_core.integrations.training import load_dataset

    return load_dataset(path)


def _readers():
    from rft_core.audit.auditor import read_items
    from rft_core.integrations.loop import mean_reward
    from rft_core.integrations.reward_training import load_preferences
    from rft_core.integrations.sampling import read_prompt_rows
    from rft_core.integrations.sft import load_sft_rows
    from rft_core.report.scores import read_scores

    return [
        pytest.param(read_items, ROW, ONE_OBJECT, id="audit"),
        pytest.param(read_prompt_rows, ROW, ONE_OBJECT, id="sample"),
        pytest.param(_load_dataset, ROW, ONE_OBJECT, id="train"),
        pytest.param(load_sft_rows, '{"prompt": "a", "completion": "b"}', ONE_OBJECT,
                     id="train --trainer sft"),
        pytest.param(load_preferences, '{"chosen": "a", "rejected": "b"}',
                     ONE_OBJECT, id="train-rm"),
        pytest.param(read_scores, '{"index": 0, "reward": 1.0, "status": "ok"}', "; expected an output row of "
                     "`rft score -o`", id="report"),
        pytest.param(mean_reward, '{"index": 0, "reward": 1.0, "status": "ok"}', "; expected an output row of "
                     "`rft score -o`", id="loop's scores"),
    ]


@pytest.mark.parametrize(("read", "good", "expected"), _readers())
def test_each_reader_names_a_bad_line(tmp_path, read, good, expected):
    path = _write(tmp_path, good + "\n{oops\n" + good + "\n")
    with pytest.raises(RftError) as raised:
        read(path)
    assert str(raised.value) == BAD_LINE.format(path=path) + expected


def test_score_fail_fast_names_the_data_file_and_line(tmp_path, capsys):
    spec = _write(tmp_path, 'type: string_check\nreference: "{{ item.answer }}"\n', "spec.yaml")
    data = _write(tmp_path, '{"output_text": "4", "answer": "4"}\n{oops\n')
    assert main(["score", str(spec), str(data), "--no-progress", "--fail-fast"]) == 1
    assert capsys.readouterr().err.endswith(f"error: {BAD_LINE.format(path=data)}\n")


def test_select_names_a_bad_line_of_the_scores_file(tmp_path, capsys):
    data = _write(tmp_path, '{"prompt": "q", "completions": ["a", "b"]}\n')
    scores = _write(tmp_path, '{"index": 0, "sample_index": 0, "reward": 1.0, "status": "ok"}\n{oops\n', "scores.jsonl")
    assert main(["select", str(scores), "--data", str(data), "-o", str(tmp_path / "sft.jsonl")]) == 1
    assert capsys.readouterr().err == f"error: {BAD_LINE.format(path=scores)}; expected an output row of `rft score -o`\n"


def test_audit_names_a_bad_line(tmp_path, capsys):
    spec = _write(tmp_path, 'type: string_check\nreference: "{{ item.answer }}"\n', "spec.yaml")
    data = _write(tmp_path, '{"answer": "4"}\n{oops\n')
    assert main(["audit", str(spec), str(data)]) == 1
    assert capsys.readouterr().err == f"error: {BAD_LINE.format(path=data)}{ONE_OBJECT}\n"
