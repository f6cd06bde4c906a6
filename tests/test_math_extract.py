"""graders.math.extract_answer: which text of a model's output is its final answer.

One table per source form, each row a real-looking output (GSM8K chain of thought, MATH
solutions, DeepSeek-R1 ``<think>``, Qwen-Math ``\\boxed``, chatty answers) with the answer and
the method expected. Choice letters are in tests/test_math_choice.py.
"""

from __future__ import annotations

import threading

import pytest

from graders.math import EXTRACTORS, MathGrader, extract_answer

FILLER = "We can double-check this by going back over each step of the reasoning above. " * 60  # ~4,800 chars


def _table(cases):
    return pytest.mark.parametrize(("text", "expected"), [c[1:] for c in cases], ids=[c[0] for c in cases])


# --- a bare answer: the whole output is the answer, never its last number -----------------------

WHOLE = [
    ("frac", r"\frac{10}{9}", r"\frac{10}{9}"),  # was cut down to 9
    ("polynomial", "x^2+2x+1", "x^2+2x+1"),  # was cut down to 1
    ("power_of_sum", "(r+5)^2", "(r+5)^2"),  # was cut down to 2
    ("sum", "3+2", "3+2"),  # was cut down to 2
    ("letters_only", "x + x", "x + x"),  # no number at all: was "no answer"
    ("negative_radical", r"-\frac{\sqrt{3}}{2}", r"-\frac{\sqrt{3}}{2}"),
    ("product_of_letters", "2xy", "2xy"),  # two letters are a product of variables, not prose
    ("set", r"\{1, 2\}", r"\{1, 2\}"),
    ("interval", "[0, 1)", "[0, 1)"),
    ("equation", "x = 5", "x = 5"),  # the parser reduces 'x = 5' to 5
    ("chain", r"x\approx 11", r"x\approx 11"),  # a relation chain is kept whole for the parser
    ("pi_over_four", r"\pi/4", r"\pi/4"),
    ("trig", r"\sin x + \cos x", r"\sin x + \cos x"),
    ("hedge_kept_whole", "3 or 4", "3 or 4"),  # two answers: graded as both, so neither passes alone
    ("list", "1, 2", "1, 2"),
    ("unit_in_text", r"5\text{ cm}", r"5\text{ cm}"),
    ("trailing_period", "42.", "42."),  # cleaning drops the period later
    ("newline_around", "\n  17 \n", "17"),
    ("dollar_wrapped", r"$\frac{1}{2}$", r"\frac{1}{2}"),
    ("paren_wrapped", r"\(\sqrt{2}\)", r"\sqrt{2}"),
    ("spans_joined_by_and", "$1$ and $2$", "1 and 2"),
    ("matrix", r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}"),
    ("member_of", r"x \in [-2, 7]", r"x \in [-2, 7]"),
    ("thousands", "1,000,000", "1,000,000"),
    ("unicode_math", "√2 × π", "√2 × π"),
    ("greek", r"\theta = 30^\circ", r"\theta = 30^\circ"),
]


@_table(WHOLE)
def test_a_bare_answer_is_the_whole_output(text, expected):
    assert extract_answer(text) == (expected, "whole")


@pytest.mark.parametrize(
    "text",
    ["It is 5", "x is 5", "five", "AZYUK2A", "The cat sat.", "Is it 3?", "答案 5", "#### 5", "5 apples"],
)
def test_prose_is_not_a_bare_answer(text):
    assert extract_answer(text, ["whole"]) is None


# --- \boxed: every box; several different boxes are one list ------------------------------------

