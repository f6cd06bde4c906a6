"""Tests for graders/shaping/length.py: DAPO's soft overlong punishment, the band, group-relative lengths, truncation."""

from __future__ import annotations

import pytest

from graders.shaping.length import Length, NOT_APPLICABLE
from rft_core import SpecError, Status, load_spec

ANSWER = {"type": "string_check", "operation": "like", "reference": "{{ item.answer }}"}


def words(count: int) -> str:
    return " ".join(["w"] * count)


# DAPO: max_length 10, buffer 4: no penalty up to 6, a linear ramp to -1 at 10, -1 beyond
@pytest.mark.parametrize(
    ("length", "expected"),
    [(0, 0.0), (6, 0.0), (7, -0.25), (8, -0.5), (9, -0.75), (10, -1.0), (11, -1.0), (500, -1.0)],
)
def test_soft_overlong_punishment(length, expected):
    assert Length(unit="words", max_length=10, buffer=4).grade(words(length)).reward == pytest.approx(expected)


def test_the_factor_scales_the_penalty_and_declares_the_range():
    grader = Length(unit="characters", max_length=100, buffer=50, factor=0.5)
    assert grader.grade("x" * 75).reward == pytest.approx(-0.25)
    assert grader.grade("x" * 1000).reward == -0.5
    assert grader.config.range == (-0.5, 0.0)


@pytest.mark.parametrize(
    ("length", "expected"),
    # band [5, 10], ramp 5 wide on both sides
    [(0, -1.0), (2, -0.6), (5, 0.0), (8, 0.0), (10, 0.0), (13, -0.6), (15, -1.0), (40, -1.0)],
)
def test_target_band(length, expected):
    grader = Length(unit="characters", mode="band", min_length=5, max_length=10, buffer=5)
    assert grader.grade("x" * length).reward == pytest.approx(expected)


def test_a_band_with_one_edge():
    grader = Length(unit="words", mode="band", min_length=3, buffer=3)
    assert [grader.grade(words(count)).reward for count in (0, 2, 3, 300)] == [-1.0, pytest.approx(-1 / 3), 0.0, 0.0]


def test_group_mode_penalises_the_longer_correct_samples_of_each_item():
    grader = Length(unit="words", mode="group", factor=0.2, correct={"answer": ANSWER})
    samples = ["Paris", "it is Paris", "well it is Paris I think", "Lyon is long wrong answer here", "Rome", "Roma"]
    items = [{"q": "capital of France", "answer": "Paris"}] * 4 + [{"q": "capital of Italy", "answer": "Rome"}] * 2
    results = grader.grade_batch(samples, items)
    # France: correct lengths 1, 3, 6 -> 0, -0.2 * 2/5, -0.2; the wrong answer is not penalised by length
    # Italy: one correct sample: nothing to compare it with, so no penalty
    assert [result.reward for result in results] == pytest.approx([0.0, -0.08, -0.2, 0.0, 0.0, 0.0])
    assert [result.sub_rewards["answer"].reward for result in results] == [1, 1, 1, 0, 1, 0]


def test_group_mode_without_correct_counts_every_sample_and_groups_by_the_chosen_fields():
    grader = Length(unit="characters", mode="group", group_by=["prompt"])
    items = [{"prompt": "p", "attempt": 1}, {"prompt": "p", "attempt": 2}, {"prompt": "q", "attempt": 3}]
    results = grader.grade_batch(["ab", "abcd", "abc"], items)
    assert [result.reward for result in results[:2]] == [0.0, -1.0]
    assert (results[2].status, results[2].reason) == (Status.NOT_APPLICABLE, NOT_APPLICABLE)


def test_group_mode_on_one_sample_is_not_applicable():
    assert Length(unit="words", mode="group").grade("Paris").status is Status.NOT_APPLICABLE


def test_group_members_differ_only_by_their_finish_reason():
    grader = Length(unit="characters", mode="group")
    items = [{"prompt": "p", "finish_reason": "stop"}, {"prompt": "p", "finish_reason": "length"},
             {"prompt": "p", "finish_reason": "stop"}]
    results = grader.grade_batch(["a", "aaaa", "aaa"], items)
    # the truncated sample stays out of the ranking (and is kept as it is); the others are one group
    assert [result.reward for result in results] == [0.0, 0.0, -1.0]
    assert results[1].metadata["truncated"] is True


