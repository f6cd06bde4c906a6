"""Tests for graders/text/fuzzy_match.py."""

from __future__ import annotations

import pickle

import pytest
from rapidfuzz import fuzz, utils
from rapidfuzz.distance import JaroWinkler, Levenshtein

from graders.text.fuzzy_match import FuzzyMatch
from rft_core import SpecError, Status, load_spec

METRICS = ["ratio", "partial_ratio", "token_sort_ratio", "token_set_ratio", "WRatio", "QRatio", "levenshtein", "jaro_winkler"]

# rapidfuzz's own functions, scaled to [0, 1]: what each metric must equal
RAPIDFUZZ = {
    "ratio": lambda a, b, p: fuzz.ratio(a, b, processor=p) / 100,
    "partial_ratio": lambda a, b, p: fuzz.partial_ratio(a, b, processor=p) / 100,
    "token_sort_ratio": lambda a, b, p: fuzz.token_sort_ratio(a, b, processor=p) / 100,
    "token_set_ratio": lambda a, b, p: fuzz.token_set_ratio(a, b, processor=p) / 100,
    "WRatio": lambda a, b, p: fuzz.WRatio(a, b, processor=p) / 100,
    "QRatio": lambda a, b, p: fuzz.QRatio(a, b, processor=p) / 100,
    "levenshtein": lambda a, b, p: Levenshtein.normalized_similarity(a, b, processor=p),
    "jaro_winkler": lambda a, b, p: JaroWinkler.normalized_similarity(a, b, processor=p),
}

PAIRS = [
    # word order differs, punctuation and case too
    ("The quick brown fox!", "quick brown FOX, the"),
    # a short reference inside a longer answer
    ("The capital of France is Paris.", "Paris"),
    # a spelling variant
    ("colour", "color"),
]


def spec(**fields) -> dict:
    return {"type": "fuzzy_match", "reference": "{{ item.reference }}", **fields}


@pytest.mark.parametrize("processor", ["default", "none"])
@pytest.mark.parametrize(("text", "reference"), PAIRS, ids=["reordered", "contained", "spelling"])
@pytest.mark.parametrize("metric", METRICS)
def test_metric_matches_rapidfuzz(registry, metric, text, reference, processor):
    grader = load_spec(spec(metric=metric, processor=processor), registry=registry)
    result = grader.grade(text, {"reference": reference})
    expected = RAPIDFUZZ[metric](text, reference, utils.default_process if processor == "default" else None)
    assert result.status is Status.OK
    assert 0.0 <= result.reward <= 1.0
    assert result.reward == pytest.approx(expected)


KNOWN_VALUES = [
    # token_sort_ratio ignores word order
    ("token_sort_ratio", "Smith John", "John Smith", 1.0),
    # ratio is the normalised Indel similarity: 1 - 1/11
    ("ratio", "colour", "color", 10 / 11),
    # partial_ratio finds the reference inside the answer
    ("partial_ratio", "the answer is paris", "paris", 1.0),
    # token_set_ratio: one side's words are a subset of the other's
    ("token_set_ratio", "paris france", "paris", 1.0),
    # levenshtein: one edit in six characters
    ("levenshtein", "colour", "colout", 5 / 6),
    # nothing in common
    ("ratio", "abc", "xyz", 0.0),
    # identical
    ("jaro_winkler", "paris", "paris", 1.0),
]


@pytest.mark.parametrize(
    ("metric", "text", "reference", "expected"),
    KNOWN_VALUES,
    ids=["token_sort", "ratio", "partial", "token_set", "levenshtein", "disjoint", "identical"],
)
def test_known_values(metric, text, reference, expected):
    grader = FuzzyMatch(reference=reference, metric=metric)
    assert grader.grade(text).reward == pytest.approx(expected)


def test_defaults():
    grader = FuzzyMatch(reference="{{ item.reference }}")
    assert (grader.config.metric, grader.config.processor, grader.config.pass_threshold) == ("ratio", "default", None)


@pytest.mark.parametrize(
    ("processor", "expected"),
    [
        # default_process lower-cases, turns punctuation into spaces and trims: the strings become equal
        ("default", 1.0),
        # none compares the raw strings: 2 capitals and the "!" differ
        ("none", fuzz.ratio("Hello World!", "hello world") / 100),
    ],
    ids=["default", "none"],
)
def test_processor(registry, processor, expected):
    grader = load_spec(spec(processor=processor), registry=registry)
    assert grader.grade("Hello World!", {"reference": "hello world"}).reward == pytest.approx(expected)


def test_processor_none_really_differs():
    assert fuzz.ratio("Hello World!", "hello world") / 100 == pytest.approx(1 - 5 / 23)


