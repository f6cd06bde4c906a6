"""Size caps of the text metrics (graders/text/_limits.py): huge texts get a status, not minutes of work."""

from __future__ import annotations

import pytest

from graders.text._limits import DEFAULT_LIMITS, default_limits
from graders.text.fuzzy_match import FuzzyMatch
from graders.text.string_check import StringCheck
from graders.text.text_similarity import TextSimilarity
from rft_core import Status, load_spec

FUZZY_METRICS = ["ratio", "partial_ratio", "token_sort_ratio", "token_set_ratio", "WRatio", "QRatio", "levenshtein",
                 "jaro_winkler"]
SIMILARITY_METRICS = ["fuzzy_match", "bleu", "gleu", "rouge_1", "rouge_5", "rouge_l"]


def build(grader: str, metric: str | None, **fields):
    if grader == "fuzzy_match":
        return FuzzyMatch(reference="{{ item.answer }}", metric=metric, **fields)
    if grader == "text_similarity":
        return TextSimilarity(reference="{{ item.answer }}", evaluation_metric=metric, **fields)
    return StringCheck(reference="{{ item.answer }}", operation="like", **fields)


CASES = [("fuzzy_match", m) for m in FUZZY_METRICS] + [("text_similarity", m) for m in SIMILARITY_METRICS] + [
    ("string_check", None)
]


@pytest.mark.parametrize(("grader", "metric"), CASES, ids=[f"{g}-{m}" for g, m in CASES])
def test_an_input_one_over_the_default_cap_is_a_parse_error_on_both_paths(grader, metric):
    max_input, _ = default_limits(grader, metric)
    text = "ab " * (max_input // 3) + "x" * (max_input % 3 + 1)
    assert len(text) == max_input + 1
    graded = build(grader, metric)
    one = graded.grade(text, {"answer": "ab"})
    [batched] = graded.grade_batch([text], [{"answer": "ab"}])
    for result in (one, batched):
        assert result.status is Status.PARSE_ERROR
        assert result.reason == f"input has {max_input + 1:,} characters, over max_input_chars={max_input:,}"
        assert result.error_code == "sample_parse_error"


@pytest.mark.parametrize(("grader", "metric"), CASES, ids=[f"{g}-{m}" for g, m in CASES])
def test_a_reference_one_over_the_default_cap_is_an_error(grader, metric):
    _, max_reference = default_limits(grader, metric)
    reference = "r" * (max_reference + 1)
    result = build(grader, metric).grade("short answer", {"answer": reference})
    assert result.status is Status.ERROR
    assert result.reason == (
        f"reference has {max_reference + 1:,} characters, over max_reference_chars={max_reference:,}; "
        "raise max_reference_chars in the spec to compare it"
    )


@pytest.mark.parametrize(("grader", "metric"), CASES, ids=[f"{g}-{m}" for g, m in CASES])
def test_texts_at_the_caps_set_in_the_spec_are_graded_and_one_more_is_not(grader, metric):
    graded = build(grader, metric, max_input_chars=12, max_reference_chars=5)
    assert graded.grade("the answer 1", {"answer": "ans 1"}).status is Status.OK
    assert graded.grade("the answer 12", {"answer": "ans 1"}).status is Status.PARSE_ERROR
    assert graded.grade("the answer 1", {"answer": "ans 12"}).status is Status.ERROR


def test_a_1mb_output_against_a_10000_character_reference_with_partial_ratio_is_refused_at_once():
    # the reproduction of issue 14: unbounded, partial_ratio ran for more than 900 s
    result = build("fuzzy_match", "partial_ratio").grade("a" * 1_000_000, {"answer": "a" * 10_000})
    assert result.status is Status.ERROR
    assert "over max_reference_chars=1,000" in result.reason


def test_a_10mb_output_is_refused_by_every_overlap_metric():
    text = "word " * 2_000_000
    for metric in SIMILARITY_METRICS:
        assert build("text_similarity", metric).grade(text, {"answer": "word"}).status is Status.PARSE_ERROR


def test_caps_are_spec_fields_that_must_be_positive(registry):
    grader = load_spec({"type": "fuzzy_match", "reference": "x", "max_reference_chars": 3}, registry=registry)
    assert grader.grade("x", {}).status is Status.OK
    with pytest.raises(Exception, match="max_input_chars"):
        load_spec({"type": "text_similarity", "reference": "x", "max_input_chars": 0}, registry=registry)


def test_every_default_names_a_known_grader_and_metric():
    fuzzy = set(FUZZY_METRICS)
    similarity = {"fuzzy_match", "bleu", "gleu", "meteor", "cosine", "rouge_1", "rouge_l"}
    for grader, metric in DEFAULT_LIMITS:
        known = {"fuzzy_match": fuzzy, "text_similarity": similarity, "string_check": set()}[grader]
        assert metric is None or metric in known


def test_siblings_with_different_reference_caps_still_prepare_their_texts_once(registry, monkeypatch):
    from graders.text._compare import TextInputs

    calls = []
    prepare = TextInputs._texts_batch
    monkeypatch.setattr(TextInputs, "_texts_batch", lambda self, *args: calls.append(1) or prepare(self, *args))
    spec = {"type": "multi", "graders": {
        "exact": {"type": "string_check", "reference": "{{ item.answer }}"},  # reference cap 1,000,000
        "close": {"type": "fuzzy_match", "reference": "{{ item.answer }}", "metric": "partial_ratio"},  # 1,000
    }}
    grader = load_spec(spec, registry=registry)
    results = grader.grade_batch(["ab", "cd"], [{"answer": "ab"}, {"answer": "r" * 1_001}])
    assert len(calls) == 1
    assert results[0].sub_rewards["close"].reward == 1.0
    # the long reference fails the batch path of fuzzy_match only; one by one it is that row's error
    assert results[1].sub_rewards["exact"].status is Status.OK
    assert results[1].sub_rewards["close"].status is Status.ERROR
