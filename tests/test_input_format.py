"""rft_core.run.rows.check_json_lines: JSON Lines or not, and what a file that is not looks like (the CLI's
messages for each kind are tested in test_cli_safety)."""

from __future__ import annotations

import gzip
import json

import pytest

from rft_core.kernel.errors import RftError
from rft_core.run.input_format import looks_like
from rft_core.run.rows import SNIFF_LINES, check_json_lines

ROW = json.dumps({"answer": "a", "output_text": "a"})


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(ROW + "\n", id="one row"),
        pytest.param("\n\n" + ROW, id="blank lines first, no final newline"),
        pytest.param("\ufeff" + ROW + "\n", id="a byte order mark"),
        pytest.param("{oops\n[1, 2]\n" + ROW + "\n", id="bad lines before a good one: error rows, not a format error"),
        pytest.param("{oops\n" * (SNIFF_LINES - 1) + ROW + "\n", id="the last line sniffed is an object"),
    ],
)
def test_json_lines_pass(tmp_path, text):
    path = tmp_path / "data.jsonl"
    path.write_text(text, encoding="utf-8")
    check_json_lines(path)


def test_no_object_among_the_lines_sniffed_is_refused(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text("{oops\n" * SNIFF_LINES + ROW + "\n", encoding="utf-8")
    with pytest.raises(RftError, match=r"none of its first lines is an object \(line 1: invalid JSON at column 2"):
        check_json_lines(path)


def test_a_json_value_that_is_not_an_object(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text('"a"\n3\n', encoding="utf-8")
    with pytest.raises(RftError, match=r"\(line 1 is JSON but not an object\)$"):
        check_json_lines(path)


def test_empty(tmp_path):
    path = tmp_path / "scores.jsonl"
    path.write_text("", encoding="utf-8")
    with pytest.raises(RftError, match=r"^.*scores.jsonl: the scores file is empty \(no rows\): give it one JSON "
                       r"object per line$"):
        check_json_lines(path, "scores file")
    check_json_lines(path, allow_empty=True)


def test_a_utf8_character_cut_at_the_sniffed_chunk_is_still_text(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n" + "é".encode() * 5000)  # 8192 bytes end inside no character, or in one
    with pytest.raises(RftError, match=r"is comma-separated \(CSV\)"):
        check_json_lines(path)


@pytest.mark.parametrize(
    ("name", "content", "kind", "advice"),
    [
        pytest.param("a.gz", None, "gzip-compressed", "gunzip -k", id="gzip"),
        pytest.param("a.csv", b"a,b\n1,2\n3,4\n", "comma-separated (CSV)", "pandas.read_csv", id="csv"),
        pytest.param("a.json", json.dumps([{"a": 1}, {"a": 2}], indent=2).encode(), "a JSON array", "jq -c '.[]'",
                     id="json array"),
        pytest.param("a.txt", b"hello\nworld\n", None, "", id="unknown"),
    ],
)
def test_looks_like_names_the_kind_and_the_conversion(tmp_path, name, content, kind, advice):
    path = tmp_path / name
    path.write_bytes(gzip.compress(b'{"a": 1}\n') if content is None else content)
    found, how = looks_like(path)
    assert found == kind
    assert advice in how and (not how or str(path) in how)  # the advice names the user's file
