"""Tests for rft_core/integrations/openai_compat.py."""

from __future__ import annotations

import json

import pytest

from rft_core import Result, SpecError, Status, Usage, load_spec
from rft_core.cli import main
from rft_core.integrations.openai_compat import BOOLEAN_FLAGS, DETAILS, export_openai, openai_issues, run_response

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
    # calculate_output could not be evaluated (log of 0): OpenAI has no flag for it
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
    usage = Usage(input_tokens=100, output_tokens=20)
    judged = Result(1.0, metadata={"model": "gpt-4o-mini"}, usage=usage)
    again = Result(0.5, metadata={"model": "gpt-4o-mini"}, usage=usage)
    other = Result(0.0, metadata={"model": "qwen"}, usage=Usage(input_tokens=7))
    cached = Result(1.0, metadata={"model": "qwen", "cached": True})  # a cached verdict used no tokens
    root = Result(0.5, Status.OK, None, {"a": judged, "b": again, "c": other, "d": cached})
    response = run_response(check, root, 0.0)
    assert response["metadata"]["token_usage"] == 247
    assert response["model_grader_token_usage_per_model"] == {
        "gpt-4o-mini": {"prompt_tokens": 200, "completion_tokens": 40, "total_tokens": 240, "cached_tokens": 0},
        "qwen": {"prompt_tokens": 7, "completion_tokens": 0, "total_tokens": 7, "cached_tokens": 0},
    }
    assert response["metadata"]["sampled_model_name"] == "gpt-4o-mini"  # the first model grader's


# --- openai_issues / export_openai: specs against OpenAI's graders ----------------------------

JUDGE = {
    "type": "score_model",
    "model": "gpt-4o-mini",
    "input": [{"role": "user", "content": "Score {{ sample.output_text }} against {{ item.answer }}"}],
    "range": [0, 1],
}


LABEL = {"type": "label_model", "model": "gpt-4o", "input": [{"role": "user", "content": "{{ sample.output_text }}"}],
         "labels": ["good", "bad"], "passing_labels": ["good"]}


def messages(issues) -> list[str]:
    return [str(issue) for issue in issues]


PORTABLE = [
    # OpenAI's own string_check JSON
    {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}", "reference": "{{ item.answer }}",
     "operation": "ilike"},
    # our extra fields at their defaults
    {"type": "string_check", "reference": "x", "casefold": False, "strip": False},
    # every text_similarity metric is OpenAI's
    {"type": "text_similarity", "reference": "x", "evaluation_metric": "rouge_l", "pass_threshold": 0.5},
    # a judge with fields that only say how to reach the model (timeouts, retries, cache)
    {**JUDGE, "timeout": 5, "max_retries": 1, "cache": False, "max_concurrency": 2},
    # label_model inside a multi (OpenAI runs it nowhere else)
    {"type": "multi", "graders": {"label": LABEL}, "calculate_output": "label"},
    # multi of OpenAI graders, combined by a formula
    {"type": "multi", "graders": {"a": {"type": "string_check", "reference": "x"}, "b": JUDGE},
     "calculate_output": "0.5 * a + 0.5 * b"},
]


@pytest.mark.parametrize(
    "spec", PORTABLE,
    ids=["openai_string_check", "extras_at_default", "text_similarity", "judge", "label_in_multi", "multi"],
)
def test_portable_specs_have_no_issues(registry, spec):
    assert openai_issues(spec, registry=registry) == []


