"""Tests for rft_core/openai_compat.py."""

from __future__ import annotations

import pytest

from rft_core import Result, Status, load_spec
from rft_core.openai_compat import BOOLEAN_FLAGS, DETAILS, run_response

# --- run_response: OpenAI's /graders/run response -------------------------------------------

OPENAI_ERROR_KEYS = {
    # the fields of OpenAI's RunGraderResponse.metadata.errors
    "formula_parse_error", "sample_parse_error", "truncated_observation_error", "unresponsive_reward_error",
    "invalid_variable_error", "other_error", "python_grader_server_error", "python_grader_server_error_type",
    "python_grader_runtime_error", "python_grader_runtime_error_details", "model_grader_server_error",
    "model_grader_refusal_error", "model_grader_parse_error", "model_grader_server_error_details",
}


@pytest.fixture
def check(registry):
    return load_spec({"type": "string_check", "reference": "{{ item.answer }}"}, registry=registry)


def test_response_shape_for_a_plain_grader(check):
    response = run_response(check, check.grade("Paris", {"answer": "Paris"}), 0.25)
    assert response == {
        "reward": 1.0,
        "metadata": {
            "name": "string_check",
            "type": "string_check",
            "errors": {key: None if key in DETAILS.values() else False for key in OPENAI_ERROR_KEYS},
            "execution_time": 0.25,
            "scores": {},
            "token_usage": None,
            "sampled_model_name": None,
        },
        "sub_rewards": {},
        "model_grader_token_usage_per_model": {},
    }


def test_errors_has_exactly_openais_keys(check):
    errors = run_response(check, check.grade("x", {"answer": "y"}), 0.0)["metadata"]["errors"]
    assert set(errors) == OPENAI_ERROR_KEYS
    assert set(BOOLEAN_FLAGS) | set(DETAILS.values()) == OPENAI_ERROR_KEYS


def test_multi_scores_and_sub_rewards(registry):
    grader = load_spec(
        {
            "type": "multi",
            "name": "combined",
            "graders": {
                "exact": {"type": "string_check", "reference": "{{ item.answer }}"},
                "inner": {"type": "multi", "graders": {"lower": {"type": "string_check", "reference": "paris"}},
                          "calculate_output": "lower"},
            },
            "calculate_output": "0.5 * exact + 0.5 * inner",
        },
        registry=registry,
    )
    response = run_response(grader, grader.grade("Paris", {"answer": "Paris"}), 0.0)
    assert response["reward"] == 0.5
    # nested composites (which OpenAI lacks) appear as dotted paths
    expected = {"exact": 1.0, "inner": 0.0, "inner.lower": 0.0}
    assert response["metadata"]["scores"] == expected
    assert response["sub_rewards"] == expected
    assert (response["metadata"]["name"], response["metadata"]["type"]) == ("combined", "multi")


FLAG_CASES = [
    # our code -> OpenAI's flag
    ("sample_parse_error", Status.PARSE_ERROR, "sample_parse_error"),
    ("invalid_variable_error", Status.ERROR, "invalid_variable_error"),
    ("formula_parse_error", Status.ERROR, "formula_parse_error"),
    ("model_grader_parse_error", Status.PARSE_ERROR, "model_grader_parse_error"),
    ("model_grader_refusal_error", Status.ERROR, "model_grader_refusal_error"),
    ("other_error", Status.ERROR, "other_error"),
    # a deadline passed: the reward did not come back
    ("timeout_error", Status.TIMEOUT, "unresponsive_reward_error"),
    # calculate_output could not be evaluated (division by zero): OpenAI has no flag for it
    ("formula_error", Status.ERROR, "other_error"),
    # a plugin's own code
    ("my_plugin_error", Status.ERROR, "other_error"),
]


@pytest.mark.parametrize(("code", "status", "flag"), FLAG_CASES, ids=[case[0] for case in FLAG_CASES])
def test_error_codes_map_to_openai_flags(check, code, status, flag):
    result = Result.failure(status, "went wrong", code)
    errors = run_response(check, result, 0.0)["metadata"]["errors"]
    assert [name for name, value in errors.items() if value is True] == [flag]


def test_model_grader_server_error_carries_its_details(check):
    failed = Result.failure(Status.TIMEOUT, "judge: no answer after 3 attempts", "model_grader_server_error")
    root = Result(0.0, Status.OK, None, {"judge": failed, "exact": Result(1.0)})
    errors = run_response(check, root, 0.0)["metadata"]["errors"]
    assert errors["model_grader_server_error"] is True
    assert errors["model_grader_server_error_details"] == "judge: no answer after 3 attempts"


@pytest.mark.parametrize(
    ("status", "flag"),
    [
        # a failed result whose tree carries no code still raises a flag
        (Status.PARSE_ERROR, "sample_parse_error"),
        (Status.TIMEOUT, "unresponsive_reward_error"),
        (Status.ERROR, "other_error"),
    ],
    ids=["parse_error", "timeout", "error"],
)
def test_a_failure_without_a_code_raises_the_flag_of_its_status(check, status, flag):
    errors = run_response(check, Result(0.0, status, "failed"), 0.0)["metadata"]["errors"]
    assert [name for name, value in errors.items() if value is True] == [flag]


def test_not_applicable_is_no_error(check):
    errors = run_response(check, Result(0.0, Status.NOT_APPLICABLE, "no reference"), 0.0)["metadata"]["errors"]
    assert not any(errors.values())


def test_token_usage_sums_the_model_graders(check):
    usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    judged = Result(1.0, metadata={"model": "gpt-4o-mini", "usage": usage})
    again = Result(0.5, metadata={"model": "gpt-4o-mini", "usage": usage})
    other = Result(0.0, metadata={"model": "qwen", "usage": {"total_tokens": 7}})
    cached = Result(1.0, metadata={"model": "qwen", "cached": True})  # a cached verdict used no tokens
    root = Result(0.5, Status.OK, None, {"a": judged, "b": again, "c": other, "d": cached})
    response = run_response(check, root, 0.0)
    assert response["metadata"]["token_usage"] == 247
    assert response["model_grader_token_usage_per_model"] == {
        "gpt-4o-mini": {"prompt_tokens": 200, "completion_tokens": 40, "total_tokens": 240},
        "qwen": {"total_tokens": 7},
    }
