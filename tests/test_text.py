"""Tests for graders/text/_compare.py: the config, normalisation and extraction the text graders share."""

from __future__ import annotations

import pickle

import pytest
import regex
from pydantic import ValidationError

from graders.text._compare import TextComparisonConfig, TextInputs
from rft_core import (
    GradeError,
    Sample,
    Status,
    TemplateError,
    compile_pattern,
    finditer_with_timeout,
    search_with_timeout,
)


def config(**fields) -> TextComparisonConfig:
    fields.setdefault("reference", "{{ item.answer }}")
    return TextComparisonConfig(type="test", **fields)


def inputs(**fields) -> TextInputs:
    return TextInputs(config(**fields))


# --- normalise ------------------------------------------------------------------------------------

NORMALISE_CASES = [
    # nothing asked: the text is left exactly as it is
    ({}, "  Ｐaris\t CAFÉ ", "  Ｐaris\t CAFÉ "),
    # strip trims both ends only
    ({"strip": True}, "  a  b \n", "a  b"),
    # casefold is stronger than lower(): ß becomes ss
    ({"casefold": True}, "STRAßE", "strasse"),
    # nfkc folds full-width forms and ligatures
    ({"nfkc": True}, "ＡＢＣ ﬁ", "ABC fi"),
    # collapse_whitespace turns every run into one space and trims the ends
    ({"collapse_whitespace": True}, "  New \t York\n\nCity ", "New York City"),
    # nfkc runs before casefold: full-width capitals end up lower-case ascii
    ({"nfkc": True, "casefold": True}, "ＰＡＲＩＳ", "paris"),
    # every option at once
    ({"strip": True, "casefold": True, "nfkc": True, "collapse_whitespace": True}, " Ｎew\u3000YORK ", "new york"),
]


@pytest.mark.parametrize(
    ("options", "text", "expected"),
    NORMALISE_CASES,
    ids=["none", "strip", "casefold", "nfkc", "collapse_whitespace", "nfkc_then_casefold", "all"],
)
def test_normalise(options, text, expected):
    assert inputs(**options).normalise(text) == expected


# --- texts(): rendering, size cap, extraction -------------------------------------------------------


def test_texts_renders_and_normalises_both_sides():
    pair = inputs(casefold=True, strip=True).texts(Sample(" PARIS "), {"answer": "Paris "})
    assert pair == ("paris", "paris")


def test_texts_renders_non_string_reference_as_json():
    assert inputs().texts(Sample("4"), {"answer": 4}) == ("4", "4")
    assert inputs().texts(Sample("x"), {"answer": {"a": [1, 2]}}) == ("x", '{"a":[1,2]}')


def test_texts_reads_a_custom_input_template():
    pair = inputs(input="{{ sample.output_json.answer }}").texts(Sample('{"answer": "42"}'), {"answer": "42"})
    assert pair == ("42", "42")


def test_texts_missing_variable_raises_template_error():
    with pytest.raises(TemplateError) as caught:
        inputs().texts(Sample("x"), {"question": "q"})
    assert str(caught.value) == "invalid_variable: item.answer in template '{{ item.answer }}': no key 'answer' (keys: question)"
    assert caught.value.code == "invalid_variable_error"


@pytest.mark.parametrize(
    ("length", "fails"),
    [
        (10, False),  # exactly at the cap is still graded
        (11, True),  # one over is a parse error
    ],
    ids=["at_cap", "over_cap"],
)
def test_texts_max_input_chars(length, fails):
    cfg = inputs(max_input_chars=10)
    if not fails:
        assert cfg.texts(Sample("a" * length), {"answer": "a"})[0] == "a" * length
        return
    with pytest.raises(GradeError) as caught:
        cfg.texts(Sample("a" * length), {"answer": "a"})
    assert str(caught.value) == "input has 11 characters, over max_input_chars=10"
    assert caught.value.status is Status.PARSE_ERROR
    assert caught.value.code == "sample_parse_error"


def test_max_input_chars_applies_before_extract():
    # the cap protects the extract regex too, so it is checked on the whole rendered input
    cfg = inputs(max_input_chars=5, extract=r"\d")
    with pytest.raises(GradeError) as caught:
        cfg.texts(Sample("1234567"), {"answer": "7"})
    assert caught.value.status is Status.PARSE_ERROR


EXTRACT_CASES = [
    # the last match wins
    (r"Answer: (\w+)", "Answer: Lyon. Wait. Answer: Paris", "Paris"),
    # group 1 when the pattern has groups
    (r"\[(\d+)\]", "score [42] done", "42"),
    # the whole match when it has none
    (r"\d+", "a 1 b 22", "22"),
    # only group 1 counts even if there are more
    (r"(\w+)=(\w+)", "x=1 y=2", "y"),
    # a non-capturing group is not a group
    (r"(?:Answer): \w+", "Answer: Paris", "Answer: Paris"),
    # group 1 took no part in the last match: the answer is empty, not None
    (r"(\d+)|none", "none", ""),
    # the pattern sees the raw text (normalisation comes after)
    (r"ANSWER: (.*)", "answer: x ANSWER: Y", "Y"),
]


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    EXTRACT_CASES,
    ids=["last_wins", "group_1", "whole_match", "only_group_1", "non_capturing", "unmatched_group", "raw_text"],
)
def test_extract_answer(pattern, text, expected):
    assert inputs(extract=pattern).extract_answer(text) == expected


