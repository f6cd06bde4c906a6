"""rft_core.run.data: input rows in every format to tasks; unreadable rows become error tasks, never exceptions."""

from __future__ import annotations

import json

import pytest

from rft_core.run.data import Task, read_tasks, tasks_from_row, tasks_from_rows
from rft_core.kernel.errors import RftError

TOOL_CALL = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"q": "x"}'}}


def _view(task: Task) -> dict:
    """The parts of a task a test compares."""
    view = {"index": task.index, "item": dict(task.item)}
    if task.sample is not None:
        view["text"] = task.sample.output_text
        if task.sample.output_tools:
            view["tools"] = task.sample.output_tools
    for name in ("line", "sample_index", "id", "error"):
        if getattr(task, name) is not None:
            view[name] = getattr(task, name)
    return view


@pytest.mark.parametrize(
    ("row", "tasks"),
    [
        # canonical: item and an OpenAI sample mapping
        (
            {"item": {"answer": "4"}, "sample": {"output_text": "4"}},
            [{"index": 0, "item": {"answer": "4"}, "text": "4"}],
        ),
        # canonical with a plain-text sample and an id
        (
            {"id": "q1", "item": {"answer": "4"}, "sample": "four"},
            [{"index": 0, "item": {"answer": "4"}, "text": "four", "id": "q1"}],
        ),
        # canonical without an item: an empty one
        ({"sample": "x"}, [{"index": 0, "item": {}, "text": "x"}]),
        # flat: output_text is the sample, every other field the item
        (
            {"output_text": "Paris", "answer": "Paris", "question": "Capital of France?"},
            [{"index": 0, "item": {"answer": "Paris", "question": "Capital of France?"}, "text": "Paris"}],
        ),
        # flat with tool calls
        (
            {"output_text": "", "output_tools": [TOOL_CALL], "answer": "x"},
            [{"index": 0, "item": {"answer": "x"}, "text": "", "tools": [TOOL_CALL]}],
        ),
        # flat completion string (TRL's standard format)
        ({"completion": "4", "answer": "4"}, [{"index": 0, "item": {"answer": "4"}, "text": "4"}]),
        # flat completion as a chat list: the last (assistant) message, its tool calls as output_tools
        (
            {
                "completion": [{"role": "assistant", "content": "Let me look.", "tool_calls": [TOOL_CALL]}],
                "answer": "x",
            },
            [{"index": 0, "item": {"answer": "x"}, "text": "Let me look.", "tools": [TOOL_CALL]}],
        ),
        # a tool-call-only message has null content: the text is ""
        (
            {"completion": [{"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]}]},
            [{"index": 0, "item": {}, "text": "", "tools": [TOOL_CALL]}],
        ),
        # content parts: the text parts joined
        (
            {
                "completion": {
                    "role": "assistant",
                    "content": [{"type": "text", "text": "a"}, {"type": "image"}, {"type": "text", "text": "b"}],
                }
            },
            [{"index": 0, "item": {}, "text": "ab"}],
        ),
        # completions: several samples of one item, numbered by sample_index; the id is shared
        (
            {"id": 7, "completions": ["a", [{"role": "assistant", "content": "b"}], "c"], "answer": "z"},
            [
                {"index": 0, "item": {"id": 7, "answer": "z"}, "text": "a", "sample_index": 0, "id": 7},
                {"index": 0, "item": {"id": 7, "answer": "z"}, "text": "b", "sample_index": 1, "id": 7},
                {"index": 0, "item": {"id": 7, "answer": "z"}, "text": "c", "sample_index": 2, "id": 7},
            ],
        ),
        # completions with one entry still numbers it
        ({"completions": ["a"]}, [{"index": 0, "item": {}, "text": "a", "sample_index": 0}]),
        # OpenAI RFT: messages ending with the assistant's reply; the rest are the item
        (
            {
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "2+2?"},
                    {"role": "assistant", "content": "4"},
                ],
                "reference_answer": "4",
            },
            [
                {
                    "index": 0,
                    "item": {
                        "reference_answer": "4",
                        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}],
                    },
                    "text": "4",
                }
            ],
        ),
    ],
    ids=[
        "canonical",
        "canonical-text-id",
        "canonical-no-item",
        "flat-output_text",
        "flat-output_tools",
        "completion-string",
        "completion-chat-tools",
        "completion-tools-only",
        "completion-content-parts",
        "completions",
        "completions-one",
        "openai-messages",
    ],
)
def test_row_formats(row, tasks):
    assert [_view(task) for task in tasks_from_row(row, 0)] == tasks


