"""Tests for graders/math/_spans.py: boxes, math spans, the part after </think>, <answer> tags."""

from __future__ import annotations

import pytest

from graders.math._spans import answer_parts, boxed_contents, last_joined_boxes, last_joined_spans, math_spans, thinking_unfinished


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"\boxed{1} and \boxed{\frac{1}{2}}", ["1", r"\frac{1}{2}"]),  # every box, in order
        (r"\boxed{\boxed{6}}", ["6"]),  # a box in a box: the inner one
        (r"\boxed{ }", []),  # an empty box is no answer
        (r"\boxed 5 then \fbox{6}", ["5", "6"]),
        (r"\boxedsomething{7}", []),  # another command
        (r"\boxed{1} and \boxed{2", ["1"]),  # an unclosed box is skipped
    ],
)
def test_boxed_contents(text, expected):
    assert boxed_contents(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$a$ and $$b$$ and \\(c\\) and \\[d\\]", ["a", "b", "c", "d"]),
        ("costs $5 each.\nThen $x$", ["x"]),  # an inline span never crosses a line
        ("9 * $2 = $18 and $y$", ["y"]),  # a $ before a digit is a dollar sign
        ("$ 9 $", ["9"]),  # spaces on both sides are fine
        ("$$\n\\frac12\n$$", ["\\frac12"]),  # display math may span lines
        (r"\$5 and $z$", ["z"]),  # an escaped dollar is not a delimiter
    ],
)
def test_math_spans(text, expected):
    assert [span.content for span in math_spans(text)] == expected


def test_last_joined_spans():
    text = "first $9$. The roots are $1$, $2$ \\quad\\text{and}\\quad $3$"
    assert last_joined_spans(text, math_spans(text)) == "1 , 2 \\quad\\text{and}\\quad 3"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\\boxed{5}", ["5"]),
        ("no box", []),
        ("$\\boxed{1}$, $\\boxed{2}$", ["1", "2"]),
        ("$x_1 = \\boxed{1}$ \\quad\\text{and}\\quad $x_2 = \\boxed{2}$", ["1", "2"]),
        ("$\\boxed{1}$ was wrong, so the answer is $\\boxed{2}$", ["2"]),  # prose between: the last box
        ("\\boxed{0} then \\boxed{1} or \\boxed{2}", ["1", "2"]),
        ("\\boxed{3} cats and \\boxed{4} dogs", ["3", "4"]),  # a unit word before the connector
        ("\\boxed{3} cats cats \\boxed{4}", ["4"]),
    ],
)
def test_last_joined_boxes(text, expected):
    assert last_joined_boxes(text) == expected


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("no tags", ["no tags"]),
        ("<think>3</think>4", ["4"]),
        ("reasoning</think>\n5", ["\n5"]),  # the template opened <think> in the prompt
        ("<think>a</think>b<think>c</think>d", ["d"]),  # only after the last one
        ("<think>still thinking", []),
        ("<answer>1</answer> x <answer>2</answer>", ["1", "2"]),
        ("<answer> </answer>rest", ["<answer> </answer>rest"]),  # an empty tag is no part
        ("<answer>open only", ["<answer>open only"]),
    ],
)
def test_answer_parts(text, parts):
    assert answer_parts(text) == parts


def test_thinking_unfinished():
    assert thinking_unfinished("<think>x")
    assert thinking_unfinished("<think>a</think><think>b")
    assert not thinking_unfinished("<think>a</think>b")
    assert not thinking_unfinished("plain")