BOXED = [
    ("qwen_math", "To find the sum we add: $2 + 3 = 5$.\n\nThe final answer is $\\boxed{5}$.", "5"),
    ("minerva", "Final Answer: The final answer is $\\boxed{\\frac{1}{4}}$. I hope it is correct.", r"\frac{1}{4}"),
    ("nested_braces", r"\boxed{\frac{1}{\sqrt{2}}}", r"\frac{1}{\sqrt{2}}"),
    ("fbox", r"so \fbox{7}", "7"),
    ("no_braces", r"\boxed 5", "5"),
    ("escaped_braces", r"\boxed{\{1, 2\}}", r"\{1, 2\}"),
    ("same_box_twice", "We get \\boxed{12}.\n\n**Final Answer**\n\\boxed{12}", "12"),  # one answer, written twice
    ("same_box_spacing", r"\boxed{x+1} ... \boxed{ x + 1 }", "x+1"),  # spacing does not make another answer
    ("two_boxes_are_a_list", r"\boxed{1}, \boxed{2}", "1, 2"),  # graded as {1, 2}
    ("different_boxes", "First \\boxed{3}.\nWait, recheck: \\boxed{4}", "3, 4"),  # two finals: never one of them
    ("box_in_box", r"\boxed{\boxed{6}}", "6"),
    ("unclosed_last", r"\boxed{1} and \boxed{2", "1"),  # an unclosed box is skipped
    ("text_choice", r"\(\boxed{\text{(B)}}\)", r"\text{(B)}"),
    ("equation", r"Thus $\boxed{x = 2}$", "x = 2"),
    ("boxed_beats_phrase", "The answer is 7.\n\\boxed{8}", "8"),
    ("after_long_reasoning", FILLER + "\\boxed{42}\n" + FILLER, "42"),
]


@_table(BOXED)
def test_boxed(text, expected):
    assert extract_answer(text) == (expected, "boxed")


# --- answer phrases, several languages ------------------------------------------------------------

PHRASES = [
    ("the_answer_is", "The answer is 42.", "42"),
    ("final_answer_colon", "Step 1: ...\nFinal answer: 3/4\n", "3/4"),
    ("answer_colon_markdown", "**Answer:** 17", "17"),
    ("answer_on_next_line", "Final Answer:\n\n$\\frac{3}{4}$", r"\frac{3}{4}"),
    ("display_on_next_lines", "The answer is:\n\\[\n\\frac{3}{4}\n\\]\nThat is all.", r"\frac{3}{4}"),
    ("variable_then_value", "Final Answer: The largest $n$ is 34.", "34"),  # not the variable n
    ("named_value", "The answer is: the number of apples is 42.", "42"),
    ("named_subscript", "The final answer: $a_{10}$ is 512.", "512"),
    ("equation_kept", "The answer is x + y = 5.", "x + y = 5"),  # an expression before '=' is not a name
    ("expression_span_kept", "The answer is $x + y$ = 5.", "x + y = 5"),
    ("which_is_value", "The answer is the number of ways, which is 12.", "12"),
    ("that_there_are", "The final answer is that there are 12 ways.", "12 ways"),
    ("span_equation", "So the answer is $x = 2$ I think", "x = 2"),
    ("words_then_span", "The answer is for sure $5$.", "5"),
    ("words_then_number", "The answer is definitely 12 apples.", "12 apples"),
    ("unit_words_kept_for_cleaning", "The final answer is 42 apples. Then more text.", "42 apples"),
    ("decimal_kept", "The answer is 3.5.", "3.5"),
    ("negative_kept", "The answer is -5.", "-5"),  # the minus sign is never read as a Markdown bullet
    ("negative_unicode", "The final answer is −3.", "−3"),
    ("negative_next_line", "Final answer:\n-7", "-7"),
    ("apposition_kept", "The answer is 5, which is prime.", "5, which is prime"),  # cleaning stops at 'which'
    ("qualified", "The answer to part (b) is 14.", "14"),
    ("final_beats_later_answer", "The final answer is 9.\nTo check the answer: 3 * 3 = 9, so 1 + 8 = 9.", "9"),
    ("last_answer_wins", "The answer is 3. Hmm, no. The answer is 4.", "4"),
    ("hedge_in_phrase", "The answer is $3$ or $4$.", "3 or 4"),
    ("several_spans", "The solutions are: Answer: $x=1$ and $x=2$.", "x=1 and x=2"),
    ("gsm8k_in_phrase", "Answer: #### 5", "5"),
    ("then_4000_chars", "The final answer is 42.\n" + FILLER.replace("step", "step 3"), "42"),
    ("upper_case", "ANSWER: 8", "8"),
    ("prm800k_heading", "So there are 12 ways.\n\n# Answer\n\n12", "12"),
    ("metamath", "She has 5 + 7 = 12 pens.\nThe answer is: 12", "12"),
    ("bold_value", "The final answer is **18**.", "18"),  # the opening ** is read as lead, the closing one dropped
    ("french", "Donc la réponse est 12.", "12"),
    ("french_colon", "Réponse : $\\frac{2}{3}$", r"\frac{2}{3}"),
    ("french_final", "Réponse finale : 7", "7"),
    ("spanish", "La respuesta es 15.", "15"),
    ("german", "Die Antwort ist 8.", "8"),
    ("german_colon", "Antwort: 8", "8"),
    ("italian", "La risposta è 6.", "6"),
    ("portuguese", "A resposta é 9.", "9"),
    ("russian", "Ответ: 10", "10"),
    ("chinese", "所以答案是 12。", "12"),
    ("chinese_colon", "答案：$\\sqrt{2}$", r"\sqrt{2}"),
    ("chinese_final", "最终答案：20", "20"),
    ("japanese", "答えは 3 です。", "3 です"),
    ("korean", "정답은 7", "7"),
    ("swahili_mgsm", "Jibu: 16", "16"),
    ("bengali_mgsm", "উত্তর: 16", "16"),
    ("thai_mgsm", "คำตอบ: 16", "16"),
    ("japanese_mgsm", "解答：16", "16"),  # cleaning keeps the number; the parser refuses the rest
    # conclusions: a sentence opened by Therefore / Thus / So that states a value
    ("therefore_value", "Tom has 3 + 4 = 7 apples. Therefore, the total is 14 apples.", "14 apples"),
    ("so_total", "Each box has 6 eggs and there are 7 boxes.\nSo the total is 42 eggs.", "42 eggs"),
    ("thus_span", "We solve $2x = 10$. Thus, $x = 5$.", "x = 5"),
    ("conclusion_then_prose", "So the total is 42 apples.\n" + FILLER.replace("step", "step 7"), "42 apples"),
]


