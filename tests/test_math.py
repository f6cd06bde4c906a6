"""Tests for graders/math (the grader): extraction to reward, statuses, safety, threads, pools."""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import pickle
import threading

import pytest

from graders.math import MathGrader
from rft_core import Status, load_spec

GRADER = MathGrader(workers=2)
HEAVY = r"\boxed{(x+y+z+1)^{300}}"  # expanding this takes sympy far longer than a second
HEAVY_REFERENCE = "(x+y+z+2)^{300}"


def grade(output: str, answer, **fields):
    grader = MathGrader(workers=2, **fields) if fields else GRADER
    return grader.grade(output, {"answer": answer})


# --- equal / not equal, from model output to reward --------------------------------------------

CASES = [
    # GSM8K marker, thousands separator
    ("gsm8k", "She has 48 + 24 = 72 clips.\n#### 72", "72", 1.0),  # the last '#### N' line of a GSM8K solution
    ("gsm8k_thousands", "#### 1,234", "1234", 1.0),  # a thousands separator is not a tuple
    ("gsm8k_wrong", "#### 71", "72", 0.0),  # off by one: wrong, status still ok
    # boxed, nested braces, fractions and decimals compared exactly
    ("boxed_frac_vs_decimal", r"so $\boxed{\frac{1}{2}}$.", "0.5", 1.0),  # 1/2 and 0.5 are the same rational
    ("boxed_nested", r"\boxed{\frac{\sqrt{3}}{2}}", r"\frac{\sqrt3}{2}", 1.0),  # nested braces in \boxed; \sqrt3 shorthand in the reference
    ("fbox", r"\fbox{7}", "7", 1.0),  # \fbox is read like \boxed
    ("dfrac_digits", r"\boxed{\dfrac12}", "1/2", 1.0),  # \dfrac12 is \frac{1}{2}
    ("mixed_number", r"\boxed{2\frac{1}{2}}", "5/2", 1.0),  # 2\frac{1}{2} is 2 + 1/2, not 2 * 1/2
    ("leading_dot", r"\boxed{.5}", "1/2", 1.0),  # .5 without a leading zero
    ("scientific_latex", r"\boxed{1.5 \times 10^{3}}", "1500", 1.0),  # a \times 10^{n}
    ("scientific_e", "The answer is 1.5e3.", "1500", 1.0),  # 1.5e3 notation, found by the phrase extractor
    # phrases, Markdown, words, units, currency
    ("final_answer_phrase", "The final answer is 42 apples.", "42", 1.0),  # words after the number are a unit
    ("answer_colon", "Reasoning...\nAnswer: 17", "17", 1.0),  # 'Answer:' line
    ("markdown_bold", "The answer is **73**.", "73", 1.0),  # **73** in Markdown
    ("text_unit", r"$\boxed{5\text{ cm}}$", "5", 1.0),  # \text{ cm} unit dropped
    ("currency", r"The total is \$1,234.50.", "1234.5", 1.0),  # \$ and a thousands separator
    ("degrees", r"\boxed{30^\circ}", "30", 1.0),  # ^\circ dropped
    ("last_number", "First 3, then 4, so 12 in all", "12", 1.0),  # no marker at all: the last number
    ("latex_span", r"We get $x^2$ and finally $\frac{3}{4}$", "0.75", 1.0),  # the last $...$ span, not the first
    ("display_math", r"\[ \frac{3}{4} \]", "3/4", 1.0),  # \[...\] display math
    # equations, percent
    ("equation_answer", r"\boxed{x = 3}", "3", 1.0),  # x = 3 against 3
    ("equation_reference", r"\boxed{3}", "x=3", 1.0),  # 3 against x = 3
    ("percent_vs_decimal", r"\boxed{50\%}", "0.5", 1.0),  # 50% read as 0.5
    ("percent_vs_number", r"\boxed{50\%}", "50", 1.0),  # 50% with the sign dropped
    ("no_percent_no_scaling", r"\boxed{0.5}", "50", 0.0),  # no % sign: 0.5 is not 50
    # symbolic, in a worker
    ("symbolic_factored", r"\boxed{(x-1)(x+1)}", "x^2-1", 1.0),  # needs sympy: expanded vs factored
    ("symbolic_radical", r"\boxed{\sqrt{12}}", r"2\sqrt{3}", 1.0),  # sqrt(12) simplifies to 2 sqrt(3)
    ("symbolic_trig", r"\boxed{\sin^2 x + \cos^2 x}", "1", 1.0),  # a trigonometric identity
    ("plain_math", "Answer: 2*x**2 + sqrt(2)", r"2x^2+\sqrt{2}", 1.0),  # plain math (*, **, sqrt()) against LaTeX
    ("different_variables", r"\boxed{x+1}", "y+1", 0.0),  # x + 1 is not y + 1
    ("huge_power_plus_one", r"\boxed{(x+1)^{300}}", "(x+1)^{300}+1", 0.0),  # exact rational points see the +1 on a huge value
    ("equations_scaled", r"\boxed{2x + 2 = 4}", "x + 1 = 2", 1.0),  # one equation a multiple of the other
    # points of both signs: sqrt(x^2) is |x|, not x
    ("sqrt_square_is_not_x", r"\boxed{\sqrt{x^2}}", "x", 0.0),  # differs for x < 0
    ("sqrt_square_is_abs", r"\boxed{\sqrt{x^2}}", "|x|", 1.0),  # sqrt(x^2) is |x|
    ("cancelled_fraction", r"\boxed{\frac{x^2-1}{x-1}}", "x+1", 1.0),  # the common factor cancels
    # i is the imaginary unit
    ("euler_identity", r"\boxed{e^{i\pi}}", "-1", 1.0),  # e^{i pi} = -1
    ("complex_product", r"\boxed{(1+2i)(1-2i)}", "5", 1.0),  # (1+2i)(1-2i) = 5
    ("complex_root", r"\boxed{\sqrt{-4}}", "2i", 1.0),  # sqrt(-4) = 2i
    # functions of constants
    ("log_of_power", r"\boxed{\ln(e^2)}", "2", 1.0),  # ln(e^2) = 2
    ("trig_value", r"\boxed{\cos(\pi/3)}", "1/2", 1.0),  # cos(pi/3) = 1/2
    ("factorial_value", r"\boxed{5!}", "120", 1.0),  # 5! = 120
    ("binomial_value", r"\boxed{\binom{5}{2}}", "10", 1.0),  # C(5, 2) = 10
    ("float_sum", r"\boxed{0.1+0.2}", "0.3", 1.0),  # exact decimals: 0.1 + 0.2 is exactly 0.3
    # tolerance: decimals within rel_tol, exact numbers never
    ("decimal_close_to_pi", r"\boxed{6.283185}", r"2\pi", 1.0),  # a decimal within rel_tol of 2 pi
    ("decimal_far_from_pi", r"\boxed{3.14}", r"\pi", 0.0),  # 3.14 is outside rel_tol of pi
    ("integers_exact", r"\boxed{1000001}", "1000000", 0.0),  # integers never get a tolerance
    ("rounded_third", r"\boxed{0.333}", "1/3", 0.0),  # a rounded decimal is not 1/3
    # sets, tuples, intervals
    ("set_any_order", r"\boxed{\{2, 1\}}", r"\{1,2\}", 1.0),  # a set reference ignores order
    ("bare_list_any_order", r"\boxed{3, 1}", "1, 3", 1.0),  # so does a bare list of solutions
    ("tuple_ordered", r"\boxed{(2, 1)}", "(1,2)", 0.0),  # a tuple does not
    ("tuple_equal", r"\boxed{(1, \frac{1}{2})}", "(1, 0.5)", 1.0),  # tuple elements compare as numbers
    ("vector_vs_tuple", r"\boxed{\begin{pmatrix} 1 \\ -2 \end{pmatrix}}", "(1, -2)", 1.0),  # a column vector is a tuple
    ("matrix_entries", r"\boxed{\begin{pmatrix} 2 & 0 \\ 0 & 3 \end{pmatrix}}", r"\begin{pmatrix} 2 & 0 \\ 0 & 2 \end{pmatrix}", 0.0),  # one entry differs
    ("matrix_equal", r"\boxed{\begin{bmatrix} \frac12 & 1 \end{bmatrix}}", r"\begin{pmatrix} 0.5 & 1 \end{pmatrix}", 1.0),  # entries compare as numbers
    ("interval", r"\boxed{[1, 2)}", "[1,2)", 1.0),  # same half-open interval
    ("interval_brackets_differ", r"\boxed{(1, 2]}", "[1,2]", 0.0),  # (1, 2] is not [1, 2]
    ("union", r"\boxed{(5, \infty) \cup (-\infty, 0)}", r"(-\infty,0)\cup(5,\infty)", 1.0),  # a union of intervals ignores order
    ("inequality", r"\boxed{x < 3}", r"(-\infty, 3)", 1.0),  # an inequality is the interval it describes
    ("inequality_closed", r"\boxed{x \geq 3}", r"(3, \infty)", 0.0),  # >= is closed at 3: not the open interval
    ("double_inequality", r"\boxed{-1 < x \le 4}", r"(-1, 4]", 1.0),  # a < x <= b
    ("inequalities_or", r"\boxed{x < 0 \text{ or } x > 5}", r"(-\infty,0)\cup(5,\infty)", 1.0),  # 'or' of two is a union
    ("repeating_decimal", r"\boxed{0.1\overline{6}}", r"\frac{1}{6}", 1.0),  # \overline marks the repeating digits
    ("plus_minus", r"\boxed{x = \frac{-1 \pm \sqrt{5}}{2}}", r"\frac{-1+\sqrt5}{2}, \frac{-1-\sqrt5}{2}", 1.0),  # \pm is both roots
    ("plus_minus_one_root", r"\boxed{\pm 3}", "3", 0.0),  # both values against one: not equal
    # multiple choice
    ("choice_parenthesised", r"\boxed{(B)}", "B", 1.0),  # (B) against B
    ("choice_option", "I pick option B.", "B", 1.0),  # 'option B' in prose
    ("choice_wrong", "The answer is (C).", "B", 0.0),  # another letter: wrong
    ("choice_reference_parenthesised", "Answer: D", "(D)", 1.0),  # reference written (D)
    # text references
    ("text_reference", r"\boxed{\text{Monday}}", r"\text{Monday}", 1.0),  # a reference that is not math compares as text
    ("text_reference_wrong", r"\boxed{\text{Tuesday}}", r"\text{Monday}", 0.0),  # text against text: wrong, status ok
    # a product of letters is not a number with a unit
    ("product_not_unit", r"\boxed{2ab}", "2", 0.0),  # 2ab is a product, not 2 with a unit
    # prose after the answer in a phrase
    ("phrase_then_prose", "The answer is 5 because she had 3 left.", "5", 1.0),  # the answer ends where the prose starts
    # several references, GSM8K and MATH solutions as references
    ("reference_list", "#### 42", ["41", "42"], 1.0),  # any reference in a list may match
    ("reference_gsm8k_solution", "so 72", "48 + 24 = 72\n#### 72", 1.0),  # a whole GSM8K solution as the reference
    ("reference_math_solution", r"\boxed{\frac{1}{4}}", r"We find $\boxed{\frac14}$.", 1.0),  # a whole MATH solution (\boxed) as the reference
    # a reference that boxes several answers has all of them as its answer
    ("reference_two_boxes_both", r"\boxed{-3}, \boxed{4}", r"So $x = \boxed{4}$ or $x = \boxed{-3}$.", 1.0),
    ("reference_two_boxes_as_list", "x = -3 or x = 4", r"$\boxed{4}$ and $\boxed{-3}$", 1.0),
    ("reference_two_boxes_one_given", r"\boxed{4}", r"So $x = \boxed{4}$ or $x = \boxed{-3}$.", 0.0),
    ("reference_boxes_apart_last_counts", r"\boxed{2}", r"A first try gave $\boxed{1}$, which fails the check; redone, $\boxed{2}$.", 1.0),
    ("reference_boxes_apart_not_a_list", r"\boxed{1}, \boxed{2}", r"A first try gave $\boxed{1}$, which fails the check; redone, $\boxed{2}$.", 0.0),
    ("reference_same_box_twice", r"\boxed{7}", r"First $\boxed{7}$, checked again: $\boxed{7}$.", 1.0),
]


