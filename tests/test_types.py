"""rft_core.kernel.types: Sample, Status and Result."""

from __future__ import annotations

import json
import pickle

import pytest

from rft_core.kernel.types import Result, Sample, SharedResult, Status, Usage

# --- Sample.coerce ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # a bare string is the output text
        ("Paris", {"output_text": "Paris", "output_tools": [], "choices": []}),
        # the empty string is a valid (empty) answer
        ("", {"output_text": "", "output_tools": [], "choices": []}),
        # an OpenAI-style mapping keeps every field it gives
        (
            {"output_text": "hi", "output_tools": [{"id": "c1"}], "choices": [{"index": 0}]},
            {"output_text": "hi", "output_tools": [{"id": "c1"}], "choices": [{"index": 0}]},
        ),
        # output_text may be left out: it defaults to ""
        ({"output_tools": [{"id": "c1"}]}, {"output_text": "", "output_tools": [{"id": "c1"}], "choices": []}),
    ],
    ids=["string", "empty-string", "full-mapping", "mapping-without-text"],
)
def test_coerce_builds_a_sample(value, expected):
    sample = Sample.coerce(value)
    assert isinstance(sample, Sample)
    assert {name: getattr(sample, name) for name in expected} == expected


def test_coerce_returns_a_sample_unchanged():
    sample = Sample("x")
    assert Sample.coerce(sample) is sample


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        # a field OpenAI's sample does not have is a mistake, not something to drop silently
        (
            {"output_text": "x", "answer": "y"},
            ValueError,
            "unknown sample field(s) ['answer']; a sample has output_text, output_json, output_tools, choices",
        ),
        # output_text must be text
        ({"output_text": 4}, TypeError, "sample.output_text must be a string, not int"),
        ({"output_text": None}, TypeError, "sample.output_text must be a string, not NoneType"),
        # neither a string nor a mapping
        (4, TypeError, "a sample must be a string or a mapping, not int"),
        (None, TypeError, "a sample must be a string or a mapping, not NoneType"),
        (["a", "b"], TypeError, "a sample must be a string or a mapping, not list"),
    ],
    ids=["unknown-field", "int-text", "null-text", "int", "none", "list"],
)
def test_coerce_rejects_bad_samples(value, error, message):
    with pytest.raises(error) as excinfo:
        Sample.coerce(value)
    assert str(excinfo.value) == message


def test_samples_do_not_share_default_lists():
    first, second = Sample("a"), Sample("b")
    first.output_tools.append({"id": "c1"})
    first.choices.append({"index": 0})
    assert second.output_tools == [] and second.choices == []


# --- Sample.output_json -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a JSON object
        ('{"a": 1, "b": [true, null]}', {"a": 1, "b": [True, None]}),
        # a JSON array, with whitespace around it
        ("  [1, 2]\n", [1, 2]),
        # prose is not JSON
        ("The answer is 4.", None),
        # broken JSON gives None, not an exception
        ('{"a": 1', None),
        # JSON scalars are not parsed: only objects and arrays are "JSON output"
        ('"quoted"', None),
        ("42", None),
        ("true", None),
        # nothing at all
        ("", None),
        ("   ", None),
    ],
    ids=["object", "array", "prose", "broken", "string", "number", "bool", "empty", "blank"],
)
def test_output_json_is_parsed_from_the_text(text, expected):
    assert Sample(text).output_json == expected


def test_output_json_of_10000_deep_nesting_is_none_not_a_crash():
    # json.loads raises RecursionError here; model output must never crash a grade
    assert Sample("[" * 10_000 + "]" * 10_000).output_json is None
    assert Sample('{"a":' * 10_000 + "1" + "}" * 10_000).output_json is None


def test_output_json_is_parsed_once():
    sample = Sample('{"a": [1]}')
    assert sample.output_json is sample.output_json


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # a row that gives output_json wins over the text
        ({"output_text": '{"a": 1}', "output_json": {"b": 2}}, {"b": 2}),
        # an explicit null is kept: it is not "not given"
        ({"output_text": '{"a": 1}', "output_json": None}, None),
        # not given: parsed from the text
        ({"output_text": '{"a": 1}'}, {"a": 1}),
    ],
    ids=["given", "given-null", "parsed"],
)
def test_output_json_given_by_the_row(value, expected):
    assert Sample.coerce(value).output_json == expected