@_table(PHRASES)
def test_phrases(text, expected):
    assert extract_answer(text) == (expected, "phrase")


# --- GSM8K ####, LaTeX spans, the last number of prose ---------------------------------------------

OTHERS = [
    ("gsm8k", "Natalia sold 48/2 = 24 clips in May.\n#### 72", ("72", "gsm8k")),
    ("gsm8k_last", "#### 5\nlater\n#### 6", ("6", "gsm8k")),
    ("last_span", "first $1$ and last $x^2$", ("x^2", "latex")),
    ("display", "we get \\[ \\frac{3}{4} \\]", (r"\frac{3}{4}", "latex")),
    ("paren_span", "so \\(y\\) it is", ("y", "latex")),
    ("double_dollar", "The area is\n$$\\pi r^2$$", (r"\pi r^2", "latex")),
    ("spans_joined", "The roots are $x = 1$ and $x = 2$.", ("x = 1 and x = 2", "latex")),
    ("spans_quad_text_and", r"Roots: $1$ \quad\text{and}\quad $2$", ("1 \\quad\\text{and}\\quad 2", "latex")),
    ("span_after_conclusion", "So we have $x = 3$. Then $y = 2x + 1 = 7$.", ("y = 2x + 1 = 7", "latex")),
    ("conclusion_relation", "Therefore $y \\geq 2$ is the solution set.", ("y \\geq 2", "phrase")),
    ("matrix_span", "The inverse is $ \\begin{pmatrix}2 & 0 \\\\ 0 & 1\\end{pmatrix} $.", (r"\begin{pmatrix}2 & 0 \\ 0 & 1\end{pmatrix}", "latex")),
    ("dollars_are_not_a_span", "Each pen costs $3 and each book $12 more.\nShe pays 45 in all", ("45", "number")),
    ("dollar_before_digit", "She makes 9 * $2 = $18 every day.\nSo, Janet makes **$18** every day.", ("18", "number")),
    ("dollar_after_space", "It is $12 / 4 = $3. Then times 7 is $21 in all", ("21", "number")),
    ("spaced_span", "The answer $ 9 $ fits", ("9", "latex")),  # spaces on both sides: still a span
    ("dollars_across_lines", "It costs $5 each.\nSo she paid $20", ("20", "number")),  # not the span '5 each.\nSo she paid'
    ("prose_span_skipped", "She pays $5 for each pen and $20 for the bag, and we get $x = 4$.", ("x = 4", "latex")),
    ("last_number", "3 cats and 4 dogs make 7", ("7", "number")),
    ("number_in_brackets", "The point is at (3, 4)", ("(3, 4)", "number")),  # a tuple, not its last coordinate
    ("currency_euro", "the price is not 10 but 1,000.99€", ("1,000.99", "number")),
    ("comma_decimal", "Total : 2,74 $ environ", ("2,74", "number")),  # the comma is read by the parser
    ("thousands", "It costs 1,234.5 dollars in all", ("1,234.5", "number")),
    ("fraction", "she ate 3/4 of it", ("3/4", "number")),
    ("negative", "the change is -12", ("-12", "number")),
    ("sentence_cot", "Janet has 16 eggs. She eats 3 and bakes with 4.\nShe sells 9 eggs for $2 each, making 18 dollars.", ("18", "number")),
    ("in_total_is_not_a_list", "In total, 42", ("42", "number")),
    ("digit_inside_word", "The code AZYUK2A opens it", ("The code AZYUK2A opens it", "text")),  # no number: 2 is in a word
    ("subscript", "we need x_2 here", ("we need x_2 here", "text")),  # no number: 2 is a subscript
    ("short_text", "Evelyn", ("Evelyn", "text")),  # compared as text with a text reference
    ("candidate_list", "none, unknown, yes, 0, 1, 42", ("none, unknown, yes, 0, 1, 42", "number")),  # the list, not 42
    ("numbered_hedge", "It could be 3, 4 or 5", ("3, 4 or 5", "number")),
    ("list_after_number", "12, \\text{Monday}, Evelyn, yes", ("12, \\text{Monday}, Evelyn, yes", "number")),
    ("apposition_after_number", "So she has 12, which is even.", ("12", "number")),
    ("numbered_list", "1. Monday\n2. Evelyn\n3. 12", ("1. Monday\n2. Evelyn\n3. 12", "number")),  # every candidate
    ("bracketed_list", "Monday or Evelyn or (-1, 3)", ("Monday or Evelyn or (-1, 3)", "number")),
    ("repeated_value", "Evelyn says (0, 3) (0, 3) (0, 3)", ("(0, 3) (0, 3) (0, 3)", "number")),
    ("long_prose", "no digits here, " * 5, None),  # over the length of a short text answer
    ("empty", "", None),
    ("blank", " \n ", None),
]


