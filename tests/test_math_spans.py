"""Boxes, math spans, the part after </think>, <answer> tags: what the math grader reads (extract_answer
with one extractor, the grader's Result for references and unfinished thinking)."""

from __future__ import annotations

import pytest

from graders.math import MathGrader, extract_answer


def found(text: str, extractor: str) -> str | None:
    answer = extract_answer(text, [extractor])
    return None if answer is None else answer[0]


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
    assert found(text, "boxed") == (", ".join(expected) or None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$a$ and $$b$$ and \\(c\\) and \\[d\\]", "a and b and c and d"),  # every kind, joined by 'and'
        ("costs $5 each.\nThen $x$", "x"),  # an inline span never crosses a line
        ("9 * $2 = $18 and $y$", "y"),  # a $ before a digit is a dollar sign
        ("$ 9 $", "9"),  # spaces on both sides are fine
        ("$$\n\\frac12\n$$", "\\frac12"),  # display math may span lines
        (r"\$5 and $z$", "z"),  # an escaped dollar is not a delimiter
    ],
)
def test_math_spans(text, expected):
    assert found(text, "latex") == expected


def test_last_joined_spans():
    text = "first $9$. The roots are $1$, $2$ \\quad\\text{and}\\quad $3$"
    assert found(text, "latex") == "1 , 2 \\quad\\text{and}\\quad 3"


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
    """A worked solution as the reference: its answer is the last box with the boxes joined to it."""
    grader = MathGrader(extract=r"(?s).+")
    every = found(text, "boxed")
    if not expected:
        assert every is None
        return
    assert grader.grade(", ".join(expected), {"answer": text}).reward == 1.0
    if every != ", ".join(expected):  # the earlier boxes are not part of the answer
        assert grader.grade(every, {"answer": text}).reward == 0.0


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
    assert found(text, "text") == (", ".join(part.strip() for part in parts) or None)


def test_thinking_unfinished():
    unfinished = "no answer: the output ends inside <think> (only the text after </think> is graded)"
    assert MathGrader().grade("<think>x", {"answer": "1"}).reason == unfinished
    assert MathGrader().grade("<think>a</think><think>b", {"answer": "1"}).reason == unfinished
    assert MathGrader().grade("<think>a</think>", {"answer": "1"}).reason != unfinished  # finished, nothing after
    assert MathGrader().grade("<think>a</think>b", {"answer": "1"}).status.value == "ok"