NOT_PORTABLE = [
    # a type OpenAI lacks, with the nearest OpenAI type
    (
        {"type": "fuzzy_match", "reference": "x"},
        ["type: 'fuzzy_match' is not an OpenAI grader type (OpenAI's: string_check, text_similarity, score_model, "
         "label_model, python, multi); the nearest OpenAI grader is text_similarity with evaluation_metric fuzzy_match"],
    ),
    # a field OpenAI lacks, away from its default
    (
        {"type": "string_check", "reference": "x", "casefold": True},
        ["casefold: OpenAI's string_check has no field 'casefold': leave it out or at its default (false)"],
    ),
    # an operation OpenAI lacks
    (
        {"type": "string_check", "reference": "x", "operation": "startswith"},
        ["operation: OpenAI's string_check has no operation 'startswith' (OpenAI's: eq, ne, like, ilike)"],
    ),
    # a judge on another server is another judge
    (
        {**JUDGE, "base_url": "http://localhost:8000/v1"},
        ["base_url: OpenAI's score_model has no field 'base_url': leave it out or at its default (null)"],
    ),
    # weights: the formula to write instead
    (
        {"type": "multi", "graders": {"a": {"type": "string_check", "reference": "x"},
                                      "b": {"type": "string_check", "reference": "y"}}, "weights": {"a": 1, "b": 3}},
        ["weights: OpenAI's multi has no field 'weights': write calculate_output: (1 * a + 3 * b) / 4 "
         "(unlike weights, it counts a not_applicable component as 0)"],
    ),
    # neither weights nor a formula: the implied mean
    (
        {"type": "multi", "graders": {"a": {"type": "string_check", "reference": "x"},
                                      "b": {"type": "string_check", "reference": "y"}}},
        ["(root): OpenAI's multi needs calculate_output (here the sub-graders' mean is implied): "
         "write calculate_output: (a + b) / 2"],
    ),
    # label_model at the top: OpenAI's fine-tuning grader is never one
    (
        LABEL,
        ["type: OpenAI's fine-tuning runs label_model only inside a multi: write "
         "{type: multi, graders: {label_model: ...}, calculate_output: label_model} "
         "(an eval's testing criteria take it as it is: --target evals)"],
    ),
    # a multi in a multi
    (
        {"type": "multi", "calculate_output": "inner",
         "graders": {"inner": {"type": "multi", "calculate_output": "a",
                               "graders": {"a": {"type": "string_check", "reference": "x", "nfkc": True}}}}},
        ["graders.inner.type: OpenAI's multi cannot hold another multi: write the inner graders into the outer one "
         "and combine them in its calculate_output",
         "graders.inner.graders.a.nfkc: OpenAI's string_check has no field 'nfkc': leave it out or at its default "
         "(false)"],
    ),
    # spec-level defaults count on every grader they reach, reported at the defaults key
    (
        {"type": "multi", "defaults": {"strip": True}, "calculate_output": "a",
         "graders": {"a": {"type": "string_check", "reference": "x"}}},
        ["defaults.strip: (given to graders.a) OpenAI's string_check has no field 'strip': leave it out or at its "
         "default (false)"],
    ),
]


@pytest.mark.parametrize(
    ("spec", "expected"),
    NOT_PORTABLE,
    ids=["type", "extra_field", "operation", "base_url", "weights", "no_formula", "label_at_top", "nested_multi",
         "defaults"],
)
def test_every_violation_is_reported_with_its_path(registry, spec, expected):
    assert messages(openai_issues(spec, registry=registry)) == expected


def test_a_spec_invalid_for_rft_raises_its_own_errors_first(registry):
    with pytest.raises(SpecError) as caught:
        openai_issues({"type": "string_check"}, registry=registry)
    assert caught.value.issues[0].path == ("reference",)


SPEC_FILE = """\
type: multi
graders:
  exact:
    type: string_check
    reference: "{{ item.answer }}"
    casefold: true
  close:
    type: fuzzy_match
    reference: "{{ item.answer }}"
calculate_output: 0.5 * exact + 0.5 * close
"""


def test_issues_carry_line_numbers(registry, tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC_FILE, encoding="utf-8")
    issues = openai_issues(path, registry=registry)
    assert [(issue.location(), issue.line) for issue in issues] == [
        ("graders.exact.casefold (line 6)", 6),
        ("graders.close.type (line 8)", 8),
    ]


