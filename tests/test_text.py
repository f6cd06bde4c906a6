"""The config, normalisation and extraction the text graders share, seen through ``string_check``'s
``eq`` (the reward says whether the rendered, extracted and normalised texts are equal)."""

from __future__ import annotations

import pickle
import threading
import time
import warnings

import pytest
import regex
from pydantic import ValidationError

from rft_core.kernel.fields import HELD_SECONDS
from rft_core.kernel.grader import BatchFailureWarning

from graders.text import string_check
from graders.text.string_check import StringCheck
from rft_core import (
    GradeError,
    Status,
    compile_pattern,
    finditer_with_timeout,
    search_with_timeout,
)


def check(**fields) -> StringCheck:
    fields.setdefault("reference", "{{ item.answer }}")
    return StringCheck(**fields)


def equal(grader: StringCheck, text: str, reference) -> bool:
    """Whether the grader finds the sample ``text`` and the item's answer ``reference`` equal."""
    result = grader.grade(text, {"answer": reference})
    assert result.ok, result
    return result.reward == 1.0


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
    assert equal(check(**options), text, expected)
    assert equal(check(**options), expected, expected)  # the expected form is already normal
    assert equal(check(), text, expected) is (not options)  # the options did the work


# --- rendering, size cap, extraction -------------------------------------------------------


def test_texts_renders_and_normalises_both_sides():
    assert equal(check(casefold=True, strip=True), " PARIS ", "Paris ")
    assert not equal(check(), " PARIS ", "Paris ")


def test_texts_renders_non_string_reference_as_json():
    assert equal(check(), "4", 4)
    assert equal(check(), '{"a":[1,2]}', {"a": [1, 2]})
    assert not equal(check(), '{"a": [1, 2]}', {"a": [1, 2]})  # compact JSON, not Python's repr or spaced JSON


def test_texts_reads_a_custom_input_template():
    grader = check(input="{{ sample.output_json.answer }}")
    assert equal(grader, '{"answer": "42"}', "42")
    assert not equal(check(), '{"answer": "42"}', "42")


def test_texts_missing_variable_raises_template_error():
    result = check().grade("x", {"question": "q"})
    assert result.reason == "invalid_variable: item.answer in template '{{ item.answer }}': no key 'answer' (keys: question)"
    assert result.error_code == "invalid_variable_error" and result.reward == 0.0


@pytest.mark.parametrize(
    ("length", "fails"),
    [
        (10, False),  # exactly at the cap is still graded
        (11, True),  # one over is a parse error
    ],
    ids=["at_cap", "over_cap"],
)
def test_texts_max_input_chars(length, fails):
    grader = check(max_input_chars=10)
    if not fails:
        assert equal(grader, "a" * length, "a" * length)
        return
    result = grader.grade("a" * length, {"answer": "a"})
    assert result.reason == "input has 11 characters, over max_input_chars=10"
    assert result.status is Status.PARSE_ERROR
    assert result.error_code == "sample_parse_error"


def test_max_input_chars_applies_before_extract():
    # the cap protects the extract regex too, so it is checked on the whole rendered input
    result = check(max_input_chars=5, extract=r"\d").grade("1234567", {"answer": "7"})
    assert result.status is Status.PARSE_ERROR


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
    assert equal(check(extract=pattern), text, expected)
    assert not equal(check(extract=pattern), text, expected + "x")


def test_extract_then_normalise():
    assert equal(check(extract=r"Answer:(.*)", strip=True, casefold=True), "Answer:  PARIS  ", "Paris")


def test_extract_unmatched_group_is_normalisable():
    # before the fix the None answer made casefold raise AttributeError
    grader = check(extract=r"(\d+)|none", casefold=True, reference="")
    assert equal(grader, "none", "")


def test_extract_without_a_match_is_a_parse_error():
    result = check(extract=r"Answer: (\d+)").grade("I do not know", {"answer": "1"})
    assert result.reason == r"extract pattern 'Answer: (\d+)' found no answer in the input"
    assert result.status is Status.PARSE_ERROR
    assert result.error_code == "sample_parse_error"


