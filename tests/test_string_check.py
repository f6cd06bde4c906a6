"""Tests for graders/text/string_check.py."""

from __future__ import annotations

import json
import pickle

import pytest

from graders.text.string_check import StringCheck
from rft_core import Result, SpecError, Status, load_spec


def spec(**fields) -> dict:
    return {"type": "string_check", "reference": "{{ item.reference }}", **fields}


# --- operations ----------------------------------------------------------------------------------

OPERATION_CASES = [
    # eq: exact and case-sensitive
    ("eq", "Paris", "Paris", 1.0),
    ("eq", "paris", "Paris", 0.0),
    # ne: the negation of eq
    ("ne", "Lyon", "Paris", 1.0),
    ("ne", "Paris", "Paris", 0.0),
    # like: the reference occurs in the input
    ("like", "The answer is Paris.", "Paris", 1.0),
    ("like", "The answer is paris.", "Paris", 0.0),
    # ilike: the same, ignoring case
    ("ilike", "THE ANSWER IS PARIS.", "paris", 1.0),
    ("ilike", "The answer is Lyon.", "paris", 0.0),
    # regex: the pattern matches somewhere
    ("regex", "answer: 42", r"\d+", 1.0),
    ("regex", "answer: none", r"\d+", 0.0),
    # fullmatch: the pattern matches the whole input
    ("fullmatch", "42", r"\d+", 1.0),
    ("fullmatch", "answer: 42", r"\d+", 0.0),
    # startswith / endswith
    ("startswith", "Paris, France", "Paris", 1.0),
    ("startswith", " Paris, France", "Paris", 0.0),
    ("endswith", "capital: Paris", "Paris", 1.0),
    ("endswith", "capital: Paris.", "Paris", 0.0),
]
OPERATION_IDS = [
    "eq_true", "eq_false", "ne_true", "ne_false", "like_true", "like_false", "ilike_true", "ilike_false",
    "regex_true", "regex_false", "fullmatch_true", "fullmatch_false", "startswith_true", "startswith_false",
    "endswith_true", "endswith_false",
]  # fmt: skip


@pytest.mark.parametrize(("operation", "text", "reference", "expected"), OPERATION_CASES, ids=OPERATION_IDS)
def test_operation_from_spec(registry, operation, text, reference, expected):
    grader = load_spec(spec(operation=operation), registry=registry)
    result = grader.grade(text, {"reference": reference})
    assert result.status is Status.OK
    assert result.reward == expected


@pytest.mark.parametrize(("operation", "text", "reference", "expected"), OPERATION_CASES, ids=OPERATION_IDS)
def test_operation_built_directly(operation, text, reference, expected):
    # a literal reference (no template) works too
    assert StringCheck(reference=reference, operation=operation).grade(text).reward == expected


def test_operation_defaults_to_eq():
    grader = StringCheck(reference="{{ item.answer }}")
    assert grader.config.operation == "eq"
    assert grader.grade("4", {"answer": "4"}).reward == 1.0
    assert grader.grade("4 ", {"answer": "4"}).reward == 0.0


def test_unknown_operation_lists_the_choices(registry):
    with pytest.raises(SpecError) as caught:
        load_spec(spec(operation="contains"), registry=registry)
    [issue] = caught.value.issues
    assert issue.path == ("operation",)
    assert issue.message == (
        "Input should be 'eq', 'ne', 'like', 'ilike', 'regex', 'fullmatch', 'startswith' or 'endswith'"
    )


# --- normalisation -------------------------------------------------------------------------------

