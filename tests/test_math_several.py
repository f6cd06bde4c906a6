"""An extracted answer that offers several candidates is refused by the math grader (reward 0, "several answers offered")."""

from __future__ import annotations

import pytest

from graders.math import MathGrader

WHOLE_OUTPUT = MathGrader(extract=r"(?s).+")  # the whole output is the extracted answer

SEVERAL = [
    ("words_among_values", r"12, \text{Monday}, Evelyn, yes", True),  # a data set's answers listed together
    ("hedge_with_words", r"\text{Monday} or Evelyn or yes or 12", True),
    ("repeated_token", r"\text{Monday} \text{Monday} \text{Monday}", True),  # degenerate repetition
    ("repeated_number", "42 42 42 42", True),
    ("repeated_tuple", r"(-\infty, 3) (-\infty, 3)", True),
    # one answer
    ("single", "42", False),
    ("math_list", "1, 2, 3", False),  # a list of values: the parser compares it with a list or set reference
    ("tuples", "(1, 2), (3, 4), (5, 6)", False),
    ("sentence_after_value", "5, since 2 + 3 = 5, as shown", False),  # cleaning stops at 'since'
    ("apposition", "5, which is prime", False),
    ("two_items", "3 or 4", False),  # two values: the parser reads the list, which fails either one
    ("expression", "x + x", False),
    ("long_items", "the first value we found, the second value we found, and 3", False),
]


@pytest.mark.parametrize(("answer", "expected"), [c[1:] for c in SEVERAL], ids=[c[0] for c in SEVERAL])
def test_offers_several(answer, expected):
    result = WHOLE_OUTPUT.grade(answer, {"answer": "12"})
    assert (result.reason == "several answers offered") is expected
    if expected:
        assert (result.reward, result.metadata["extracted"]) == (0.0, answer)