def test_export_fills_what_openai_requires_and_drops_our_defaults(registry):
    spec = {
        "type": "multi",
        "rft": 1,
        "description": "not OpenAI's",
        "graders": {
            "exact": {"type": "string_check", "reference": "{{ item.answer }}", "casefold": False},
            "judge": {**JUDGE, "timeout": 5, "cache": False},
        },
        "calculate_output": "0.5 * exact + 0.5 * judge",
    }
    assert export_openai(spec, registry=registry) == {
        "type": "multi",
        "name": "multi",
        "graders": {
            "exact": {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
                      "reference": "{{ item.answer }}", "operation": "eq"},
            "judge": {"type": "score_model", "name": "judge", **{k: v for k, v in JUDGE.items() if k != "type"}},
        },
        "calculate_output": "0.5 * exact + 0.5 * judge",
    }


def test_export_applies_spec_defaults(registry):
    spec = {"type": "text_similarity", "defaults": {"pass_threshold": 0.7}, "reference": "x", "name": "sim"}
    assert export_openai(spec, registry=registry) == {
        "type": "text_similarity", "name": "sim", "input": "{{ sample.output_text }}", "reference": "x",
        "evaluation_metric": "fuzzy_match", "pass_threshold": 0.7,
    }


def test_exported_json_grades_the_same(registry):
    spec = {"type": "multi", "graders": {"a": {"type": "string_check", "reference": "{{ item.answer }}",
                                             "operation": "ilike"},
                                       "b": {"type": "text_similarity", "reference": "{{ item.answer }}"}},
            "calculate_output": "max(a, b)"}
    exported = export_openai(spec, registry=registry)
    for text in ("Paris", "paris!", "Lyon"):
        before = load_spec(spec, registry=registry).grade(text, {"answer": "PARIS"})
        after = load_spec(exported, registry=registry).grade(text, {"answer": "PARIS"})
        assert after.reward == before.reward


def test_export_refuses_a_non_portable_spec_naming_each_grader(registry):
    with pytest.raises(SpecError) as caught:
        export_openai(NOT_PORTABLE[7][0], registry=registry)
    assert str(caught.value).splitlines()[0] == "spec (not portable to OpenAI): 2 problems"
    assert [issue.path for issue in caught.value.issues] == [
        ("graders", "inner", "type"), ("graders", "inner", "graders", "a", "nfkc")
    ]


# --- openai_strict: a spec that must also run on OpenAI -----------------------------------------

STRICT_FILE = """\
openai_strict: true
type: multi
calculate_output: 0.5 * exact + 0.5 * inner
graders:
  exact:
    type: string_check
    reference: "{{ item.answer }}"
  inner:
    type: multi
    calculate_output: close
    graders:
      close: {type: fuzzy_match, reference: "{{ item.answer }}"}
"""