def test_flat_output_json_is_kept():
    [task] = tasks_from_row({"output_text": "x", "output_json": {"k": 1}, "answer": "y"}, 0)
    assert task.sample.output_json == {"k": 1}
    assert dict(task.item) == {"answer": "y"}


@pytest.mark.parametrize(
    ("row", "error"),
    [
        # not an object
        ([1, 2], "row 3: a row must be a JSON object, not list"),
        ("text", "row 3: a row must be a JSON object, not str"),
        (None, "row 3: a row must be a JSON object, not NoneType"),
        # nothing to grade
        (
            {"answer": "4"},
            "row 3: row has no sample: "
            "give output_text, completion, completions, an assistant message, or {item, sample}",
        ),
        ({"item": {"answer": "4"}}, "row 3: row has 'item' but no 'sample'"),
        # wrong shapes
        ({"item": [1], "sample": "x"}, "row 3: 'item' must be an object, not list"),
        ({"sample": {"output_text": 4}}, "row 3: sample.output_text must be a string, not int"),
        (
            {"sample": {"text": "x"}},
            "row 3: unknown sample field(s) ['text']; a sample has output_text, output_json, output_tools, choices",
        ),
        ({"completions": []}, "row 3: 'completions' must be a non-empty list"),
        ({"completions": "abc"}, "row 3: 'completions' must be a non-empty list"),
        ({"completion": 4}, "row 3: a completion must be a string or chat messages, not int"),
        ({"completion": {"role": "assistant", "content": 4}}, "row 3: message content must be a string, not int"),
        ({"output_text": 4}, "row 3: sample.output_text must be a string, not int"),
        # messages without the reply to grade
        (
            {"messages": [{"role": "user", "content": "2+2?"}]},
            "row 3: row has 'messages' but no assistant reply at the end to grade",
        ),
        ({"messages": []}, "row 3: 'messages' must be a non-empty list of message objects"),
        ({"messages": ["hi"]}, "row 3: 'messages' must be a non-empty list of message objects"),
    ],
    ids=[
        "list",
        "string",
        "null",
        "no-sample",
        "item-no-sample",
        "item-list",
        "sample-int-text",
        "sample-unknown-field",
        "completions-empty",
        "completions-string",
        "completion-int",
        "message-content-int",
        "output_text-int",
        "messages-no-assistant",
        "messages-empty",
        "messages-strings",
    ],
)
def test_bad_rows_become_error_tasks(row, error):
    [task] = tasks_from_row(row, 3)
    assert (task.index, task.sample, dict(task.item), task.error) == (3, None, {}, error)


@pytest.mark.parametrize(
    ("row", "tasks"),
    [
        # rft sample's failed sample: null, its reason in completion_errors; the others are graded
        (
            {"prompt": "p", "completions": ["a", None], "completion_errors": [None, "HTTP 500"]},
            [
                {"index": 3, "item": {"prompt": "p"}, "text": "a", "line": 9, "sample_index": 0},
                {"index": 3, "item": {"prompt": "p"}, "line": 9, "sample_index": 1,
                 "error": "line 9: sample 1 was not generated: HTTP 500"},
            ],
        ),
        # no (or a malformed) reason
        (
            {"completions": [None], "completion_errors": "x"},
            [{"index": 3, "item": {}, "line": 9, "sample_index": 0,
              "error": "line 9: sample 0 was not generated: null completion"}],
        ),
        ({"completion": None, "id": 1}, [{"index": 3, "item": {"id": 1}, "line": 9, "id": 1,
                                          "error": "line 9: the completion is null"}]),
    ],
    ids=["completions-with-a-null", "null-without-reason", "completion-null"],
)
def test_null_completions_become_error_tasks_with_their_reason(row, tasks):
    assert [_view(task) for task in tasks_from_row(row, 3, 9)] == tasks