NORMALISATION_CASES = [
    # strip: whitespace at the ends no longer matters
    ({"strip": True}, "  Paris \n", "Paris", 1.0),
    ({}, "  Paris \n", "Paris", 0.0),
    # strip applies to the reference too
    ({"strip": True}, "Paris", " Paris ", 1.0),
    # casefold: case no longer matters (and ß == ss)
    ({"casefold": True}, "STRASSE", "straße", 1.0),
    ({}, "STRASSE", "straße", 0.0),
    # nfkc: full-width letters equal their ascii forms
    ({"nfkc": True}, "ＡＢＣ", "ABC", 1.0),
    ({}, "ＡＢＣ", "ABC", 0.0),
    # collapse_whitespace: runs of spaces, tabs, newlines become one space
    ({"collapse_whitespace": True}, "New  York\n\tCity", "New York City", 1.0),
    ({}, "New  York\n\tCity", "New York City", 0.0),
    # normalisation feeds the other operations too
    ({"casefold": True, "operation": "startswith"}, "PARIS, France", "paris", 1.0),
    ({"nfkc": True, "operation": "like"}, "answer: ４２", "42", 1.0),
]
NORMALISATION_IDS = [
    "strip", "no_strip", "strip_reference", "casefold", "no_casefold", "nfkc", "no_nfkc",
    "collapse_whitespace", "no_collapse_whitespace", "casefold_startswith", "nfkc_like",
]  # fmt: skip


@pytest.mark.parametrize(("options", "text", "reference", "expected"), NORMALISATION_CASES, ids=NORMALISATION_IDS)
def test_normalisation(registry, options, text, reference, expected):
    grader = load_spec(spec(**options), registry=registry)
    assert grader.grade(text, {"reference": reference}).reward == expected


REGEX_REFERENCE_CASES = [
    # casefold does not touch the pattern: \D stays \D (casefolded it would be \d and fail)
    ("regex", {"casefold": True}, "ABC", r"^\D+$", 1.0),
    ("fullmatch", {"casefold": True}, "ABC", r"\D+", 1.0),
    # casefold makes the pattern case-insensitive instead
    ("regex", {"casefold": True}, "paris", "PARIS", 1.0),
    ("regex", {}, "paris", "PARIS", 0.0),
    ("fullmatch", {"casefold": True}, "PARIS", "[a-z]+", 1.0),
    # nfkc does not touch the pattern: a full-width pattern still wants full-width text
    ("regex", {"nfkc": True}, "ＡＢＣ", "ＡＢＣ", 0.0),
    # strip does not touch the pattern: its spaces still count
    ("fullmatch", {"strip": True}, " a ", " a ", 0.0),
    # ...but the input is still normalised
    ("fullmatch", {"strip": True}, " a ", "a", 1.0),
]


@pytest.mark.parametrize(
    ("operation", "options", "text", "pattern", "expected"),
    REGEX_REFERENCE_CASES,
    ids=[
        "casefold_keeps_D", "casefold_keeps_D_fullmatch", "casefold_ignorecase", "no_casefold_case_sensitive",
        "casefold_ignorecase_fullmatch", "nfkc_keeps_pattern", "strip_keeps_pattern", "strip_input",
    ],
)  # fmt: skip
def test_regex_reference_is_not_normalised(registry, operation, options, text, pattern, expected):
    grader = load_spec(spec(operation=operation, **options), registry=registry)
    assert grader.grade(text, {"reference": pattern}).reward == expected


# --- extract -------------------------------------------------------------------------------------

EXTRACT_CASES = [
    # the last match wins
    (r"Answer: (\w+)", "Answer: Lyon. No wait. Answer: Paris", "Paris", {}, 1.0),
    (r"Answer: (\w+)", "Answer: Paris. No wait. Answer: Lyon", "Paris", {}, 0.0),
    # group 1 is the answer when there is one
    (r"\\boxed\{(.*?)\}", r"so \boxed{42}.", "42", {}, 1.0),
    # the whole match when there is no group
    (r"\d+", "first 1, then 22", "22", {}, 1.0),
    # normalisation applies to the extracted answer
    (r"Answer:(.*)", "Answer:   PARIS  ", "paris", {"strip": True, "casefold": True}, 1.0),
    # group 1 that took no part in the match gives the empty answer, with no crash under casefold
    (r"(\d+)|none", "none", "", {"casefold": True}, 1.0),
]


@pytest.mark.parametrize(
    ("pattern", "text", "reference", "options", "expected"),
    EXTRACT_CASES,
    ids=["last_wins", "last_wins_wrong", "group_1", "whole_match", "normalised_after", "unmatched_group"],
)
def test_extract(registry, pattern, text, reference, options, expected):
    grader = load_spec(spec(extract=pattern, **options), registry=registry)
    result = grader.grade(text, {"reference": reference})
    assert result.status is Status.OK
    assert result.reward == expected