STEP_BOXES = [
    # boxes that end computations (= \boxed{..}) and a later "final answer" phrase: the phrase states the answer
    ("boxed_steps_then_final", "Tax: $0.2 \\cdot 50 = \\boxed{10}$. Tip: $= \\boxed{5}$. Final Answer: The final answer is $65$.", ("65", "phrase")),
    ("candidate_boxes_then_final", "\\boxed{3} \\boxed{4} Final answer: 3", ("3, 4", "boxed")),  # candidates, not steps
    ("step_box_then_answer_phrase", "so $x = \\boxed{3}$. The answer is 4", ("3", "boxed")),  # only a *final* answer phrase
    ("final_box_after_step_box", "$1+1 = \\boxed{2}$. Final answer: $\\boxed{2}$", ("2", "boxed")),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in STEP_BOXES], ids=[c[0] for c in STEP_BOXES])
def test_boxed_steps_before_a_final_answer(text, expected):
    assert extract_answer(text) == expected


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in OTHERS], ids=[c[0] for c in OTHERS])
def test_gsm8k_latex_and_number(text, expected):
    assert extract_answer(text) == expected


# --- <think> and <answer> ---------------------------------------------------------------------------

TAGS = [
    ("after_think", "<think>the answer is 3, no wait</think>The answer is 4.", ("4", "phrase")),
    ("think_box_ignored", "<think>\\boxed{3}</think>\n\n\\boxed{4}", ("4", "boxed")),
    ("r1_style", "<think>\nLet me compute 6*7.\n6*7 = 42.\n</think>\n\nThe product is $\\boxed{42}$.", ("42", "boxed")),
    ("think_closed_only", "Okay, 2+2 is 4.\n</think>\n4", ("4", "whole")),  # the template opened <think> in the prompt
    ("unclosed_think", "<think>so it is 3", None),  # stopped while reasoning: no answer
    ("answer_tag", "<think>...</think><answer>12</answer>", ("12", "whole")),
    ("answer_tag_sentence", "<answer>The answer is 12 apples.</answer>", ("12 apples", "phrase")),
    ("answer_tag_boxed", "Reasoning with 99.\n<answer>\\boxed{x^2}</answer>", ("x^2", "boxed")),
    ("answer_tag_beats_outside", "I guess 7.\n<answer>8</answer>\nBye 9", ("8", "whole")),
    ("answer_tags_differ", "<answer>3</answer><answer>4</answer>", ("3, 4", "whole")),  # two answers: the list
    ("answer_tags_agree", "<answer>3</answer> again <answer> 3 </answer>", ("3", "whole")),
    ("empty_answer_tag", "<answer> </answer> so 5", ("5", "number")),
    ("thinking_tag", "<thinking>maybe 1</thinking>Answer: 2", ("2", "phrase")),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in TAGS], ids=[c[0] for c in TAGS])