def test_tasks_from_rows_numbers_rows_not_samples():
    rows = [{"completions": ["a", "b"]}, {"output_text": "c"}, 5, {"completion": "d"}]
    assert [(task.index, task.sample_index, task.error is None) for task in tasks_from_rows(rows)] == [
        (0, 0, True),
        (0, 1, True),
        (1, None, True),
        (2, None, False),
        (3, None, True),
    ]


def test_tasks_from_rows_is_lazy():
    def rows():
        yield {"output_text": "a"}
        raise AssertionError("read too far")

    tasks = tasks_from_rows(rows())
    assert next(tasks).sample.output_text == "a"


# --- JSONL files ------------------------------------------------------------------


def _write_lines(tmp_path, *lines: bytes | str):
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"\n".join(line.encode() if isinstance(line, str) else line for line in lines) + b"\n")
    return path


def test_read_tasks_keeps_order_and_line_numbers(tmp_path):
    path = _write_lines(
        tmp_path,
        json.dumps({"id": "a", "output_text": "1"}),
        "",  # blank lines are skipped...
        "   ",
        json.dumps({"completions": ["2", "3"]}),
        json.dumps({"item": {"x": 1}, "sample": "4"}),
    )
    assert [_view(task) for task in read_tasks(path)] == [
        # ...but line numbers still count them
        {"index": 0, "item": {"id": "a"}, "text": "1", "line": 1, "id": "a"},
        {"index": 1, "item": {}, "text": "2", "line": 4, "sample_index": 0},
        {"index": 1, "item": {}, "text": "3", "line": 4, "sample_index": 1},
        {"index": 2, "item": {"x": 1}, "text": "4", "line": 5},
    ]


def test_read_tasks_turns_bad_lines_into_error_tasks(tmp_path):
    path = _write_lines(
        tmp_path,
        json.dumps({"output_text": "ok"}),
        "{bad json}",  # invalid JSON
        b'{"output_text": "\xff\xfe"}',  # invalid UTF-8
        "[1, 2, 3]",  # not an object
        json.dumps({"answer": "4"}),  # no sample
        "[" * 10_000 + "]" * 10_000,  # nested too deeply for the JSON parser
        '{"a": ' * 10_000 + "1" + "}" * 10_000,  # the same, as objects
        json.dumps({"output_text": "still read"}),  # a bad line does not stop the file
    )
    tasks = list(read_tasks(path))
    assert [(task.index, task.line, task.error) for task in tasks] == [
        (0, 1, None),
        (1, 2, "line 2: invalid JSON at column 2: Expecting property name enclosed in double quotes"),
        (2, 3, "line 3: invalid UTF-8 at byte 17"),
        (3, 4, "line 4: a row must be a JSON object, not list"),
        (
            4,
            5,
            "line 5: row has no sample: "
            "give output_text, completion, completions, an assistant message, or {item, sample}",
        ),
        (5, 6, "line 6: invalid JSON: nested too deeply"),
        (6, 7, "line 7: invalid JSON: nested too deeply"),
        (7, 8, None),
    ]
    assert tasks[-1].sample.output_text == "still read"
    assert all(task.sample is None for task in tasks[1:-1])


def test_read_tasks_handles_a_missing_final_newline_and_crlf(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_bytes(b'{"output_text": "a"}\r\n{"output_text": "b"}')
    assert [(task.line, task.sample.output_text) for task in read_tasks(path)] == [(1, "a"), (2, "b")]


def test_read_tasks_of_an_empty_file(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"")
    assert list(read_tasks(path)) == []


def test_read_tasks_of_a_missing_file(tmp_path):
    with pytest.raises(RftError, match=r"nope.jsonl: data file not found$"):
        list(read_tasks(tmp_path / "nope.jsonl"))
