"""Tests for graders/tool_call/tool_call.py: pairing made and expected tool calls, argument matching, malformed calls."""

from __future__ import annotations

import json
import random

import pytest

from graders.tool_call.tool_call import ToolCall, same
from rft_core import SpecError, Status, load_spec
from rft_core.integrations.completions import to_sample

WEATHER = {"name": "weather", "arguments": {"city": "Paris", "unit": "C"}}
TIME = {"name": "time", "arguments": {"tz": "CET"}}
EXPECTED = {"tool_calls": [WEATHER, TIME]}


def call(name: str, arguments) -> dict:
    """A call in Chat Completions shape; dict arguments are sent as a JSON string, as APIs do."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": f"call_{name}", "type": "function", "function": {"name": name, "arguments": text}}


def tools(*calls) -> dict:
    return {"output_tools": list(calls)}


# (grader fields, made calls, expected reward)
CASES = [
    # both calls, either order, default F1
    ({}, [call("weather", WEATHER["arguments"]), call("time", TIME["arguments"])], 1.0),
    ({}, [call("time", TIME["arguments"]), call("weather", WEATHER["arguments"])], 1.0),
    # in order: the swapped pair keeps only one call's order
    ({"ordered": True}, [call("time", TIME["arguments"]), call("weather", WEATHER["arguments"])], 0.5),
    # one of two: precision 1, recall 1/2
    ({}, [call("time", TIME["arguments"])], 2 / 3),
    ({"metric": "recall"}, [call("time", TIME["arguments"])], 0.5),
    ({"metric": "precision"}, [call("time", TIME["arguments"])], 1.0),
    ({"metric": "exact"}, [call("time", TIME["arguments"])], 0.0),
    # spraying calls: recall 1, precision 2/6
    ({}, [call("weather", WEATHER["arguments"]), call("time", TIME["arguments"])] + [call("time", {"tz": "x"})] * 4,
     0.5),
    # a call repeated does not pair twice
    ({}, [call("time", TIME["arguments"])] * 2, 0.5),
    # a wrong argument value, a missing one, an extra one: exact fails all three
    ({}, [call("weather", {"city": "Lyon", "unit": "C"}), call("time", TIME["arguments"])], 0.5),
    ({}, [call("weather", {"city": "Paris"}), call("time", TIME["arguments"])], 0.5),
    ({}, [call("weather", {**WEATHER["arguments"], "days": 3}), call("time", TIME["arguments"])], 0.5),
    # subset allows the extra argument, not the missing one
    ({"arguments": "subset"}, [call("weather", {**WEATHER["arguments"], "days": 3}), call("time", TIME["arguments"])],
     1.0),
    ({"arguments": "subset"}, [call("weather", {"city": "Paris"}), call("time", TIME["arguments"])], 0.5),
    # the right arguments under the wrong name
    ({}, [call("forecast", WEATHER["arguments"]), call("time", TIME["arguments"])], 0.5),
    # no calls at all
    ({}, [], 0.0),
]


@pytest.mark.parametrize(("fields", "calls", "expected"), CASES, ids=[
    "both", "any_order", "ordered_swapped", "one_of_two", "recall", "precision", "exact_partial", "spray", "repeat",
    "wrong_value", "missing_argument", "extra_argument", "subset_extra", "subset_missing", "wrong_name", "no_calls",
])  # fmt: skip
def test_rewards(registry, fields, calls, expected):
    grader = load_spec({"type": "tool_call", **fields}, registry=registry)
    result = grader.grade(tools(*calls), EXPECTED)
    assert result.status is Status.OK
    assert result.reward == pytest.approx(expected)


def test_sub_rewards_and_reason():
    result = ToolCall().grade(tools(call("time", TIME["arguments"])), EXPECTED)
    assert {key: sub.reward for key, sub in result.sub_rewards.items()} == {"precision": 1.0, "recall": 0.5}
    assert result.reason == "1 of 2 expected calls made, 1 calls in all"
    perfect = ToolCall().grade(tools(call("weather", WEATHER["arguments"]), call("time", TIME["arguments"])), EXPECTED)
    assert (perfect.reason, {key: sub.reward for key, sub in perfect.sub_rewards.items()}) == (
        None, {"precision": 1.0, "recall": 1.0})


def test_no_calls_expected_and_none_made_is_right():
    assert ToolCall().grade(tools(), {"tool_calls": []}).reward == 1.0
    assert ToolCall().grade(tools(call("time", {})), {"tool_calls": []}).reward == 0.0


@pytest.mark.parametrize(
    "expected",
    [
        [{"type": "function", "function": {"name": "time", "arguments": '{"tz": "CET"}'}}],  # Chat Completions shape
        json.dumps([TIME]),  # a JSON string column
        TIME,  # one call, not a list
        json.dumps(TIME),  # one call as JSON text
    ],
    ids=["chat_completions", "json_text", "single", "single_json_text"],
)
def test_expected_calls_in_every_shape(expected):
    assert ToolCall().grade(tools(call("time", TIME["arguments"])), {"tool_calls": expected}).reward == 1.0


def test_flat_and_dict_argument_calls_are_read():
    flat = {"type": "function_call", "name": "time", "arguments": {"tz": "CET"}}
    assert ToolCall().grade(tools(flat), {"tool_calls": [TIME]}).reward == 1.0


def test_per_argument_graders():
    grader = ToolCall(
        arguments="graders",
        argument_graders={
            "city": {"type": "string_check", "operation": "eq", "casefold": True, "reference": "{{ item.expected }}"},
            "days": {"type": "fuzzy_match", "reference": "{{ item.expected }}"},
        },
        argument_threshold=0.5,
    )
    item = {"tool_calls": [{"name": "weather", "arguments": {"city": "Paris", "days": 3}}]}
    assert grader.grade(tools(call("weather", {"city": "PARIS", "days": 3})), item).reward == 1.0
    assert grader.grade(tools(call("weather", {"city": "Lyon", "days": 3})), item).reward == 0.0
    assert grader.grade(tools(call("weather", {"city": "Paris"})), item).reward == 0.0  # days missing
    assert grader.grade(tools(call("weather", {"city": "Paris", "days": 3, "x": 1})), item).reward == 0.0


@pytest.mark.parametrize(
    ("expected", "given", "equal"),
    [
        (1, 1.0, True),
        (1, True, False),  # JSON true is not 1
        (False, 0, False),
        ({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}, True),
        ({"a": [1]}, {"a": 1}, False),
        ([1, 2], [2, 1], False),
        ("1", 1, False),
        (None, {}, False),
    ],
    ids=["int_float", "true_one", "false_zero", "nested", "list_scalar", "list_order", "string_number", "null_object"],
)
def test_json_equality(expected, given, equal):
    assert same(expected, given) is equal


@pytest.mark.parametrize(
    ("calls", "reason"),
    [
        ([call("weather", '{"city": "Paris"')], "tool call 0 (weather): arguments are not valid JSON"),
        ([call("weather", '["Paris"]')], "tool call 0 (weather): arguments are an array, not an object"),
        ([call("weather", "null")], "tool call 0 (weather): arguments are null, not an object"),
        ([{"type": "function", "function": {"arguments": "{}"}}], "tool call 0 has no function name"),
        (["weather(city='Paris')"], "tool call 0 is a string, not an object"),
        ([call("weather", "[" * 100_000 + "]" * 100_000)], "tool call 0 (weather): arguments over 100,000 characters"),
        ([call("weather", "[" * 5000 + "]" * 5000)], "tool call 0 (weather): arguments are not valid JSON (depth limit"),
        ([call("time", {})] * 65, "65 tool calls, over max_calls=64"),
    ],
    ids=["bad_json", "array", "null", "no_name", "text_call", "huge", "deep", "too_many"],
)
def test_malformed_calls_are_parse_errors(calls, reason):
    result = ToolCall().grade(tools(*calls), EXPECTED)
    assert (result.status, result.reward) == (Status.PARSE_ERROR, 0.0)
    assert result.reason.startswith(reason)


def test_deeply_nested_dict_arguments_are_a_parse_error_not_a_crash():
    nested: dict = {}
    for _ in range(5000):
        nested = {"a": nested}
    sample = tools({"type": "function", "function": {"name": "weather", "arguments": nested}})
    result = ToolCall().grade(sample, {"tool_calls": [{"name": "weather", "arguments": nested}]})
    assert (result.status, result.reason) == (Status.PARSE_ERROR, "arguments nested too deeply to compare")


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"tool_calls": "not json"}, "expected calls ({{ item.tool_calls }}): not JSON (invalid literal"),
        ({"tool_calls": 5}, "expected calls ({{ item.tool_calls }}): a number, not a list of calls"),
        ({"tool_calls": [{"arguments": {}}]}, "expected calls ({{ item.tool_calls }}): expected call 0 has no function"),
        ({}, "invalid_variable: item.tool_calls"),
    ],
    ids=["not_json", "number", "no_name", "missing"],
)
def test_bad_expected_calls_are_errors_naming_the_template(item, reason):
    result = ToolCall().grade(tools(), item)
    assert result.status is Status.ERROR
    assert result.reason.startswith(reason)


def test_trl_chat_completions_reach_the_grader():
    completion = [{"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "time", "arguments": {"tz": "CET"}}}]}]
    assert ToolCall().grade(to_sample(completion), {"tool_calls": [TIME]}).reward == 1.0


def test_batch_equals_one_by_one():
    grader = ToolCall()
    samples = [tools(*calls) for _, calls, _ in CASES] + [tools(call("x", "{"))]
    items = [EXPECTED] * len(samples)
    assert grader.grade_batch(samples, items) == [grader.grade(s, i) for s, i in zip(samples, items)]


def varied_rows(count: int, seed: int = 7) -> tuple[list[dict], list[dict]]:
    """Rows of every kind the batch path meets: right, swapped, partial, sprayed, wrong values, true for
    1, keys in another order, malformed calls and arguments, an item without expected calls."""
    rng = random.Random(seed)
    made_kinds = [
        lambda: [call("weather", WEATHER["arguments"]), call("time", TIME["arguments"])],
        lambda: [call("time", TIME["arguments"]), call("weather", WEATHER["arguments"])],
        lambda: [call("time", TIME["arguments"])],
        lambda: [call("time", TIME["arguments"])] * 3,
        lambda: [call("weather", {"unit": "C", "city": "Paris"}), call("time", TIME["arguments"])],
        lambda: [call("weather", {"city": "Paris", "unit": True}), call("time", TIME["arguments"])],
        lambda: [call("weather", "{not json"), call("time", TIME["arguments"])],
        lambda: [call("weather", "[1, 2]")],
        lambda: [{"name": "time", "arguments": {"tz": "CET"}}, "not a call"],
        lambda: [],
    ]
    expected_kinds = [EXPECTED, {"tool_calls": [TIME]}, {"tool_calls": json.dumps([WEATHER])},
                      {"tool_calls": [{"name": "weather", "arguments": {"city": "Paris", "unit": 1}}]},
                      {"tool_calls": "not json"}, {"other": []}]
    samples = [tools(*rng.choice(made_kinds)()) for _ in range(count)]
    items = [rng.choice(expected_kinds) for _ in range(count)]
    return samples, items


@pytest.mark.parametrize(
    "fields",
    [{}, {"ordered": True}, {"metric": "exact"}, {"metric": "recall"}, {"arguments": "subset"}, {"max_calls": 2}],
    ids=["default", "ordered", "exact", "recall", "subset", "max_calls"],
)
def test_batch_equals_one_by_one_on_a_varied_corpus(fields):
    grader = ToolCall(**fields)
    samples, items = varied_rows(300)
    batched = grader.grade_batch(samples, items)
    assert batched == [grader.grade(s, i) for s, i in zip(samples, items)]
    assert {result.status for result in batched} == {Status.OK, Status.PARSE_ERROR, Status.ERROR}
    # the same rows without the item that has no expected calls take the batch path, not row by row
    kept = [(s, i) for s, i in zip(samples, items) if "tool_calls" in i]
    assert grader.grade_batch(*map(list, zip(*kept))) == [grader.grade(s, i) for s, i in kept]


def test_bad_config_fails_the_spec_load(registry):
    with pytest.raises(SpecError) as caught:
        load_spec({"type": "tool_call", "metric": "accuracy"}, registry=registry)
    assert "metric: Input should be 'f1', 'precision', 'recall' or 'exact'" in str(caught.value)


# --- rft audit: the tool probes ------------------------------------------------------------------

AGENT_ITEMS = [
    {"id": "w", "prompt": "Weather in Paris?", "tool_calls": [WEATHER]},
    {"id": "t", "prompt": "Time in Berlin?", "tool_calls": json.dumps([TIME])},  # a JSON text column
]
TOOL_PROBES = ["tool_spray", "tool_names_only", "tool_malformed_arguments", "tool_calls_as_text", "empty"]


def test_an_f1_tool_call_grader_passes_the_tool_probes():
    from rft_core.audit.auditor import audit

    report = audit({"type": "tool_call"}, AGENT_ITEMS, probes=TOOL_PROBES)
    assert report.passed
    malformed = next(f for f in report.findings if f.probe == "tool_malformed_arguments" and f.grader == "(root)")
    assert dict(malformed.statuses) == {"parse_error": 2}
    spray = next(f for f in report.findings if f.probe == "tool_spray" and f.grader == "(root)")
    assert spray.mean_reward == pytest.approx(2 / 8)  # F1 of 1 pair among 7 calls
    assert "tool calls: [" in spray.example["sample"]


def test_a_recall_reward_is_caught_spraying_calls():
    from rft_core.audit.auditor import audit

    report = audit({"type": "tool_call", "metric": "recall"}, AGENT_ITEMS, probes=TOOL_PROBES)
    assert {finding.probe for finding in report.flagged} == {"tool_spray"}


def test_the_probes_skip_items_without_expected_calls():
    from rft_core.audit.probes import PROBES, contexts

    context = contexts([{"answer": "Paris"}])[0]
    assert [probe.name for probe in PROBES if probe.name.startswith("tool_") and probe.texts(context)] == []


@pytest.mark.parametrize(
    "matches",
    [
        [[True, True], [True, False]],  # greedy would give the first expected call the only match of the second
        [[True, False, False], [True, False, False], [False, True, True]],
        [[False, False], [False, False]],
        [[True, True, True]],
    ],
    ids=["needs_augmenting", "shared_column", "none", "one_row"],
)
def test_any_order_pairs_as_many_as_possible(matches):
    """matches[i][j]: made call j matches expected call i (with subset arguments: expected call i asks for the
    argument e<i>, made call j carries the arguments of the expected calls it matches). Recall is the share of
    expected calls paired; the best pairing is searched over every order."""
    from itertools import permutations

    width = len(matches[0])
    best = max(
        sum(matches[row][column] for row, column in enumerate(order) if row < len(matches))
        for order in permutations(range(max(width, len(matches))))
    )
    expected = [{"name": "f", "arguments": {f"e{row}": 1}} for row in range(len(matches))]
    made = [call("f", {f"e{row}": 1 for row in range(len(matches)) if matches[row][column]} | {"z": column})
            for column in range(width)]
    grader = ToolCall(expected="{{ item.tool_calls }}", arguments="subset", metric="recall")
    assert grader.grade(tools(*made), {"tool_calls": expected}).reward == best / len(matches)


@pytest.mark.parametrize(
    ("expected", "given", "equal_json"),
    [({"a": 1, "b": [True]}, {"b": [True], "a": 1}, True), ({"a": 1}, {"a": 1.0}, True), ({"a": True}, {"a": 1}, False),
     ({"a": [1, True]}, {"a": [1.0, 1]}, False), ({1: "x"}, {1: "x"}, True), ({"a": 2**70}, {"a": 2**70}, True)],
    ids=["key_order", "int_float", "true_one", "nested_true_one", "int_keys", "big_int"],
)
def test_fast_equality_agrees_with_json_equality(expected, given, equal_json):
    from graders.tool_call.tool_call import equal

    assert equal(expected, given) is equal_json is same(expected, given)
