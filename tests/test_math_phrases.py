"""The math grader's "phrase" extractor: answer phrases, conclusions, and the value in the sentence."""

from __future__ import annotations

import pytest

from graders.math import extract_answer


def phrase(text: str) -> str | None:
    found = extract_answer(text, ["phrase"])
    return None if found is None else found[0]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("The answer is 5. Next sentence.", "5"),
        ("Final Answer: The final answer is $7$. I hope it is correct.", "7"),  # the last final-answer phrase
        ("The final answer is 9. Checking the answer: 8.", "9"),  # 'final answer' beats a later 'answer:'
        ("Answer:\n\n$$\n3\n$$\nmore", "3"),  # a display span is never cut
        ("The answer is 3.5.", "3.5"),  # a decimal point does not end the sentence
        ("We answered it.", None),  # 'answered' is not the phrase
        ("To find the answer, we add.", None),  # no verb or colon after 'answer'
        ("# Answer\n\n12", "12"),
        ("x = 3 is wrong, so the answer must be 5.", "5"),
    ],
)
def test_answer_sentence(text, value):
    assert phrase(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("She has 3. So the total is 42 apples.", "42 apples"),
        ("Therefore, $x = 5$.", "x = 5"),
        ("So we have $x = 3$. Then $y = 7$.", None),  # a span after the conclusion is the later answer
        ("So she has 5 apples left.", None),  # no 'is' or '=': the last number decides
        ("We get $$2\\Delta x$$. Therefore, the error increases by 100%.", "100%"),  # the conclusion after math
        ("We get $x = 3$. So 4 and 5 remain.", None),  # two numbers: no one value
        ("Also the total is 4.", None),  # 'Also' is not 'so'
    ],
)
def test_conclusion_sentence(text, value):
    assert phrase(text) == value


@pytest.mark.parametrize(
    ("sentence", "value"),
    [
        ("The largest $n$ is 34", "34"),
        ("the value of $a_{10}$ is 512", "512"),
        ("x + y = 5", "x + y = 5"),  # an expression is not a name
        ("5, which is prime", "5, which is prime"),  # cleaning stops at 'which'
        ("probably $5$ or $6$", "5 or 6"),
        ("$x + y$ = 5", "x + y = 5"),
        ("for sure 42 apples", "42 apples"),
        ("**18**", "18"),
        ("18**", "18"),
        ("Evelyn", "Evelyn"),
        ("not 5, it is 6", None),  # a negated value is not the answer: the last number decides
    ],
)
def test_value_of(sentence, value):
    assert phrase(f"The answer is {sentence}") == value