def test_extract_without_a_match_is_a_parse_error(registry):
    grader = load_spec(spec(extract=r"Answer: (\w+)"), registry=registry)
    result = grader.grade("I am not sure", {"reference": "Paris"})
    assert result.status is Status.PARSE_ERROR
    assert result.reward == 0.0
    assert result.reason == r"extract pattern 'Answer: (\w+)' found no answer in the input"  # one backslash, as in the spec
    assert result.error_code == "sample_parse_error"


def test_invalid_extract_regex_is_a_spec_error(registry):
    with pytest.raises(SpecError) as caught:
        load_spec(spec(extract="Answer: ("), registry=registry)
    [issue] = caught.value.issues
    assert issue.path == ("extract",)
    assert issue.message == "invalid regex 'Answer: (': missing ) at position 9"


@pytest.mark.parametrize("operation", ["regex", "fullmatch"])
def test_invalid_constant_regex_reference_is_a_spec_error(registry, operation):
    # a pattern written in the spec itself is compiled once, when the spec loads
    with pytest.raises(SpecError) as caught:
        load_spec(spec(operation=operation, reference="(unclosed"), registry=registry)
    [issue] = caught.value.issues
    assert issue.message == "string_check: invalid regex '(unclosed': missing ) at position 9"


# --- failures while grading ----------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["regex", "fullmatch"])
def test_invalid_regex_in_the_item_is_an_error(registry, operation):
    grader = load_spec(spec(operation=operation), registry=registry)
    result = grader.grade("abc", {"reference": "(unclosed"})
    assert result.status is Status.ERROR
    assert result.reward == 0.0
    assert result.reason == "invalid regex '(unclosed': missing ) at position 9"


@pytest.mark.parametrize("operation", ["regex", "fullmatch"])
def test_catastrophic_backtracking_times_out(registry, operation):
    grader = load_spec(spec(operation=operation, regex_timeout=0.05), registry=registry)
    result = grader.grade("a" * 50_000 + "b", {"reference": "(a+)+$"})
    assert result.status is Status.TIMEOUT
    assert result.reward == 0.0
    assert result.reason == "regex '(a+)+$' ran over 0.05s"
    assert result.error_code == "timeout_error"


def test_catastrophic_extract_times_out():
    grader = StringCheck(reference="x", extract="(a+)+$", regex_timeout=0.05)
    result = grader.grade("a" * 50_000 + "b")
    assert result.status is Status.TIMEOUT


def test_input_over_max_input_chars_is_a_parse_error(registry):
    grader = load_spec(spec(max_input_chars=100), registry=registry)
    result = grader.grade("x" * 101, {"reference": "x"})
    assert result.status is Status.PARSE_ERROR
    assert result.reason == "input has 101 characters, over max_input_chars=100"
    assert result.error_code == "sample_parse_error"


def test_one_megabyte_sample_is_graded(registry):
    # the default cap is 1,000,000 characters: a 1 MB output is still graded
    text = ("lorem ipsum " * 100_000)[: 1_000_000 - len("ANSWER")] + "ANSWER"
    assert len(text) == 1_000_000
    for operation, expected in [("endswith", 1.0), ("like", 1.0), ("eq", 0.0)]:
        grader = load_spec(spec(operation=operation), registry=registry)
        result = grader.grade(text, {"reference": "ANSWER"})
        assert (result.status, result.reward) == (Status.OK, expected), operation


def test_missing_template_variable_is_an_invalid_variable_error(registry):
    grader = load_spec(spec(), registry=registry)
    result = grader.grade("Paris", {"answer": "Paris"})
    assert result.status is Status.ERROR
    assert result.reward == 0.0
    assert result.reason == "invalid_variable: item.reference in template '{{ item.reference }}': no key 'reference' (keys: answer)"
    assert result.error_code == "invalid_variable_error"


def test_list_index_out_of_range_names_the_path(registry):
    grader = load_spec(spec(reference="{{ item.answers[5] }}"), registry=registry)
    result = grader.grade("Paris", {"answers": ["Paris", "paris"]})
    assert result.status is Status.ERROR
    assert result.reason == (
        "invalid_variable: item.answers[5] in template '{{ item.answers[5] }}': index 5 out of range (list has 2 items)"
    )
    assert result.error_codes() == {".": "invalid_variable_error"}