THRESHOLD_CASES = [
    # 10/11 = 0.909 is above 0.9: a pass
    (0.9, 1.0),
    # below 0.95: a fail
    (0.95, 0.0),
    # exactly at the threshold passes ("at or above")
    (10 / 11, 1.0),
    # 0 passes everything
    (0.0, 1.0),
]


@pytest.mark.parametrize(("threshold", "reward"), THRESHOLD_CASES, ids=["pass", "fail", "at_threshold", "zero"])
def test_pass_threshold(registry, threshold, reward):
    grader = load_spec(spec(pass_threshold=threshold), registry=registry)
    result = grader.grade("colour", {"reference": "color"})
    assert result.reward == reward
    assert result.metadata["similarity"] == pytest.approx(10 / 11)


def test_without_threshold_the_similarity_is_the_reward():
    result = FuzzyMatch(reference="color").grade("colour")
    assert result.reward == pytest.approx(10 / 11)
    assert "similarity" not in result.metadata


@pytest.mark.parametrize("threshold", [-0.1, 1.5], ids=["negative", "over_one"])
def test_pass_threshold_out_of_range_is_a_spec_error(registry, threshold):
    with pytest.raises(SpecError) as caught:
        load_spec(spec(pass_threshold=threshold), registry=registry)
    assert caught.value.issues[0].path == ("pass_threshold",)


NORMALISATION_CASES = [
    # processor none so that only our normalisation is at work
    # nfkc: full-width forms equal ascii
    ({"nfkc": True}, "ＡＢＣ", "ABC", 1.0),
    ({}, "ＡＢＣ", "ABC", 0.0),
    # casefold
    ({"casefold": True}, "PARIS", "paris", 1.0),
    ({}, "PARIS", "paris", 0.0),
    # collapse_whitespace
    ({"collapse_whitespace": True}, "new   york\n", "new york", 1.0),
    # strip
    ({"strip": True}, "  paris  ", "paris", 1.0),
    ({}, "  paris  ", "paris", fuzz.ratio("  paris  ", "paris") / 100),
    # extract picks the answer before comparing
    ({"extract": r"Answer: (.*)"}, "Reasoning... Answer: paris", "paris", 1.0),
]


@pytest.mark.parametrize(
    ("options", "text", "reference", "expected"),
    NORMALISATION_CASES,
    ids=["nfkc", "no_nfkc", "casefold", "no_casefold", "collapse_whitespace", "strip", "no_strip", "extract"],
)
def test_normalisation(registry, options, text, reference, expected):
    grader = load_spec(spec(processor="none", **options), registry=registry)
    assert grader.grade(text, {"reference": reference}).reward == pytest.approx(expected)


def test_extract_without_match_is_a_parse_error(registry):
    grader = load_spec(spec(extract=r"Answer: (.*)"), registry=registry)
    result = grader.grade("no answer here", {"reference": "paris"})
    assert result.status is Status.PARSE_ERROR
    assert result.error_code == "sample_parse_error"


def test_input_over_max_input_chars_is_a_parse_error():
    result = FuzzyMatch(reference="x", max_input_chars=3).grade("abcd")
    assert result.status is Status.PARSE_ERROR
    assert result.reason == "input has 4 characters, over max_input_chars=3"


def test_missing_variable_is_an_invalid_variable_error(registry):
    result = load_spec(spec(), registry=registry).grade("paris", {})
    assert result.status is Status.ERROR
    assert result.error_code == "invalid_variable_error"


def test_unknown_metric_lists_the_choices(registry):
    with pytest.raises(SpecError) as caught:
        load_spec(spec(metric="cosine"), registry=registry)
    [issue] = caught.value.issues
    assert issue.path == ("metric",)
    assert issue.message == (
        "Input should be 'ratio', 'partial_ratio', 'token_sort_ratio', 'token_set_ratio', "
        "'WRatio', 'QRatio', 'levenshtein' or 'jaro_winkler'"
    )


def test_unknown_processor_is_a_spec_error(registry):
    with pytest.raises(SpecError) as caught:
        load_spec(spec(processor="lower"), registry=registry)
    assert caught.value.issues[0].message == "Input should be 'default' or 'none'"


def test_docstring_example():
    grader = FuzzyMatch(reference="{{ item.name }}", metric="token_sort_ratio")
    assert grader.grade("Smith John", {"name": "John Smith"}).reward == 1.0


def test_pickle_round_trip_after_use(registry):
    grader = load_spec(spec(metric="token_sort_ratio", collapse_whitespace=True, pass_threshold=0.5), registry=registry)
    before = grader.grade("Smith   John", {"reference": "John Smith"})
    copy = pickle.loads(pickle.dumps(grader))
    assert copy.grade("Smith   John", {"reference": "John Smith"}) == before
    assert before.reward == 1.0
