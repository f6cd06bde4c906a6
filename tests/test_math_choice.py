"""The choice letter a multiple-choice output settles on, or its hedge: the math grader with a letter as the
reference (metadata["extracted"] names every letter found)."""

from __future__ import annotations

import pytest

from graders.math import MathGrader

NO_LETTER = "no choice letter (A-J) found in the answer"


def choices(text: str) -> tuple[str, ...]:
    """The letters (or candidates) the grader found, read from its Result against the reference 'A'."""
    result = MathGrader().grade(text, {"answer": "A"})
    if result.reason == NO_LETTER:
        return ()
    assert result.metadata["method"] == "choice", result
    letters = tuple(result.metadata["extracted"].split(" or "))
    assert result.reward == (1.0 if letters == ("A",) else 0.0)  # a hedge never earns the reward
    return letters

CHOICES = [
    # one letter, as models write it
    ("bare", "B", ("B",)),
    ("bare_period", "C.", ("C",)),
    ("parenthesised", "(D)", ("D",)),
    ("bold", "**C**", ("C",)),
    ("bold_in_prose", "After comparing all four, my pick is **C**.", ("C",)),
    ("option_word", "Option C", ("C",)),
    ("option_sentence", "so option D fits best", ("D",)),
    ("letter_then_value", "B) 42", ("B",)),
    ("its", "I think it's B", ("B",)),  # the pronoun I is not choice I
    ("it_is", "Hmm, it is A.", ("A",)),
    ("go_with", "I'd go with E.", ("E",)),
    ("option_is", "Comparing them, the correct option is C.", ("C",)),
    ("textbf", r"The right one is \textbf{(B)}.", ("B",)),
    ("is_correct", "B is correct because the slope is positive.", ("B",)),
    ("answer_is", "The answer is C", ("C",)),
    ("answer_is_for_sure", "The answer is for sure D, it can't be A or B", ("D",)),  # the rejected letters come after
    ("answer_not", "The answer is not A, it is C.", ("C",)),  # a negated letter is skipped
    ("correct_answer_paren", "Comparing the options, the correct answer is (B).", ("B",)),
    ("answer_colon", "Answer: (A)", ("A",)),
    ("lower_in_parens", "The answer is (b).", ("B",)),
    ("alone_on_line", "Checking each option...\nE\n", ("E",)),
    ("boxed", r"Therefore the answer is $\boxed{C}$.", ("C",)),
    ("boxed_text", r"\(\boxed{\text{(B)}}\)", ("B",)),
    ("boxed_twice_same", r"\boxed{B} ... so \boxed{B}", ("B",)),
    ("after_think", "<think>maybe A, maybe D</think>The answer is D.", ("D",)),
    ("answer_tag", "<answer>B</answer>", ("B",)),
    ("french", "La réponse est C.", ("C",)),
    ("chinese", "答案是 B。", ("B",)),
    ("article_is_not_a_letter", "A triangle has three sides, so the answer is B.", ("B",)),
    ("options_listed_then_answer", "(A) 12 (B) 15 (C) 18 (D) 21\nThe answer is (C).", ("C",)),
    # hedges: several letters, never one answer
    ("or_chain", "A or B or C", ("A", "B", "C")),
    ("answer_or", "The answer is A or B.", ("A", "B")),
    ("comma_list", "The answer is A, C, D", ("A", "C", "D")),
    ("two_boxes", r"\boxed{A} or maybe \boxed{B}", ("A", "B")),
    ("boxed_or", r"\boxed{A \text{ or } B}", ("A", "B")),
    ("slash", "Answer: B/C", ("B", "C")),
    ("and", "The answer is B and D.", ("B", "D")),
    ("answer_tags_differ", "<answer>A</answer><answer>C</answer>", ("A", "C")),
    ("letter_among_values", r"The answer is B, 72, \frac{1}{2}", ("B", "72", "\\frac")),  # a candidate list
    ("letter_after_values", "Answer: 72 or 3 or B", ("B", "...")),  # listed after other candidates
    ("letter_repeated", "The answer is B B B B.", ("B", "B", "B", "B")),  # degenerate repetition is no answer
    ("letter_then_its_value", "The answer is (C) 18.", ("C",)),  # the option's value after its letter is fine
    ("text_letter_repeated", r"\text{(C)} \text{(C)} \text{(C)}", ("C", "C", "C")),
    ("text_letter_after_words", r"\text{Monday} or Evelyn or yes or \text{(C)}", ("C", "...")),
    ("boxed_letter_among_words", r"\boxed{\text{(C)}, \text{Monday}, Evelyn}", ("C", "Monday", "Evelyn")),
    ("numbered_candidates", "1. 12\n2. Evelyn\n3. \\text{(C)}", ("C", "...")),
    ("so_comma", "Final answer: so, C.", ("C",)),  # a connective before the comma is not a candidate
    # nothing
    ("no_letter", "I am not sure about this one.", ()),
    ("only_listed_options", "(A) 12 (B) 15 (C) 18 (D) 21", ()),  # the question's options copied back
    ("unclosed_think", "<think>it is B", ()),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CHOICES], ids=[c[0] for c in CHOICES])
def test_find_choice(text, expected):
    assert choices(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("for sure D, it can't be A or B", ("D",)),
        ("either A or B", ("A", "B")),
        ("I would say C", ("C",)),
        ("not B but C", ("C",)),
        ("A is right", ("A",)),
        ("nothing here", ()),
    ],
)
def test_letters_in(text, expected):
    assert choices(f"The answer is {text}") == expected
