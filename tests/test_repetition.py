"""Tests for graders/shaping/repetition.py: the share of repeated n-grams, lines and sentences, and the penalty."""

from __future__ import annotations

import random

import pytest

from graders.shaping.repetition import Repetition
from rft_core import SpecError, Status, load_spec

PROSE = "The capital of France is Paris, which lies on the Seine and has been the seat of government for centuries."


@pytest.mark.parametrize(
    ("fields", "text", "share"),
    [
        # prose with no repeated 4-gram
        ({}, PROSE, 0.0),
        # fewer words than n: nothing to repeat
        ({}, "too short", 0.0),
        # one sentence said twice: its 4-grams repeat (half of them, less the seam)
        ({}, "a b c d e f " * 2, 3 / 9),
        # a loop: almost every 2-gram repeats
        ({"n": 2}, "ok " * 101, 99 / 100),
        # lines: blank lines ignored, whitespace around a line ignored
        ({"unit": "line"}, "step 1\n\nstep 2\n  step 1 \nstep 1", 2 / 4),
        # sentences split on . ! ? and newlines
        ({"unit": "sentence"}, "I am sure. I am sure! Really? I am sure.", 2 / 4),
        ({"unit": "sentence"}, "", 0.0),
    ],
    ids=["prose", "short", "said_twice", "loop", "lines", "sentences", "empty"],
)
def test_share_of_repeats(fields, text, share):
    result = Repetition(**fields).grade(text)
    assert result.status is Status.OK
    assert result.metadata["repeated"] == pytest.approx(share)


@pytest.mark.parametrize(
    ("share_text", "expected"),
    [
        (PROSE, 0.0),
        ("a b c d e f " * 2, -(3 / 9 - 0.1) / 0.9),  # above the 10% threshold: a linear ramp
        ("loop " * 1000, -(996 / 997 - 0.1) / 0.9),
    ],
    ids=["none", "some", "loop"],
)
def test_penalty_ramps_from_the_threshold_to_factor(share_text, expected):
    assert Repetition().grade(share_text).reward == pytest.approx(expected)


def test_threshold_and_factor():
    grader = Repetition(n=1, threshold=0.5, factor=0.2)
    assert grader.grade("a a b b").reward == 0.0  # half the words repeat: at the threshold
    assert grader.grade("a a a a").reward == pytest.approx(-0.2 * (0.75 - 0.5) / 0.5)
    assert grader.config.range == (-0.2, 0.0)


def test_only_the_last_max_units_are_read():
    text = "loop " * 1000 + " ".join(f"w{i}" for i in range(100))
    assert Repetition(n=1, max_units=100).grade(text).reward == 0.0
    assert Repetition(n=1, max_units=200).grade(text).reward < 0


def test_bad_configs_fail_the_spec_load(registry):
    with pytest.raises(SpecError) as caught:
        load_spec({"type": "repetition", "n": 0, "threshold": 1.0}, registry=registry)
    assert str(caught.value).splitlines() == [
        "spec: 2 problems",
        "  n: Input should be greater than or equal to 1",
        "  threshold: Input should be less than 1",
    ]


def test_batch_equals_one_by_one():
    grader = Repetition(unit="sentence")
    texts = [PROSE, "Yes. Yes. Yes.", "", "a\nb\na"]
    assert grader.grade_batch(texts, [{}] * 4) == [grader.grade(text) for text in texts]


def varied_texts(count: int, seed: int = 3) -> list[str]:
    """Prose, loops, short and empty texts, odd whitespace, lines and sentences that repeat."""
    rng = random.Random(seed)
    words = "we check the sum again so the answer is 42 . ! ? \n \u2003 \t".split(" ")
    texts = []
    for _ in range(count):
        text = rng.choice(" \n").join(rng.choice(words) for _ in range(rng.randrange(0, 60)))
        if rng.random() < 0.3:
            text += " and again." * rng.randrange(1, 20)
        texts.append(text)
    return texts + [PROSE, "", "   ", "a\nb\na"]


@pytest.mark.parametrize(
    "fields",
    [{}, {"n": 1}, {"n": 3, "threshold": 0.0}, {"max_units": 12}, {"unit": "line"}, {"unit": "sentence", "factor": 2}],
    ids=["default", "unigrams", "trigrams", "max_units", "lines", "sentences"],
)
def test_batch_equals_one_by_one_on_a_varied_corpus(fields):
    grader = Repetition(**fields)
    texts = varied_texts(300)
    batched = grader.grade_batch(texts, [{}] * len(texts))
    assert batched == [grader.grade(text) for text in texts]
    assert len({result.metadata["repeated"] for result in batched}) > 5  # shares of many sizes


@pytest.mark.parametrize(
    "text",
    ["x " * 450_000, "x" * 999_999, "\n" * 900_000, ". " * 450_000, "\ud800 \x00 " * 200_000],
    ids=["many_words", "one_long_word", "newlines", "dots", "odd_characters"],
)
@pytest.mark.parametrize("unit", ["ngram", "line", "sentence"])
def test_hostile_outputs_are_graded(text, unit):
    result = Repetition(unit=unit).grade(text)
    assert result.status is Status.OK and -1.0 <= result.reward <= 0.0


def test_an_input_over_the_cap_is_a_parse_error():
    assert Repetition(max_input_chars=10).grade("x" * 11).status is Status.PARSE_ERROR
