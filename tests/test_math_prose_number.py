"""The math grader's "number" extractor: the last number of prose, or the candidate list it ends."""

from __future__ import annotations

import pytest

from graders.math import extract_answer

CASES = [
    ("last", "3 cats and 4 dogs make 7", "7"),
    ("decimal_thousands", "It costs 1,234.5 in all", "1,234.5"),
    ("fraction", "she ate 3/4 of it", "3/4"),
    ("leading_dot", "about .5 of it", ".5"),
    ("negative", "the change is -12", "-12"),
    ("unicode_minus", "the change is \u221212", "\u221212"),  # the sign is kept
    ("ordinal", "she came 3rd", "3"),
    ("in_word", "code AZYUK2A", None),  # a digit inside a word
    ("code_suffix", "room 2A", None),  # a number glued to a capital is a code
    ("subscript", "x_2", None),
    ("version", "v1.2.3", None),
    ("tuple", "the point (3, 4)", "(3, 4)"),
    ("list", "none, yes, 0, 1, 42", "none, yes, 0, 1, 42"),
    ("list_after", "12, Monday, Evelyn, yes", "12, Monday, Evelyn, yes"),
    ("verb_starts_list", "It could be 3, 4 or 5", "3, 4 or 5"),
    ("not_a_list", "So, in total, 42", "42"),
    ("apposition", "she has 12, which is even", "12"),
    ("numbered", "1. 7\n2. 12\n3. 42", "1. 7\n2. 12\n3. 42"),
    ("numbered_steps_then_value", "1. Add 3 and 4.\n2. Multiply by 6 to get 42", "42"),
    ("repeated", "it is (0, 3) (0, 3) (0, 3)", "(0, 3) (0, 3) (0, 3)"),
    ("none", "no digits", None),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_last_number_answer(text, expected):
    assert extract_answer(text, ["number"]) == (None if expected is None else (expected, "number"))