def test_strict_spec_refuses_what_openai_would_not_run(registry, tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(STRICT_FILE, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_spec(path, registry=registry)
    assert [(issue.location(), issue.message) for issue in caught.value.issues] == [
        ("graders.inner.type (line 9)", "OpenAI's multi cannot hold another multi: write the inner graders into the "
         "outer one and combine them in its calculate_output"),
        ("graders.inner.graders.close.type (line 12)", "'fuzzy_match' is not an OpenAI grader type (OpenAI's: "
         "string_check, text_similarity, score_model, label_model, python, multi); the nearest OpenAI grader is "
         "text_similarity with evaluation_metric fuzzy_match"),
    ]
    assert str(caught.value).splitlines()[0] == f"{path}: 2 problems"


def test_the_same_spec_loads_without_strict(registry):
    import yaml

    grader = load_spec({**yaml.safe_load(STRICT_FILE), "openai_strict": False}, registry=registry)
    assert grader.grade("Paris", {"answer": "Paris"}).reward == 1.0


STRICT_REFUSED = [
    # OpenAI's fields only
    ({"type": "string_check", "reference": "x", "casefold": True}, ("casefold",)),
    # label_model only inside a multi
    (LABEL, ("type",)),
    # spec-level defaults reach the graders
    ({"type": "string_check", "reference": "x", "defaults": {"strip": True}}, ("defaults", "strip")),
]


@pytest.mark.parametrize(("spec", "path"), STRICT_REFUSED, ids=["extra_field", "label_at_top", "defaults"])
def test_strict_refuses(registry, spec, path):
    with pytest.raises(SpecError) as caught:
        load_spec({**spec, "openai_strict": True}, registry=registry)
    assert [issue.path for issue in caught.value.issues] == [path]


def test_strict_accepts_openai_json_and_grades_it(registry):
    spec = {"openai_strict": True, "type": "multi", "graders": {"a": PORTABLE[0], "label": LABEL},
            "calculate_output": "a"}
    assert load_spec(spec, registry=registry).graders["a"].grade("The Paris answer", {"answer": "paris"}).reward == 1.0


def test_strict_must_be_a_boolean(registry):
    with pytest.raises(SpecError) as caught:
        load_spec({"type": "string_check", "reference": "x", "openai_strict": "yes"}, registry=registry)
    assert [(issue.path, issue.message) for issue in caught.value.issues] == [
        (("openai_strict",), "openai_strict must be true or false")
    ]


def test_strict_is_a_spec_key_export_drops(registry):
    assert export_openai({"type": "string_check", "reference": "x", "openai_strict": True}, registry=registry) == {
        "type": "string_check", "name": "string_check", "input": "{{ sample.output_text }}", "reference": "x",
        "operation": "eq",
    }


def test_the_json_schema_offers_openai_strict_at_the_root(registry):
    from rft_core.kernel.schema import spec_schema

    for variant in spec_schema(registry)["oneOf"]:
        assert variant["properties"]["openai_strict"]["type"] == "boolean"


@pytest.mark.parametrize(
    ("spec", "hint"),
    [
        ({"type": "format"}, "OpenAI has no structure grader: run it here, or write the check as a python grader"),
        ({"type": "length", "unit": "words", "max_length": 9, "buffer": 3},
         "OpenAI has no length grader: run it here, or compute the penalty in a python grader"),
        ({"type": "repetition"}, "OpenAI has no repetition grader: run it here, or compute the penalty in a python grader"),
        ({"type": "tool_call"},
         "OpenAI has no tool-call grader: run it here, or compare sample.output_tools in a python grader"),
    ],
    ids=["format", "length", "repetition", "tool_call"],
)
def test_a_grader_type_declares_why_openai_lacks_it(registry, spec, hint):
    issues = openai_issues(spec, registry=registry)
    assert [(issue.location(), issue.message) for issue in issues] == [
        ("type", f"{spec['type']!r} is not an OpenAI grader type (OpenAI's: string_check, text_similarity, "
                 f"score_model, label_model, python, multi); {hint}")
    ]


# --- targets: fine-tuning (the default) and evals ------------------------------------------------


def test_evals_take_a_top_level_label_model(registry):
    assert openai_issues(LABEL, registry, target="evals") == []
    assert [issue.path for issue in openai_issues(LABEL, registry, target="fine-tuning")] == [("type",)]


def test_evals_still_refuse_what_openai_lacks(registry):
    issues = openai_issues({"type": "string_check", "reference": "x", "casefold": True}, registry, target="evals")
    assert [issue.path for issue in issues] == [("casefold",)]


def test_an_unknown_target_is_refused(registry):
    with pytest.raises(ValueError, match="target must be one of fine-tuning, evals, not 'chat'"):
        openai_issues(LABEL, registry, target="chat")


@pytest.mark.parametrize(("target", "code"), [("evals", 0), ("fine-tuning", 1)])
def test_validate_openai_target(tmp_path, capsys, target, code):
    spec = tmp_path / "label.json"
    spec.write_text(json.dumps(LABEL))
    assert main(["validate", "--openai", "--target", target, str(spec)]) == code
    captured = capsys.readouterr()
    assert ("valid for OpenAI" in captured.out) is (code == 0)