def test_sample_to_dict_is_json_ready():
    sample = Sample.coerce({"output_text": "[1]", "output_tools": [{"id": "c1"}]})
    assert sample.to_dict() == {"output_text": "[1]", "output_json": [1], "output_tools": [{"id": "c1"}], "choices": []}
    json.dumps(sample.to_dict())


def test_sample_repr_shortens_long_text():
    assert repr(Sample("short")) == "Sample(output_text='short')"
    assert repr(Sample("x" * 100)) == f"Sample(output_text={'x' * 57 + '...'!r})"


# --- Status -----------------------------------------------------------------------


def test_status_values_are_the_design_ones():
    assert [status.value for status in Status] == ["ok", "not_applicable", "parse_error", "timeout", "error"]


def test_status_is_a_string():
    assert str(Status.TIMEOUT) == "timeout"
    assert Status("parse_error") is Status.PARSE_ERROR
    assert Status.OK == "ok"


# --- Result -----------------------------------------------------------------------


def test_result_defaults():
    result = Result(0.75)
    assert (result.reward, result.status, result.reason, result.sub_rewards, result.metadata) == (
        0.75,
        Status.OK,
        None,
        {},
        {},
    )
    assert result.ok


def test_default_containers_are_read_only_so_results_never_share_state():
    first, second = Result(1.0), Result(0.0)
    with pytest.raises(TypeError):
        first.metadata["x"] = 1
    with pytest.raises(TypeError):
        first.sub_rewards["a"] = Result(1.0)
    assert second.metadata == {} and second.sub_rewards == {}


def test_containers_passed_in_are_kept_and_mutable():
    metadata: dict = {}
    result = Result(1.0, metadata=metadata)
    result.metadata["x"] = 1
    assert metadata == {"x": 1}


def test_shared_result_is_an_equal_read_only_result():
    shared = SharedResult(1.0)
    assert isinstance(shared, Result) and shared == Result(1.0) and repr(shared) == "Result(reward=1.0, status='ok')"
    with pytest.raises(AttributeError, match="a SharedResult is read-only .*: cannot set 'reward'"):
        shared.reward = 0.0
    with pytest.raises(AttributeError, match="cannot delete 'reason'"):
        del shared.reason
    with pytest.raises(TypeError):
        shared.metadata["x"] = 1
    assert (shared.reward, shared.reason, shared.metadata) == (1.0, None, {})


def test_shared_result_metadata_is_a_read_only_copy():
    metadata = {"repeated": 0.5}
    shared = SharedResult(-0.4, Status.OK, "50% repeat", metadata)
    metadata["repeated"] = 0.0  # the caller's dict is not the result's
    assert shared == Result(-0.4, Status.OK, "50% repeat", {}, {"repeated": 0.5})
    with pytest.raises(TypeError):
        shared.metadata["repeated"] = 1.0
    assert pickle.loads(pickle.dumps(shared)).metadata == {"repeated": 0.5}


def test_shared_result_pickles_as_a_plain_result():
    copy = pickle.loads(pickle.dumps(SharedResult(0.0, Status.NOT_APPLICABLE, "skipped")))
    assert type(copy) is Result and copy == Result(0.0, Status.NOT_APPLICABLE, "skipped")
    copy.reason = "mutable again"  # a plain Result: no longer shared


@pytest.mark.parametrize(
    ("args", "kwargs", "status", "metadata"),
    [
        # a status and a reason: reward 0.0, no code
        ((Status.TIMEOUT, "regex ran over 1s"), {}, Status.TIMEOUT, {}),
        # the status may be given by its value
        (("parse_error", "no answer line"), {}, Status.PARSE_ERROR, {}),
        # an OpenAI-style error code is the typed error_code; output rows show it in metadata
        ((Status.ERROR, "boom"), {"code": "other_error"}, Status.ERROR, {"error_code": "other_error"}),
        # extra keywords become metadata too
        (
            (Status.ERROR, "boom"),
            {"code": "other_error", "exception": "KeyError"},
            Status.ERROR,
            {"error_code": "other_error", "exception": "KeyError"},
        ),
    ],
    ids=["status", "status-by-value", "code", "extra-metadata"],
)
def test_result_failure(args, kwargs, status, metadata):
    result = Result.failure(*args, **kwargs)
    assert result.reward == 0.0
    assert result.status is status
    assert result.reason == args[1]
    assert result.row_metadata() == metadata
    assert result.error_code == kwargs.get("code")
    assert "error_code" not in result.metadata
    assert result.sub_rewards == {}
    assert not result.ok