def test_extract_that_backtracks_forever_times_out():
    result = check(extract=r"(a+)+$", regex_timeout=0.05).grade("a" * 50_000 + "b", {"answer": "a"})
    assert result.status is Status.TIMEOUT
    assert result.error_code == "timeout_error"
    assert result.reason == "regex '(a+)+$' ran over 0.05s"


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
        check(**fields)
    assert message in str(caught.value)


def test_reference_is_required():
    with pytest.raises(ValidationError, match="reference"):
        StringCheck()


def test_defaults():
    cfg = check().config
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


SLOW_MATCH = (regex.compile(r"(a|aa)+c"), "a" * 25 + "b aac")
"""A search that backtracks for tens of milliseconds, far past HELD_SECONDS, before it finds 'aac'."""


def test_a_match_longer_than_the_held_time_is_still_found():
    pattern, text = SLOW_MATCH
    start = time.perf_counter()
    assert search_with_timeout(pattern, text, 10.0)
    assert time.perf_counter() - start > HELD_SECONDS  # it did run past the first, lock-holding attempt
    assert [m.group(0) for m in finditer_with_timeout(pattern, text + " aac", 10.0)] == ["aac", "aac"]


def test_a_long_regex_lets_other_threads_run():
    """Past HELD_SECONDS the match runs with the interpreter lock released: a Python thread beside
    it keeps running while it backtracks until its timeout."""
    ticks: list[float] = []
    done = threading.Event()

    def tick() -> None:
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    ticker = threading.Thread(target=tick)
    ticker.start()
    time.sleep(0.05)
    start = time.perf_counter()
    try:
        with pytest.raises(GradeError):
            search_with_timeout(regex.compile(r"(a+)+$"), "a" * 50_000 + "b", 1.0)
        end = time.perf_counter()
    finally:
        done.set()
        ticker.join()
    during = [start] + [moment for moment in ticks if start <= moment <= end] + [end]
    assert end - start >= 0.9
    assert max(later - earlier for earlier, later in zip(during, during[1:])) < 0.5


def test_a_regex_timeout_in_a_batch_is_that_rows_status():
    """The batch path gives the hostile row its timeout and the others their grades: no batch failure."""
    grader = StringCheck(operation="regex", reference="(a+)+$", regex_timeout=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BatchFailureWarning)
        results = grader.grade_batch(["a" * 50_000 + "b", "aaa", "b"], [{}, {}, {}])
    assert [(result.status, result.reward) for result in results] == [
        (Status.TIMEOUT, 0.0), (Status.OK, 1.0), (Status.OK, 0.0)]
    assert results[0].error_code == "timeout_error"
    assert not any("batch_error" in result.metadata for result in results)


def test_a_batch_runs_each_rows_regex_once(monkeypatch):
    """The row past its timeout is not searched again: its time counts once in the batch."""
    searched = []

    def counting(pattern, text, timeout, full=False):
        searched.append(len(text))
        return search_with_timeout(pattern, text, timeout, full=full)

    monkeypatch.setattr(string_check, "search_with_timeout", counting)
    grader = StringCheck(operation="regex", reference="(a+)+$", regex_timeout=0.05)
    results = grader.grade_batch(["a" * 50_000 + "b", "aaa", "b"], [{}, {}, {}])
    assert [result.status for result in results] == [Status.TIMEOUT, Status.OK, Status.OK]
    assert searched == [50_001, 3, 1]


@pytest.mark.parametrize(
    "options",
    [{}, {"nfkc": True, "casefold": True, "strip": True}, {"collapse_whitespace": True, "extract": r"A: (.*)"}],
    ids=["plain", "normalised", "collapse_extract"],
)
def test_prepared_inputs_pickle(options):
    grader = check(**options)
    copy = pickle.loads(pickle.dumps(grader))
    for text, reference in [("A:  Ｐaris  x ", "Paris"), ("A:  Ｐaris  x ", "Ｐaris x"), ("paris", "PARIS")]:
        ours, theirs = grader.grade(text, {"answer": reference}), copy.grade(text, {"answer": reference})
        assert (ours.reward, ours.status, ours.reason) == (theirs.reward, theirs.status, theirs.reason)