@pytest.mark.parametrize(
    ("choice", "sample", "item", "expected"),
    [
        ("keep", words(3), {"finish_reason": "length"}, 0.0),
        ("zero", words(3), {"finish_reason": "length"}, -1.0),
        ("zero", words(3), {"finish_reason": "stop"}, 0.0),
        ("zero", {"output_text": words(3), "choices": [{"finish_reason": "length"}]}, {}, -1.0),
        ("zero", words(3), {"truncated": True}, -1.0),  # truncated_field set to 'truncated' below
        ("soft", words(8), {"finish_reason": "length"}, -0.5),
        ("soft", words(3), {"finish_reason": "length"}, 0.0),
    ],
    ids=["keep", "zero", "zero_not_truncated", "zero_from_choices", "zero_from_column", "soft_ramp", "soft_short"],
)
def test_truncated_outputs(choice, sample, item, expected):
    field = "truncated" if "truncated" in item else "finish_reason"
    grader = Length(unit="words", max_length=10, buffer=4, on_truncated=choice, truncated_field=field)
    assert grader.grade(sample, item).reward == pytest.approx(expected)


def test_soft_truncation_in_band_mode_uses_dapo_ramp():
    grader = Length(unit="words", mode="band", min_length=20, max_length=30, buffer=4, on_truncated="soft")
    assert grader.grade(words(8), {"finish_reason": "length"}).reward == pytest.approx(0.0)  # under 26: no overlong
    assert grader.grade(words(8), {}).reward == -1.0  # not truncated: 12 words short of the band


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    pytest.importorskip("transformers")
    from tiny_models import word_tokenizer

    path = tmp_path_factory.mktemp("tokenizer")
    word_tokenizer(["the", "answer", "is", "four"]).save_pretrained(path)
    return path


def test_tokens_are_counted_with_the_local_tokenizer(tokenizer_dir, registry):
    grader = load_spec(
        {"type": "length", "tokenizer": str(tokenizer_dir), "max_length": 6, "buffer": 2}, registry=registry
    )
    # the word tokenizer gives one token a word (unknown words too), no special tokens added
    texts = ["the answer", "the answer is four four", "the answer is four zzz qq"]
    assert grader.lengths(texts) == [2, 5, 6]
    results = grader.grade_batch(texts, [{}] * 3)
    assert [result.reward for result in results] == [0.0, -0.5, -1.0]
    assert [result.metadata.get("length") for result in results] == [None, 5, 6]  # kept where there is a penalty
    assert results[1].reason == "5 tokens"
    assert grader.grade("the answer is four four").reward == -0.5


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "unit tokens needs tokenizer"),
        ({"unit": "words"}, "mode overlong needs max_length and buffer (DAPO: 20480 and 4096 tokens)"),
        ({"unit": "words", "max_length": 4, "buffer": 8}, "buffer 8 is larger than max_length 4"),
        ({"unit": "words", "mode": "band", "buffer": 2}, "mode band needs buffer and min_length, max_length or both"),
        ({"unit": "words", "mode": "band", "buffer": 2, "min_length": 9, "max_length": 3}, "min_length 9 is above"),
        ({"unit": "words", "mode": "group", "on_truncated": "soft"}, "on_truncated soft needs max_length and buffer"),
        ({"unit": "words", "max_length": 4, "buffer": 2, "correct": {"a": ANSWER}}, "correct applies to mode group"),
        ({"tokenizer": "no/such/dir", "max_length": 4, "buffer": 2}, "no/such/dir': no such directory"),
    ],
    ids=["no_tokenizer", "overlong_fields", "buffer", "band_fields", "band_order", "soft_fields", "correct",
         "missing_tokenizer"],
)
def test_bad_configs_fail_the_spec_load(registry, fields, message):
    with pytest.raises(SpecError) as caught:
        load_spec({"type": "length", **fields}, registry=registry)
    assert message in str(caught.value)


def test_batch_equals_one_by_one():
    grader = Length(unit="words", max_length=10, buffer=4, on_truncated="zero")
    samples = [words(count) for count in range(15)]
    items = [{"finish_reason": "length" if count % 5 == 0 else "stop"} for count in range(15)]
    assert grader.grade_batch(samples, items) == [grader.grade(s, i) for s, i in zip(samples, items)]


@pytest.mark.parametrize(
    "text",
    ["w " * 400_000, "\u3000".join(["語"] * 300_000), "\x00" * 900_000, ""],
    ids=["many_words", "ideographic_spaces", "nul_bytes", "empty"],
)
def test_hostile_outputs_are_graded(text):
    for unit in ("words", "characters"):
        result = Length(unit=unit, max_length=100, buffer=50).grade(text)
        assert result.status is Status.OK and -1.0 <= result.reward <= 0.0


def test_an_input_over_the_cap_is_a_parse_error():
    result = Length(unit="characters", max_length=10, buffer=5, max_input_chars=100).grade("x" * 101)
    assert result.status is Status.PARSE_ERROR


def test_an_unhashable_item_still_groups():
    grader = Length(unit="characters", mode="group")
    item = {"prompt": [{"role": "user", "content": "hi"}], "meta": {1: {2, 3}}}
    results = grader.grade_batch(["a", "aa"], [item, dict(item)])
    assert [result.reward for result in results] == [0.0, -1.0]