@pytest.mark.parametrize(("output", "answer", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_equivalence(output, answer, expected):
    result = grade(output, answer)
    assert result.status is Status.OK, result
    assert result.reward == expected, result


# --- statuses: could not grade is not "wrong" ---------------------------------------------------

STATUS_CASES = [
    # nothing that looks like an answer
    ("nothing_extractable", "I am not sure.", "3", Status.PARSE_ERROR),
    # a boxed answer our parser refuses (one variable between at most two inequalities is read)
    ("unparseable", r"\boxed{x < y < z < 3}", "3", Status.PARSE_ERROR),
    # over the exponent cap: refused before sympy
    ("power_tower", r"\boxed{10^{10^{10^{10}}}}", "1", Status.PARSE_ERROR),
    # over the factorial cap
    ("huge_factorial", "Answer: factorial(10**6)", "1", Status.PARSE_ERROR),
    # too deep
    ("deep_parentheses", r"\boxed{" + "(" * 100 + "1" + ")" * 100 + "}", "1", Status.PARSE_ERROR),
    # Unicode lookalike digits (Arabic-Indic) are not ASCII after NFKC
    ("lookalike_digits", r"\boxed{\u0664\u0662}", "42", Status.PARSE_ERROR),
]


@pytest.mark.parametrize(("output", "answer", "status"), [c[1:] for c in STATUS_CASES], ids=[c[0] for c in STATUS_CASES])
def test_statuses(output, answer, status):
    result = grade(output, answer)
    assert (result.status, result.reward) == (status, 0.0), result


def test_timeout_is_a_status_and_the_pool_recovers():
    grader = MathGrader(workers=2, timeout=1.0)
    result = grader.grade(HEAVY, {"answer": HEAVY_REFERENCE})
    assert result.status is Status.TIMEOUT
    assert result.reward == 0.0
    assert "timeout=1.0s" in result.reason
    assert grader.grade(r"\boxed{x^2-1}", {"answer": "(x-1)(x+1)"}).reward == 1.0


def test_partial_credit_only_for_wrong_numbers():
    assert grade("#### 41", "42", partial_credit=0.1).reward == 0.1  # a number, wrong
    assert grade("#### 42", "42", partial_credit=0.1).reward == 1.0  # right
    assert grade(r"\boxed{x+2}", "x+1", partial_credit=0.1).reward == 0.0  # not a number
    assert grade("no idea", "42", partial_credit=0.1).status is Status.PARSE_ERROR  # nothing extracted


def test_percent_strict():
    assert grade(r"\boxed{50\%}", "50", percent=False).reward == 0.0
    assert grade(r"\boxed{50\%}", "0.5", percent=False).reward == 1.0


def test_extract_regex_overrides_the_extractors():
    assert grade("ANS<<7>> and \\boxed{9}", "7", extract=r"ANS<<(.+?)>>").reward == 1.0
    assert grade("\\boxed{9}", "7", extract=r"ANS<<(.+?)>>").status is Status.PARSE_ERROR


def test_an_extract_regex_past_its_timeout_is_a_timeout_status():
    result = grade("a" * 50_000 + "b", "7", extract=r"(a+)+$", regex_timeout=0.05)
    assert (result.status, result.reward, result.error_code) == (Status.TIMEOUT, 0.0, "timeout_error")
    assert "ran over 0.05s" in result.reason


def test_reasons_quote_answers_and_patterns_as_written():
    missing = grade("\\boxed{9}", "7", extract=r"ANS:\s*(\d+)")
    assert missing.reason == r"extract pattern 'ANS:\s*(\d+)' found no answer in the input"  # one backslash, not repr's two
    unreadable = grade(r"\boxed{\frac{1}{2} \foo}", "7")
    assert unreadable.status is Status.PARSE_ERROR
    assert unreadable.reason.startswith(r"cannot parse the answer '\frac{1}{2} \foo'")


def test_extractors_order_is_configurable():
    text = "#### 5\nso \\boxed{6}"
    assert grade(text, "6").reward == 1.0  # boxed first by default
    assert grade(text, "5", extractors=["gsm8k", "boxed"]).reward == 1.0


def test_metadata_tells_how_a_pair_was_decided():
    result = grade(r"so \boxed{\frac{1}{2}}", "0.5")
    assert dict(result.metadata) == {"extracted": r"\frac{1}{2}", "method": "boxed", "decided": "exact"}


# --- safety ----------------------------------------------------------------------------------------

INJECTIONS = [
    "__import__('os').system('touch {file}')",
    "\\boxed{__import__('os').system('touch {file}')}",
    "Answer: __import__(\"os\").system(\"touch {file}\")",
    "\\boxed{().__class__.__bases__[0]}",
    "\\boxed{exec(\"open('{file}','w')\")}",
    "#### eval(compile('open(\"{file}\",\"w\")','x','exec'))",
    "$\\boxed{Symbol('x').__class__.__init__.__globals__}$",
]


@pytest.mark.parametrize("template", INJECTIONS, ids=[f"injection_{i}" for i in range(len(INJECTIONS))])
def test_model_text_is_never_evaluated(tmp_path, template):
    target = tmp_path / "FILE"
    result = GRADER.grade(template.replace("{file}", str(target)), {"answer": "-12345"})
    assert not target.exists()
    assert result.reward == 0.0
    assert result.status in (Status.OK, Status.PARSE_ERROR)


def _hostile_inputs() -> list[str]:
    deep = "(" * 10_000 + "1" + ")" * 10_000
    patterns = [
        "\\boxed{10^{10^{10^{10}}}}", "Answer: 10**10**10**10", "\\boxed{" + deep + "}", "#### " + "9" * 1_000_000,
        "Answer: factorial(10**6)", "\\boxed{(10^{6})!}", "\\boxed{\\begin{pmatrix}" + "1&" * 5000 + "\\end{pmatrix}}",
        "\\boxed{\uff14\uff12}", "\\boxed{\u0664\u0662}", "\\boxed{4\u200b2}", "\\boxed{x^{x^{x^{x^{x}}}}}",
        "\\boxed{2^{2^{2^{2^{2^{2}}}}}}", "\\boxed{1e999999}", "\\boxed{" + "x+" * 3000 + "x}",
        "\\boxed{" + "\\sqrt{" * 500 + "2" + "}" * 500 + "}", "\\boxed{\\frac{1}{0}}", "\\boxed{0^{-1}}",
        "\\boxed{\\binom{10^{9}}{5}}", "$" * 10_000, "\\boxed{" * 3000, "{" * 50_000, "\\boxed{9" + "!" * 50 + "}",
        "\\boxed{" + "\\sin(" * 300 + "x" + ")" * 300 + "}", "\\boxed{\\sin(" * 300,
    ]  # fmt: skip
    inputs = [f"{patterns[i % len(patterns)]} step {i}" if i % 3 else patterns[i % len(patterns)] for i in range(1000)]
    inputs[500] = HEAVY  # one that really reaches sympy and runs over
    return inputs


@pytest.mark.integration
def test_a_thousand_hostile_inputs_are_all_graded_or_timed_out():
    grader = MathGrader(workers=2, timeout=1.0)
    inputs = _hostile_inputs()
    results = grader.grade_batch(inputs, [{"answer": HEAVY_REFERENCE if i == 500 else "42"} for i in range(1000)])
    assert len(results) == 1000
    statuses = {result.status for result in results}
    assert statuses <= {Status.OK, Status.PARSE_ERROR, Status.TIMEOUT}, statuses
    assert results[500].status is Status.TIMEOUT
    # the pool is healthy afterwards
    assert grader.grade(r"\boxed{\sin^2 x + \cos^2 x}", {"answer": "1"}).reward == 1.0


# --- where it runs: threads, asyncio, event loops, process pools, forks ---------------------------

SYMBOLIC = (r"\boxed{(a+b)^2}", {"answer": "a^2 + 2ab + b^2"})


def test_from_threads():
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        rewards = list(pool.map(lambda i: GRADER.grade(rf"\boxed{{(a+{i})^2}}", {"answer": f"a^2+{2 * i}a+{i * i}"}).reward, range(8)))
    assert rewards == [1.0] * 8


def test_timeout_from_a_thread():
    outcome = {}
    grader = MathGrader(workers=1, timeout=1.0)
    thread = threading.Thread(target=lambda: outcome.update(r=grader.grade(HEAVY + " ", {"answer": HEAVY_REFERENCE})))
    thread.start()
    thread.join(60)
    assert outcome["r"].status is Status.TIMEOUT


def test_from_asyncio():
    async def main():
        return await asyncio.gather(*(GRADER.agrade(*SYMBOLIC) for _ in range(4)), GRADER.agrade("#### 3", {"answer": "3"}))

    assert [r.reward for r in asyncio.run(main())] == [1.0] * 5


def test_grade_inside_a_running_event_loop():
    async def main():
        return GRADER.grade(*SYMBOLIC), GRADER.grade_batch([SYMBOLIC[0]] * 3, [SYMBOLIC[1]] * 3)

    single, batch = asyncio.run(main())
    assert single.reward == 1.0 and [r.reward for r in batch] == [1.0] * 3


def _grade_in_child(index: int) -> float:
    grader = MathGrader(workers=1)
    return grader.grade(rf"\boxed{{(x+{index})(x-{index})}}", {"answer": f"x^2-{index * index}"}).reward


def test_inside_a_process_pool():
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as pool:
        assert list(pool.map(_grade_in_child, [1, 2])) == [1.0, 1.0]


def test_inside_daemonic_multiprocessing_pool_workers():
    with multiprocessing.get_context("spawn").Pool(1) as pool:  # daemonic: may not start multiprocessing children
        assert pool.map(_grade_in_child, [3]) == [1.0]


# --- batch, specs, pickling -------------------------------------------------------------------------


def test_grade_batch_matches_grade_one_by_one():
    outputs = [case[1] for case in CASES]
    items = [{"answer": case[2]} for case in CASES]
    batch = GRADER.grade_batch(outputs, items)
    assert [r.reward for r in batch] == [case[3] for case in CASES]
    assert [r.reward for r in batch] == [GRADER.grade(o, i).reward for o, i in zip(outputs, items)]


def test_batch_keeps_a_bad_row_on_its_own():
    results = GRADER.grade_batch(["#### 1", "#### 2", "#### 3"], [{"answer": "1"}, {}, {"answer": "3"}])
    assert [r.status for r in results] == [Status.OK, Status.ERROR, Status.OK]
    assert "no key 'answer'" in results[1].reason


def test_from_a_spec(registry):
    grader = load_spec({"type": "math", "reference": "{{ item.solution }}", "partial_credit": 0.1}, registry=registry)
    assert grader.grade("#### 5", {"solution": "#### 6"}).reward == 0.1


def test_spec_errors_name_the_field(registry):
    from rft_core import SpecError

    with pytest.raises(SpecError, match="extractors"):
        load_spec({"type": "math", "extractors": ["boxd"]}, registry=registry)
    with pytest.raises(SpecError, match="invalid regex"):
        load_spec({"type": "math", "extract": "("}, registry=registry)


def test_pickles():
    clone = pickle.loads(pickle.dumps(MathGrader(partial_credit=0.1, workers=2)))
    assert clone.config.partial_credit == 0.1
    assert clone.grade(*SYMBOLIC).reward == 1.0


def test_the_source_never_evaluates_strings():
    """No eval/exec/sympify/parse_expr/parse_latex call anywhere in graders/math (our parser builds sympy objects)."""
    import re
    from pathlib import Path

    import graders.math

    forbidden = re.compile(r"\b(?:eval|exec|sympify|parse_expr|parse_latex|lambdify)\s*\(|import\s+pickle|pickle\.loads")
    for path in Path(graders.math.__file__).parent.glob("*.py"):
        found = forbidden.findall(path.read_text())
        assert not found, f"{path.name} calls {found}"


@pytest.mark.parametrize(
    "answer",
    [None, "", "   ", []],
    ids=["null", "empty", "blank", "empty-list"],
)
def test_a_row_without_a_reference_is_not_applicable(answer):
    # multi-task datasets: rows that carry no math answer are skipped, never scored as wrong
    result = grade(r"\boxed{4}", answer)
    assert result.status is Status.NOT_APPLICABLE
    assert result.reason == "no reference answer for this row"