def test_list_index_in_range(registry):
    grader = load_spec(spec(reference="{{ item.answers[1] }}"), registry=registry)
    assert grader.grade("paris", {"answers": ["Paris", "paris"]}).reward == 1.0


def test_missing_sample_json_field_is_an_invalid_variable_error():
    grader = StringCheck(input="{{ sample.output_json.answer }}", reference="{{ item.answer }}")
    assert grader.grade('{"answer": "4"}', {"answer": "4"}).reward == 1.0
    result = grader.grade("not json", {"answer": "4"})
    assert result.status is Status.ERROR
    assert result.error_code == "invalid_variable_error"
    assert "cannot look up 'answer' in a null" in result.reason


def test_non_string_reference_renders_as_json(registry):
    grader = load_spec(spec(), registry=registry)
    assert grader.grade("42", {"reference": 42}).reward == 1.0
    assert grader.grade("[1,2]", {"reference": [1, 2]}).reward == 1.0


# --- OpenAI compatibility ------------------------------------------------------------------------

OPENAI_STRING_CHECK = """
{
  "type": "string_check",
  "name": "Example string check grader",
  "input": "{{sample.output_text}}",
  "reference": "{{item.label}}",
  "operation": "eq"
}
"""


def test_openai_json_config_works_unchanged(registry):
    grader = load_spec(json.loads(OPENAI_STRING_CHECK), registry=registry)
    assert isinstance(grader, StringCheck)
    assert grader.name == "Example string check grader"
    assert grader.grade({"output_text": "positive"}, {"label": "positive"}).reward == 1.0
    assert grader.grade({"output_text": "negative"}, {"label": "positive"}).reward == 0.0


def test_openai_json_file_loads(registry, tmp_path):
    path = tmp_path / "grader.json"
    path.write_text(OPENAI_STRING_CHECK, encoding="utf-8")
    grader = load_spec(path, registry=registry)
    assert grader.grade("positive", {"label": "positive"}).reward == 1.0


def test_unknown_field_is_a_spec_error(registry):
    with pytest.raises(SpecError) as caught:
        load_spec(spec(case_sensitive=False), registry=registry)
    [issue] = caught.value.issues
    assert issue.path == ("case_sensitive",)
    assert issue.message.startswith("unknown field 'case_sensitive'; fields: type, name, grader_timeout, input, reference, extract")


def test_docstring_example():
    grader = StringCheck(reference="{{ item.answer }}", operation="eq", casefold=True)
    assert grader.grade("Paris", {"answer": "paris"}).reward == 1.0


def test_results_are_two_shared_read_only_outcomes(registry):
    grader = load_spec(spec(), registry=registry)
    samples, items = ["Paris", "Lyon", "Paris"], [{"reference": "Paris"}] * 3
    batch = grader.grade_batch(samples, items)
    assert batch == [Result(1.0), Result(0.0), Result(1.0)]
    assert batch[0] is batch[2] is grader.grade("Paris", {"reference": "Paris"})  # made once, not per sample
    with pytest.raises(AttributeError):
        batch[0].reward = 0.0  # would change every other sample's result


# --- pickling (TRL and worker processes ship graders across processes) ----------------------------


@pytest.mark.parametrize(
    "options",
    [
        {},  # plain
        {"strip": True, "casefold": True, "nfkc": True},  # every normalisation step
        {"collapse_whitespace": True, "extract": r"Answer:(.*)"},  # collapse and a compiled extract pattern
        {"operation": "regex"},  # a pattern reference
    ],
    ids=["plain", "normalised", "collapse_extract", "regex"],
)
def test_pickle_round_trip_after_use(registry, options):
    grader = load_spec(spec(**options), registry=registry)
    before = grader.grade("Answer:  Paris ", {"reference": "Paris"})  # grading prepares (caches) its inputs
    copy = pickle.loads(pickle.dumps(grader))
    assert copy.grade("Answer:  Paris ", {"reference": "Paris"}) == before
    assert copy.grade("Answer: Lyon", {"reference": "Paris"}).reward == 0.0
