"""rft_core.run.jsonl: orjson's speed, json's meaning — every line reads as json.loads reads it."""

from __future__ import annotations

import json
import math

import pytest

from rft_core.run.jsonl import dumps_line, loads_line

READ_LIKE_JSON = [
    pytest.param(b'{"answer": "Mars", "output_text": "Jupiter"}\n', id="a flat row"),
    pytest.param(b'{"a": 1, "a": 2}', id="a repeated key: the last wins"),
    pytest.param(b'{"id": 123456789012345678901234567890}', id="an integer beyond 64 bits stays exact"),
    pytest.param(b'[18446744073709551616, -9223372036854775809]', id="just past u64 and i64"),
    pytest.param(b'[18446744073709551615, -9223372036854775808]', id="the 64-bit limits"),
    pytest.param(b'{"x": "' + b"1" * 40 + b'", "n": 7}', id="long digit runs inside a string"),
    pytest.param(b'[0.1, 1e-05, 2.5e300, -0.0, 0.041379310344827586]', id="floats"),
    pytest.param(b'{"r": NaN, "s": Infinity, "t": -Infinity}', id="json's NaN and Infinity"),
    pytest.param(b'"\\ud800"', id="a lone surrogate escape"),
    pytest.param('{"text": "café ∑ 🙂"}\r\n'.encode(), id="non-ASCII text and CRLF"),
    pytest.param(b"[" * 600 + b"]" * 600, id="nested deeper than orjson reads"),
]


@pytest.mark.parametrize("raw", READ_LIKE_JSON)
def test_loads_line_reads_what_json_reads(raw):
    value = loads_line(raw)
    expected = json.loads(raw.decode("utf-8"))
    assert repr(value) == repr(expected)  # repr: NaN is not equal to itself, and 1 and 1.0 would compare equal


@pytest.mark.parametrize(
    "raw, error",
    [
        pytest.param(b'{"a": 1', json.JSONDecodeError, id="truncated"),
        pytest.param(b"not json", json.JSONDecodeError, id="not JSON"),
        pytest.param(b"", json.JSONDecodeError, id="empty"),
        pytest.param(b'{"a": "\xff"}', UnicodeDecodeError, id="invalid UTF-8"),
        pytest.param(b"[" * 100_000, RecursionError, id="nested too deeply for json"),
    ],
)
def test_loads_line_raises_what_json_raises(raw, error):
    with pytest.raises(error) as ours:
        loads_line(raw)
    with pytest.raises(error) as theirs:
        json.loads(raw.decode("utf-8"))
    assert str(ours.value) == str(theirs.value)  # the same message, e.g. for a bad row's reason


def test_dumps_line_writes_one_compact_utf8_line_that_reads_back():
    row = {"index": 3, "reward": 0.2, "reason": "café\n∑", "sub_rewards": {"a": {"reward": 1.0}}, "errors": {}}
    line = dumps_line(row)
    assert line == '{"index":3,"reward":0.2,"reason":"café\\n∑","sub_rewards":{"a":{"reward":1.0}},"errors":{}}\n'
    assert json.loads(line) == row


def test_dumps_line_keeps_key_order():
    assert dumps_line({"z": 1, "a": 2, "m": 3}) == '{"z":1,"a":2,"m":3}\n'


def test_dumps_line_writes_non_finite_numbers_as_null():
    line = dumps_line({"reward": math.nan, "score": math.inf})
    assert line == '{"reward":null,"score":null}\n'
    assert json.loads(line, parse_constant=pytest.fail) == {"reward": None, "score": None}  # strict JSON


@pytest.mark.parametrize(
    "value, expected",
    [
        pytest.param({"id": 2**70}, '{"id":1180591620717411303424}\n', id="an integer beyond 64 bits, exact"),
        pytest.param({1: "a", None: "b"}, '{"1":"a","null":"b"}\n', id="non-string keys, as json writes them"),
    ],
)
def test_dumps_line_leaves_what_orjson_cannot_write_to_json(value, expected):
    assert dumps_line(value) == expected


def test_dumps_line_refuses_what_json_cannot_write_either():
    with pytest.raises(TypeError, match="set"):
        dumps_line({"metadata": {1, 2}})


# --- lines that fail: BadLine with the cause, never another exception ------------------------------

from rft_core.run.jsonl import BadLine, parse_line  # noqa: E402
from rft_core.run.rows import read_lines  # noqa: E402


@pytest.mark.parametrize(
    "raw, message",
    [
        pytest.param(b'{"n": ' + b"1" * 4301 + b"}", "an integer of more than 4300 digits (more than Python reads as "
                     "a number): write it as a string", id="an integer past Python's conversion limit"),
        pytest.param(b'{"n": -' + b"1" * 10_000 + b"}", "an integer of more than 4300 digits (more than Python reads "
                     "as a number): write it as a string", id="a negative one"),
        pytest.param(b"[" * 100_000, "invalid JSON: nested too deeply", id="nested too deeply"),
        pytest.param(b'{"a": "\xff"}', "invalid UTF-8 at byte 7", id="bad UTF-8"),
        pytest.param(b'{"a": "\x00"}', "invalid JSON at column 8: Invalid control character", id="a raw NUL byte"),
    ],
)
def test_parse_line_turns_every_failure_into_a_bad_line(raw, message):
    with pytest.raises(BadLine) as caught:
        parse_line(raw)
    assert str(caught.value) == message


def test_an_integer_at_the_limit_still_reads():
    assert parse_line(b'{"n": ' + b"9" * 4300 + b"}")["n"] == int("9" * 4300)


def test_read_lines_drops_a_byte_order_mark_and_blank_lines(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\n\n  \n{"b": 2}')
    assert list(read_lines(path)) == [(1, b'{"a": 1}\n'), (4, b'{"b": 2}')]
    assert parse_line(next(read_lines(path))[1]) == {"a": 1}


def test_dumps_line_escapes_a_lone_surrogate_so_the_line_is_utf8():
    line = dumps_line({"id": "\ud800", "text": "café"})
    assert line == '{"id":"\\ud800","text":"caf\\u00e9"}\n'
    line.encode("utf-8")
    assert json.loads(line) == {"id": "\ud800", "text": "café"}