def test_result_failure_rejects_an_unknown_status():
    with pytest.raises(ValueError, match="^'bogus' is not a valid Status$"):
        Result.failure("bogus", "x")


def _tree() -> Result:
    return Result(
        0.5,
        reason="counted as 0: a",
        sub_rewards={
            "a": Result.failure(Status.ERROR, "boom", "other_error"),
            "b": Result(
                1.0,
                sub_rewards={
                    "c": Result.failure(Status.TIMEOUT, "slow", "timeout_error"),
                    "d": Result(1.0),
                },
            ),
        },
        metadata={"grader": "multi"},
    )


def test_result_to_dict_nests_and_omits_empty_parts():
    assert _tree().to_dict() == {
        "reward": 0.5,
        "status": "ok",
        "reason": "counted as 0: a",
        "sub_rewards": {
            "a": {"reward": 0.0, "status": "error", "reason": "boom", "metadata": {"error_code": "other_error"}},
            "b": {
                "reward": 1.0,
                "status": "ok",
                "reason": None,
                "sub_rewards": {
                    "c": {
                        "reward": 0.0,
                        "status": "timeout",
                        "reason": "slow",
                        "metadata": {"error_code": "timeout_error"},
                    },
                    "d": {"reward": 1.0, "status": "ok", "reason": None},
                },
            },
        },
        "metadata": {"grader": "multi"},
    }
    json.dumps(_tree().to_dict())


@pytest.mark.parametrize(
    ("result", "codes"),
    [
        # an ok leaf has no error codes
        (Result(1.0), {}),
        # a failed leaf is keyed "." (the root itself)
        (Result.failure(Status.ERROR, "boom", "other_error"), {".": "other_error"}),
        # a failure without a code is not an error code
        (Result.failure(Status.ERROR, "boom"), {}),
        # nested sub-rewards are keyed by their dotted path
        (_tree(), {"a": "other_error", "b.c": "timeout_error"}),
        # a failed composite keeps its own code beside its children's
        (
            Result(
                0.0,
                Status.ERROR,
                "formula",
                {"x": Result.failure(Status.PARSE_ERROR, "p", "sample_parse_error")},
                error_code="formula_error",
            ),
            {".": "formula_error", "x": "sample_parse_error"},
        ),
    ],
    ids=["ok-leaf", "failed-leaf", "failure-without-code", "nested", "composite-and-child"],
)
def test_result_error_codes(result, codes):
    assert result.error_codes() == codes


def test_replace_makes_a_changed_copy_and_leaves_the_original():
    original = Result(0.5, Status.OK, "half", {}, {"k": 1})
    changed = original.replace(reward=1.0, metadata={"k": 2}, error_code="x")
    assert (changed.reward, changed.reason, changed.metadata, changed.error_code) == (1.0, "half", {"k": 2}, "x")
    assert (original.reward, original.metadata, original.error_code) == (0.5, {"k": 1}, None)
    with pytest.raises(TypeError, match=r"no field\(s\) \['rewrd'\]"):
        original.replace(rewrd=1.0)


def test_typed_usage_and_code_round_trip_through_an_output_row():
    usage = Usage(input_tokens=20, output_tokens=5, cached_tokens=4, cost_usd=0.25)
    judged = Result(0.0, Status.PARSE_ERROR, "no verdict", {}, {"model": "m"}, "model_grader_parse_error", usage)
    row = Result(1.0, Status.OK, None, {"judge": judged}).to_dict()
    assert row["sub_rewards"]["judge"]["metadata"] == {
        "model": "m",
        "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25, "cached_tokens": 4},
        "cost_usd": 0.25,
        "error_code": "model_grader_parse_error",
    }
    back = Result.from_dict(json.loads(json.dumps(row)))
    assert back == Result(1.0, Status.OK, None, {"judge": judged})
    assert pickle.loads(pickle.dumps(judged)) == judged
