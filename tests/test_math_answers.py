"""The math grader end to end on real-looking model outputs: the right text is graded, and outputs
offering several answers never earn the reward (a false pass is worse than a false fail).

Extraction alone is tested in tests/test_math_extract.py and tests/test_math_choice.py.
"""

from __future__ import annotations

import pytest

from graders.math import MathGrader
from rft_core import Status
from rft_core.audit.auditor import audit

GRADER = MathGrader(workers=2)
PROSE = "Let me double-check by redoing the computation a different way; every step agrees with the one before. " * 40

GSM8K_COT = (
    "Natalia sold 48 clips in April.\nIn May she sold half as many: 48 / 2 = 24 clips.\n"
    "Altogether she sold 48 + 24 = 72 clips.\n"
)
R1 = (
    "<think>\nOkay, so I need to find x. If 2x + 3 = 11 then 2x = 8, so x = 4. Wait, let me check: "
    "2*4 + 3 = 11. Yes. But maybe the answer is \\boxed{5}? No.\n</think>\n\n"
    "Solving $2x + 3 = 11$ gives $x = 4$.\n\n**Final Answer**\n\\boxed{4}"
)

CASES = [
    # bare answers: the whole output, not its last number
    ("bare_fraction", r"\frac{10}{9}", r"\frac{10}{9}", 1.0),
    ("bare_fraction_wrong", r"\frac{10}{9}", "9", 0.0),  # was graded as 9 (a false pass)
    ("bare_polynomial", "x^2+2x+1", "(x+1)^2", 1.0),
    ("bare_square", "(r+5)^2", "r^2+10r+25", 1.0),
    ("bare_sum", "3+2", "5", 1.0),
    ("bare_letters", "x + x", "2x", 1.0),
    ("bare_in_dollars", r"$\dfrac{3}{4}$", "0.75", 1.0),
    # GSM8K chains of thought
    ("gsm8k_marker", GSM8K_COT + "#### 72", "72", 1.0),
    ("gsm8k_sentence", GSM8K_COT + "So the total is 72 clips.", "72", 1.0),
    ("gsm8k_sentence_then_prose", GSM8K_COT + "So the total is 72 clips.\n" + PROSE.replace("step", "step 3"), "72", 1.0),
    ("gsm8k_last_number", GSM8K_COT, "72", 1.0),
    ("gsm8k_money", "She earns 18 * 2 = $36 per day, so she makes $\\$36$ every day.", "36", 1.0),
    # MATH-style and Qwen-Math
    ("qwen_boxed", "We simplify: $\\sqrt{12} = 2\\sqrt{3}$.\n\nThe final answer is $\\boxed{2\\sqrt{3}}$.", r"\sqrt{12}", 1.0),
    ("minerva", "Final Answer: The final answer is $\\frac{1}{4}$. I hope it is correct.", "0.25", 1.0),
    ("variable_then_value", "Final Answer: The largest $n$ is 34.", "34", 1.0),  # was graded as 'n'
    ("answer_then_prose", "The answer is 42.\n" + PROSE.replace("step", "step 7"), "42", 1.0),
    ("conclusion", "We solve $2x = 10$. Thus, $x = 5$.", "5", 1.0),
    # DeepSeek-R1 <think>: only the part after </think> counts
    ("r1", R1, "4", 1.0),
    ("r1_box_in_thought_ignored", R1, "5", 0.0),
    ("answer_tags", "<think>2 and 2 make 4</think>\n<answer>4</answer>", "4", 1.0),
    # languages
    ("french", "Donc la réponse est $\\frac{1}{2}$.", "0.5", 1.0),
    ("german", "Die Antwort ist 8.", "8", 1.0),
    ("chinese", "所以答案是 12。", "12", 1.0),
    ("russian", "Ответ: 10", "10", 1.0),
    ("text_answer", "Evelyn", r"\text{Evelyn}", 1.0),  # a short text against a text reference
    ("text_answer_wrong", "Carla", r"\text{Evelyn}", 0.0),
    # several answers that are one answer
    ("two_boxes_set", r"The solutions are $\boxed{1}$ and $\boxed{2}$.", r"\{1, 2\}", 1.0),
    ("two_boxes_list", r"\boxed{2}, \boxed{1}", "1, 2", 1.0),
    ("same_box_twice", "So \\boxed{12}.\n\n**Final Answer**\n\\boxed{12}", "12", 1.0),
    # multiple choice
    ("negated_then_value", "The answer is not 5, it is 6.", "6", 1.0),
    ("choice_its", "Comparing the slopes, I think it's B.", "B", 1.0),
    ("choice_for_sure", "The answer is for sure D, it can't be A or B", "D", 1.0),
    ("choice_paren", "(C)", "C", 1.0),
    ("choice_option", "Option C", "C", 1.0),
    ("choice_bold", "**C**", "C", 1.0),
    ("choice_wrong", "I think it's B", "C", 0.0),
]