def test_think_and_answer_tags(text, expected):
    assert extract_answer(text) == expected


# --- order, references, hostile input ----------------------------------------------------------------


def test_order_is_the_methods_order():
    text = "#### 5\n\\boxed{6}"
    assert extract_answer(text) == ("6", "boxed")
    assert extract_answer(text, ["gsm8k", "boxed"]) == ("5", "gsm8k")
    assert EXTRACTORS == ("boxed", "phrase", "gsm8k", "whole", "latex", "number", "text")
    assert extract_answer("3+2", ["number"]) == ("2", "number")  # without 'whole' the old cut-down behaviour


def test_unknown_extractors_are_refused():
    with pytest.raises(ValueError, match=r"unknown extractors \['boxd'\]; the extractors are boxed, phrase, gsm8k"):
        extract_answer("5", ["boxd"])


def test_the_grader_grades_what_extract_answer_finds():
    text = "<think>It might be 3.</think>We get $x = 4$, so the answer is \\boxed{4}."
    assert extract_answer(text) == ("4", "boxed")
    result = MathGrader().grade(text, {"answer": "4"})
    assert (result.reward, result.metadata["extracted"], result.metadata["method"]) == (1.0, "4", "boxed")


@pytest.mark.parametrize(
    "text",
    [
        "\\boxed{" * 100_000,
        "$" * 200_000,
        "<answer>" * 100_000,
        "<think>" * 50_000 + "</think>" * 50_000,
        "The answer is " * 50_000,
        "Therefore, " * 50_000,
        "1, " * 100_000 + "2",
        "a" * 500_000 + "1",
        "\\[" * 100_000,
        "a1" * 300_000,
        "So the total is 1. " * 30_000,
    ],
    ids=[
        "boxes", "dollars", "answer_tags", "think_tags", "phrases", "conclusions", "long_list", "long_word", "displays",
        "digits_in_words", "conclusions_with_values",
    ],
)
def test_hostile_outputs_are_linear(text):
    # A watchdog, not a benchmark: a quadratic scan of these inputs runs for hours, a linear one
    # for seconds even on a loaded machine, so only a hang fails here.
    done = threading.Event()
    worker = threading.Thread(target=lambda: (extract_answer(text), done.set()), daemon=True)
    worker.start()
    worker.join(timeout=300)
    assert done.is_set()