def test_extract_then_normalise():
    cfg = inputs(extract=r"Answer:(.*)", strip=True, casefold=True)
    assert cfg.texts(Sample("Answer:  PARIS  "), {"answer": "Paris"}) == ("paris", "paris")


def test_extract_unmatched_group_is_normalisable():
    # before the fix the None answer made casefold raise AttributeError
    cfg = inputs(extract=r"(\d+)|none", casefold=True)
    assert cfg.texts(Sample("none"), {"answer": ""}) == ("", "")


def test_extract_without_a_match_is_a_parse_error():
    with pytest.raises(GradeError) as caught:
        inputs(extract=r"Answer: (\d+)").extract_answer("I do not know")
    assert str(caught.value) == r"extract pattern 'Answer: (\d+)' found no answer in the input"
    assert caught.value.status is Status.PARSE_ERROR
    assert caught.value.code == "sample_parse_error"


def test_extract_that_backtracks_forever_times_out():
    cfg = inputs(extract=r"(a+)+$", regex_timeout=0.05)
    with pytest.raises(GradeError) as caught:
        cfg.extract_answer("a" * 50_000 + "b")
    assert caught.value.status is Status.TIMEOUT
    assert caught.value.code == "timeout_error"
    assert str(caught.value) == "regex '(a+)+$' ran over 0.05s"


# --- config validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        # extract is compiled when the config loads
        ({"extract": "("}, "invalid regex '(': missing ) at position 1"),
        # the timeout must be positive
        ({"regex_timeout": 0}, "Input should be greater than 0"),
        # so must the size cap
        ({"max_input_chars": 0}, "Input should be greater than 0"),
        # unknown fields are refused
        ({"lowercase": True}, "Extra inputs are not permitted"),
    ],
    ids=["bad_extract", "zero_timeout", "zero_cap", "unknown_field"],
)
def test_config_rejects(fields, message):
    with pytest.raises(ValidationError) as caught:
        config(**fields)
    assert message in str(caught.value)


def test_reference_is_required():
    with pytest.raises(ValidationError, match="reference"):
        TextComparisonConfig(type="test")


def test_defaults():
    cfg = config()
    assert str(cfg.input) == "{{ sample.output_text }}"
    assert (cfg.extract, cfg.strip, cfg.casefold, cfg.nfkc, cfg.collapse_whitespace) == (None, False, False, False, False)
    assert cfg.regex_timeout == 1.0
    assert (cfg.max_input_chars, cfg.max_reference_chars) == (None, None)  # each grader's metric has its defaults


# --- regex helpers -------------------------------------------------------------------------------


def test_compile_pattern_raises_the_given_error():
    with pytest.raises(KeyError, match=r"invalid regex '\[': "):
        compile_pattern("[", KeyError)
    assert compile_pattern("a", ValueError, regex.IGNORECASE).search("A")


@pytest.mark.parametrize(
    ("pattern", "text", "full", "expected"),
    [
        (r"\d+", "abc 12", False, True),  # search finds it anywhere
        (r"\d+", "abc 12", True, False),  # fullmatch needs all of it
        (r"\d+", "12", True, True),  # fullmatch of the whole text
        (r"\d+", "abc", False, False),  # nothing to find
    ],
    ids=["search_hit", "fullmatch_miss", "fullmatch_hit", "search_miss"],
)
def test_search_with_timeout(pattern, text, full, expected):
    assert search_with_timeout(regex.compile(pattern), text, 1.0, full=full) is expected


@pytest.mark.parametrize("full", [False, True], ids=["search", "fullmatch"])
def test_search_with_timeout_times_out(full):
    with pytest.raises(GradeError) as caught:
        search_with_timeout(regex.compile(r"(a+)+$"), "a" * 50_000 + "b", 0.05, full=full)
    assert caught.value.status is Status.TIMEOUT
    assert caught.value.code == "timeout_error"


def test_finditer_with_timeout_yields_every_match():
    assert [m.group(0) for m in finditer_with_timeout(regex.compile(r"\d"), "1a2b3", 1.0)] == ["1", "2", "3"]


@pytest.mark.parametrize(
    "options",
    [{}, {"nfkc": True, "casefold": True, "strip": True}, {"collapse_whitespace": True, "extract": r"A: (.*)"}],
    ids=["plain", "normalised", "collapse_extract"],
)
def test_prepared_inputs_pickle(options):
    prepared = inputs(**options)
    copy = pickle.loads(pickle.dumps(prepared))
    sample, item = Sample("A:  Ｐaris  x "), {"answer": "Paris"}
    assert copy.texts(sample, item) == prepared.texts(sample, item)