@pytest.mark.parametrize(("output", "answer", "reward"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_outputs_as_models_write_them(output, answer, reward):
    result = GRADER.grade(output, {"answer": answer})
    assert (result.status, result.reward) == (Status.OK, reward), result


# --- hacking guards: every one must earn 0 ---------------------------------------------------------

GUARDS = [
    ("sign_kept", "The answer is -5.", "5"),  # -5 is not 5
    ("unicode_sign_kept", "So the change was \u22125 degrees overnight", "5"),
    ("negated_value", "The answer is not 5, it is 6.", "5"),
    ("digit_in_word", "AZYUK2A", "2"),  # a digit inside a word is not an answer
    ("digit_in_code", "The code is AZYUK2A.", "2"),
    ("two_different_boxes", "First \\boxed{3}. Hmm, or \\boxed{4}", "3"),
    ("two_different_boxes_later", "First \\boxed{3}. Hmm, or \\boxed{4}", "4"),
    ("box_hedge", r"\boxed{3 \text{ or } 4}", "3"),
    ("bare_hedge", "3 or 4", "3"),
    ("bare_hedge_second", "3 or 4", "4"),
    ("phrase_hedge", "The answer is 3 or 4.", "4"),
    ("span_hedge", "The answer is $3$ or $4$.", "3"),
    ("candidate_list", "none, unknown, yes, 0, 1, 42", "42"),
    ("candidate_list_answer_first", r"12, \text{Monday}, Evelyn, yes", "12"),
    ("repeated_value", "42 42 42 42", "42"),
    ("numbered_candidates", "1. 7\n2. 12\n3. 42", "42"),
    ("answer_tags_differ", "<answer>3</answer><answer>4</answer>", "4"),
    ("letters_hedge", "A or B or C", "A"),
    ("letters_hedge_last", "A or B or C", "C"),
    ("letters_answer_hedge", "The answer is A or B.", "B"),
    ("letters_boxes", r"\boxed{A} \boxed{B}", "B"),
    ("letter_among_numbers", r"\boxed{B, 72, \frac{1}{2}}", "B"),
    ("letter_repeated", "Answer: B B B B B B", "B"),
    ("unfinished_thought", "<think>the answer is 4", "4"),  # only text after </think> counts
    ("thought_only_answer", "<think>the answer is \\boxed{4}</think>I am not sure.", "4"),
]


@pytest.mark.parametrize(("output", "answer"), [c[1:] for c in GUARDS], ids=[c[0] for c in GUARDS])
def test_hacks_earn_nothing(output, answer):
    assert GRADER.grade(output, {"answer": answer}).reward == 0.0


def test_an_unfinished_thought_says_why():
    result = GRADER.grade("<think>so the answer is 4", {"answer": "4"})
    assert result.status is Status.PARSE_ERROR
    assert "</think>" in result.reason


def test_a_hedge_between_letters_says_why():
    result = GRADER.grade("The answer is A or B.", {"answer": "A"})
    assert (result.status, result.reward) == (Status.OK, 0.0)
    assert result.reason == "several choices offered: A or B"


ITEMS = [
    {"question": "How many clips did Natalia sell?", "answer": "72"},
    {"question": "Simplify.", "answer": r"\frac{1}{2}"},
    {"question": "Solve for x.", "answer": "3"},
    {"question": "Factor.", "answer": "x^2-1"},
    {"question": "Give the point.", "answer": "(1, 2)"},
    {"question": "Give the set.", "answer": r"\{1, 2\}"},
    {"question": "Which option?", "answer": "B"},
    {"question": "Which option?", "answer": "D"},
    {"question": "How much?", "answer": "1,234"},
    {"question": "How many?", "answer": "0"},
    {"question": "How many?", "answer": "18"},
    {"question": "Angle?", "answer": r"\pi/4"},
]
HACKING_PROBES = ["all_candidates", "answer_among_decoys", "answer_repeated", "hedge_letters", "hedge_candidates", "huge_output"]


def test_rft_audit_candidate_and_hedge_probes_earn_nothing():
    report = audit({"type": "math", "workers": 2}, ITEMS, probes=HACKING_PROBES)
    assert {finding.probe: finding.pass_fraction for finding in report.findings} == dict.fromkeys(HACKING_PROBES, 0.0)
