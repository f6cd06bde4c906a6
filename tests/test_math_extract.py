"""Tests for graders/math/_extract.py: where the final answer is found."""

from __future__ import annotations

import time

import pytest

from graders.math._extract import EXTRACTORS, extract, last_boxed, search_choice

EXTRACT_CASES = [
    # boxed: the last one, nested braces, \fbox, no braces
    ("boxed_last", "\\boxed{1} then \\boxed{2}", ("2", "boxed")),
    ("boxed_nested", "\\boxed{\\frac{1}{\\sqrt{2}}}", ("\\frac{1}{\\sqrt{2}}", "boxed")),
    ("fbox", "\\fbox{7}", ("7", "boxed")),
    ("boxed_no_braces", "\\boxed 5", ("5", "boxed")),
    ("boxed_escaped_brace", "\\boxed{\\{1, 2\\}}", ("\\{1, 2\\}", "boxed")),
    # phrases: the rest of the sentence, a $...$ span in it, a boxed in it
    ("final_answer", "The final answer is 42 apples. Then more text.", ("42 apples", "phrase")),
    ("answer_colon", "work\nAnswer: 3/4\nExplanation", ("3/4", "phrase")),
    ("phrase_with_span", "So the answer is $x = 2$ I think", ("x = 2", "phrase")),
    ("phrase_decimal_kept", "The answer is 3.5.", ("3.5", "phrase")),
    # GSM8K
    ("gsm8k", "48/2 = 24\n#### 72", ("72", "gsm8k")),
    # LaTeX spans: $...$, \[...\], \(...\), $$...$$
    ("dollar_span", "first $1$ and last $x^2$", ("x^2", "latex")),
    ("display_span", "we get \\[ \\frac{3}{4} \\]", ("\\frac{3}{4}", "latex")),
    ("paren_span", "so \\(y\\) it is", ("y", "latex")),
    ("double_dollar", "$$\\pi$$", ("\\pi", "latex")),
    # last number
    ("last_number", "3 cats and 4 dogs make 7", ("7", "number")),
    ("last_number_thousands", "costs 1,234.5 total", ("1,234.5", "number")),
    ("last_number_fraction", "it is 3/4 of it", ("3/4", "number")),
    ("last_number_negative", "the change is -12", ("-12", "number")),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in EXTRACT_CASES], ids=[c[0] for c in EXTRACT_CASES])
def test_extract(text, expected):
    assert extract(text) == expected


def test_nothing_found():
    assert extract("no digits here") is None
    assert extract("") is None


def test_order_is_the_methods_order():
    text = "#### 5\n\\boxed{6}"
    assert extract(text) == ("6", "boxed")
    assert extract(text, ["gsm8k", "boxed"]) == ("5", "gsm8k")
    assert EXTRACTORS == ("boxed", "phrase", "gsm8k", "latex", "number")


def test_unclosed_boxed_falls_back_to_an_earlier_closed_one():
    assert last_boxed("\\boxed{1} and \\boxed{2") == "1"
    assert last_boxed("\\boxed{") is None


def test_hostile_boxed_is_linear():
    start = time.perf_counter()
    assert last_boxed("\\boxed{" * 100_000) is None
    assert time.perf_counter() - start < 5  # quadratic scanning would take minutes; not a benchmark


CHOICE_CASES = [
    ("parenthesised", "I think (B) is right", "B"),
    ("option", "so option D", "D"),
    ("answer_is", "the answer is C", "C"),
    ("alone_on_line", "reasoning\nE\n", "E"),
    ("none", "no letter here", None),
]


@pytest.mark.parametrize(("text", "letter"), [c[1:] for c in CHOICE_CASES], ids=[c[0] for c in CHOICE_CASES])
def test_search_choice(text, letter):
    assert search_choice(text) == letter
