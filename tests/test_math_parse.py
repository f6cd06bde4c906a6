"""The math grader's parser: exact values, inequalities, refusals and caps, plus-minus, choice references
through MathGrader (the whole output is the answer)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from graders.math import MathGrader
from rft_core import Result, Status

WHOLE = MathGrader(extract=r"(?s).+")  # the whole output is the answer


def graded(text: str, reference: str, grader: MathGrader = WHOLE) -> Result:
    return grader.grade(text, {"answer": reference})


def fraction_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"\\frac{{{value.numerator}}}{{{value.denominator}}}"

CLEAN_CASES = [
    # math delimiters and trailing punctuation
    ("dollars", "$\\frac{1}{2}$.", "\\frac{1}{2}"),
    ("display", "\\[ x \\]", "x"),
    ("inline_parens", "\\(x+1\\)", "x+1"),
    # Markdown bold
    ("bold", "**73**", "73"),
    # units and words after a number
    ("words", "42 apples", "42"),
    ("prose_after_number", "5 because she had 3 left", "5"),
    ("product_kept", "2ab", "2ab"),
    ("text_only_kept", "\\text{Monday}", "Monday"),
    ("text_unit", "5\\text{ cm}", "5"),
    ("unit_squared", "12 cm^2", "12"),
    # currency and thousands separators
    ("currency", "\\$1,234.50", "1234.50"),
    ("braced_thousands", "2{,}220", "2220"),
    ("tuple_keeps_commas", "(1,000, 2)", "(1,000, 2)"),
    # spacing commands and \left \right
    ("left_right", "\\left( 1, 2 \\right)", "( 1, 2  )"),
    # degrees and percent
    ("degrees", "30^\\circ", "30 \\degree"),  # a marker: dropped by the parser, or pi/180 in a trig function
    ("percent", "50\\%", "50%"),
    # \dfrac12 and \sqrt2 shorthand
    ("frac_digits", "\\dfrac12", "\\frac{1}{2}"),
    ("sqrt_digit", "\\sqrt2", "\\sqrt{2}"),
    ("sqrt_digits", "2\\sqrt10", "2\\sqrt{10}"),  # the digits after \sqrt are its argument
    # "or" lists and membership
    ("or_list", "x=1 \\text{ or } x=2", "x=1, x=2"),
    ("serial_comma_and", "1, 2, and 3", "1, 2, 3"),
    ("or_between_tuples_unspaced", "(1,2)or(2,1)", "(1,2), (2,1)"),
    ("semicolon_separators", "(0;-2;6);(4;0;0)", "(0,-2,6),(4,0,0)"),
    ("quad_glued_to_name", "x_1=1,\\quadx_2=2", "x_1=1, x_2=2"),
    ("serial_comma_text_and", "7, -2, \\text{ and } -5", "7, -2, -5"),
    ("membership", "x \\in [1, 2]", "[1, 2]"),
    ("less_equal", "x \\leq 3", "x <= 3"),
    ("repeating_decimal", "0.1\\overline{6}", "\\frac{1}{6}"),
    # Unicode: minus sign, pi, full-width digits
    ("unicode", "\u22123\u03c0", "-3\\pi"),
    ("fullwidth", "\uff14\uff12", "42"),
    # MATH gold conventions: ",\!" and thin-space thousands, base subscripts, units in \text, moduli
    ("math_thousands", "11,\\! 111,\\! 100", "11111100"),
    ("thin_space_thousands", "71\\,938\\,473", "71938473"),
    ("spaced_thousands", "1 000 000", "1000000"),
    ("base_subscript", "4210_7", "4210"),
    ("base_subscript_text", "1011_{\\text{2}}", "1011"),
    ("subscript_of_symbol_kept", "a_{10}", "a_{10}"),
    ("text_unit_squared", "10\\text{ cm}^2", "10"),
    ("textbf_unit", "\\frac{1}{3} \\textbf{meters}", "\\frac{1}{3}"),
    ("text_and_is_a_list", "1\\text{ and }2", "1, 2"),
    ("modulus_dropped", "2 \\pmod{5}", "2"),
    ("repeating_unbraced", "0.\\overline3", "\\frac{1}{3}"),
    ("trailing_spacing_command", "5!\\,", "5!"),
    ("doubled_backslash_relation", "-2 \\\\le x", "-2 <= x"),
    ("array_is_a_matrix", "\\begin{array}{cc} 1 & 2 \\end{array}", "\\matrixbegin  1 & 2  \\matrixend"),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CLEAN_CASES], ids=[c[0] for c in CLEAN_CASES])
def test_clean(text, expected):
    """The answer as written equals its cleaned form (words, units, delimiters left in would not parse)."""
    result = graded(text, expected)
    assert (result.status, result.reward) == (Status.OK, 1.0), result


VALUE_CASES = [
    # integers, decimals, fractions
    ("integer", "42", Fraction(42)),
    ("decimal", "0.25", Fraction(1, 4)),
    ("leading_dot", ".5", Fraction(1, 2)),
    ("frac", "\\frac{3}{4}", Fraction(3, 4)),
    ("dfrac_tfrac", "\\dfrac{1}{2} + \\tfrac{1}{2}", Fraction(1)),
    ("plain_division", "3/4", Fraction(3, 4)),
    # mixed numbers, negative too
    ("mixed", "2\\frac{1}{2}", Fraction(5, 2)),
    ("mixed_negative", "-2\\frac{1}{2}", Fraction(-5, 2)),
    ("mixed_plain", "1 1/2", Fraction(3, 2)),
    ("mixed_plain_negative", "-2 3/4", Fraction(-11, 4)),
    ("mixed_plain_in_sum", "1 1/2 + 1", Fraction(5, 2)),
    # powers, both notations, and scientific notation
    ("caret", "2^{10}", Fraction(1024)),
    ("double_star", "2**10", Fraction(1024)),
    ("negative_exponent", "2^{-2}", Fraction(1, 4)),
    ("sci_latex", "1.5 \\times 10^{3}", Fraction(1500)),
    ("sci_e", "1.5e3", Fraction(1500)),
    ("sci_negative", "2.5E-2", Fraction(1, 40)),
    # operators
    ("cdot_div", "6 \\cdot 2 \\div 3", Fraction(4)),
    ("precedence", "1 + 2 * 3 ^ 2", Fraction(19)),
    ("unary_minus", "-(3 - 5)", Fraction(2)),
    ("implicit_product", "2(3+1)", Fraction(8)),
    # perfect square roots are rational
    ("sqrt_perfect", "\\sqrt{\\frac{9}{4}}", Fraction(3, 2)),
    ("sqrt_plain", "sqrt(16)", Fraction(4)),
    # groups
    ("braces_group", "{2+3}", Fraction(5)),
    ("boxed_in_answer", "\\boxed{7}", Fraction(7)),
    # integer functions are exact: factorials, binomials, |x|, \bmod
    ("factorial_exact", "5!", Fraction(120)),
    ("binomial", "\\binom{5}{2}", Fraction(10)),
    ("absolute_value", "|3-5|", Fraction(2)),
    ("bmod", "17 \\bmod 5", Fraction(2)),
    # ratios are quotients
    ("ratio", "7:32", Fraction(7, 32)),
    ("colon", "7 \\colon 32", Fraction(7, 32)),
    # a 2x2 or 3x3 vmatrix is its determinant
    ("determinant_2x2", "\\begin{vmatrix} 1 & 2 \\\\ 3 & 4 \\end{vmatrix}", Fraction(-2)),
    ("determinant_3x3", "\\begin{vmatrix} 2 & 0 & 1 \\\\ 1 & 3 & 2 \\\\ 1 & 1 & 2 \\end{vmatrix}", Fraction(6)),
    # a degree sign outside a trig function is dropped
    ("degrees_dropped", "30^\\circ", Fraction(30)),
]


@pytest.mark.parametrize(("text", "value"), [c[1:] for c in VALUE_CASES], ids=[c[0] for c in VALUE_CASES])
def test_exact_values(text, value):
    result = graded(text, fraction_text(value))
    assert (result.reward, result.metadata["decided"]) == (1.0, "exact"), result
    assert graded(text, fraction_text(value + 1)).reward == 0.0


# What each form reads as: (id, answer, a form it equals, a form it does not). Symbols, constants, functions,
# equations, collections, inequalities in one variable as intervals, x \neq 3 as a union, \approx chains,
# degrees in trig functions, limits, grouping braces, matrices.
FORMS = [
    ("symbol", "x", "x", "y"),
    ("subscript", "x_{12}", "x_12", "x_1"),
    ("greek", "\\theta", "2\\theta - \\theta", "\\phi"),
    ("pi", "\\pi", "3.14159265", "3.14"),
    ("plain_pi", "pi", "\\pi", "3"),
    ("e", "e", "2.718281828", "2.71"),
    ("infinity", "\\infty", "+\\infty", "-\\infty"),
    ("sqrt_n", "\\sqrt[3]{8}", "2", "\\sqrt{8}"),
    ("log_base", "\\log_2 8", "3", "\\log 8"),
    ("abs_bars", "|x|", "\\left| x \\right|", "x"),
    ("factorial", "5!", "120", "5"),
    ("percent", "50%", "0.5", "5"),
    ("equation", "x = 3", "3", "4"),
    ("chain_keeps_last", "x = 1 + 2 = 3", "3", "4"),
    ("tuple", "(1, 2)", "(1,2)", "(2, 1)"),
    ("set", "\\{1, 2\\}", "\\{2, 1\\}", "\\{1, 3\\}"),
    ("interval", "[1, 2)", "[1,2)", "[1, 2]"),
    ("bare_list", "1, 2", "2, 1", "1, 3"),
    ("less_than", "x < 3", "(-\\infty, 3)", "(-\\infty, 3]"),
    ("at_least", "x >= 3", "[3, \\infty)", "(3, \\infty)"),
    ("reversed", "3 > x", "(-\\infty, 3)", "(3, \\infty)"),
    ("between", "1 <= x < 2", "[1, 2)", "(1, 2)"),
    ("not_equal", "x \\neq 3", "(-\\infty, 3) \\cup (3, \\infty)", "(-\\infty, 3)"),
    ("plain_not_equal", "x != 3", "x \\ne 3", "x = 3"),
    ("approx_chain", "x = 1 + 2 = 3 \\approx 3.0", "3", "4"),
    ("approx_only", "x \\approx 11", "11", "12"),
    ("degrees_in_trig", "\\sin 30^\\circ", "\\frac{1}{2}", "\\sin 30"),
    ("limit", "\\lim_{x \\to 0} x", "0", "1"),
    ("brace_group_list", "{1, 3}", "1, 3", "\\{1, 3, 5\\}"),
    ("column_vector", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "(1, 2)", "(2, 1)"),
    ("matrix", "\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}", "((1, 2), (3, 4))", "((1, 3), (2, 4))"),
]


@pytest.mark.parametrize(("answer", "same", "different"), [c[1:] for c in FORMS], ids=[c[0] for c in FORMS])
def test_forms(answer, same, different):
    assert graded(answer, same).reward == 1.0
    result = graded(answer, different)
    assert (result.status, result.reward) == (Status.OK, 0.0)


LINEAR_INEQUALITY_CASES = [
    # (text, left closed, left end, right end, right closed): solved for the variable, the sign flips when needed
    ("negated", "-x > -1", False, None, Fraction(1), False),
    ("scaled", "2x + 1 <= 7", False, None, Fraction(3), True),
    ("negative_coefficient", "3 - 2x < 7", False, Fraction(-2), None, False),
    ("constant_left", "3 > 2x + 1", False, None, Fraction(1), False),
    ("divided", "\\frac{x}{-2} >= 1", False, None, Fraction(-2), True),
    ("double_negated", "-7 <= -x <= 2", True, Fraction(-2), Fraction(7), True),
]


@pytest.mark.parametrize(("text", "left_closed", "low", "high", "right_closed"), [c[1:] for c in LINEAR_INEQUALITY_CASES], ids=[c[0] for c in LINEAR_INEQUALITY_CASES])
def test_linear_inequalities(text, left_closed, low, high, right_closed):
    interval = (("[" if left_closed else "(") + ("-\\infty" if low is None else fraction_text(low)) + ", "
                + ("\\infty" if high is None else fraction_text(high)) + ("]" if right_closed else ")"))
    result = graded(text, interval)
    assert (result.reward, result.metadata["decided"]) == (1.0, "exact"), (interval, result)
    flipped = ("(" if left_closed else "[") + interval[1:-1] + (")" if right_closed else "]")
    if low is not None and high is not None or flipped[0] == "(" and flipped[-1] == ")":
        assert graded(text, flipped).reward == 0.0  # the ends' closedness matters


FAILURE_CASES = [
    # Python, not math
    ("python_call", "__import__('os')", "cannot parse", "'import' is a word, not math"),
    ("dunder", "().__class__", "cannot parse", "'class' is a word, not math"),
    # unsupported LaTeX
    ("other_environment", "\\begin{cases}1\\end{cases}", "cannot parse", "'cases' is a word, not math"),
    ("begin", "\\begin{a}", "cannot parse", "unsupported command \\begin"),
    ("matrix_unclosed", "\\matrixbegin 1 & 2", "cannot parse", "unclosed matrix"),
    ("matrix_ragged", "\\matrixbegin 1 & 2 \\\\ 3 \\matrixend", "cannot parse", "matrix rows have different lengths"),
    ("two_numbers", "1.2.3", "cannot parse", "unexpected '.3'"),
    ("mixed_improper_fraction", "1 3/2", "cannot parse", "unexpected '3'"),  # not a mixed number
    ("two_whole_numbers", "2 3", "cannot parse", "unexpected '3'"),
    # words are text, not products of one-letter symbols
    ("word", "Monday", "cannot parse", "'Monday' is a word, not math"),
    ("inequality_chain", "w < x < y < z", "cannot parse", "only one variable between at most two inequalities"),
    ("inequality_constants", "2 < 3", "cannot parse", "one variable, in a linear expression, on one side"),
    ("double_inequality_mixed", "1 < x > 3", "cannot parse", "a < x < b or a > x > b"),
    ("nonlinear_inequality", "x^2 < 4", "cannot parse", "in a linear expression"),
    ("two_variables", "x < y", "cannot parse", "compare one variable with values"),
    ("limit_without_subscript", "\\lim x", "cannot parse", "expected '_'"),
    ("determinant_4x4", "\\begin{vmatrix} 1 & 0 & 0 & 0 \\\\ 0 & 1 & 0 & 0 \\\\ 0 & 0 & 1 & 0 \\\\ 0 & 0 & 0 & 1 \\end{vmatrix}", "cannot parse", "2x2 and 3x3"),
    ("unclosed", "(1 + 2", "cannot parse", "unclosed '('"),
    ("empty", "\\text{}", "cannot parse", "empty answer"),
    # non-ASCII that NFKC does not map
    ("arabic_digits", "\u0664\u0662", "cannot parse", "U+0664"),
    # caps
    ("too_long", "1" * 3000, "too complex", "has 3,000 characters, over max_answer_chars=2,000"),
    ("too_deep", "(" * 80 + "1" + ")" * 80, "too complex", "max_depth=60"),
    ("nested_functions", "\\sin" * 300 + " x", "too complex", "max_depth=60"),
    ("nested_limits", "\\lim_{x \\to 0}" * 100 + " x", "too complex", "max_depth=60"),
    ("too_many_nodes", "+".join(["x"] * 500), "too complex", "max_nodes=400"),
    ("power_tower", "10^{10^{10^{10}}}", "too complex", "max_exponent=1000"),
    ("big_power", "(10^{20})^{999}", "too complex", "max_digits=10000"),
    ("sci_exponent", "1e5000", "too complex", "max_exponent=1000"),
    ("tiny_power", "(\\frac{1}{10^{999}})^{1000}", "too complex", "max_digits=10000"),
    ("irrational_power", "(10^{20}\\pi)^{999}", "too complex", "max_digits=10000"),
    ("factorial", "(10^{6})!", "too complex", "max_factorial=1000"),
    ("binomial", "\\binom{10^{9}}{3}", "too complex", "max_factorial=1000"),
    ("symbolic_exponent_factor", "x^{10^{9} y}", "too complex", "max_exponent=1000"),
]


@pytest.mark.parametrize(("text", "error", "message"), [c[1:] for c in FAILURE_CASES], ids=[c[0] for c in FAILURE_CASES])
def test_failures(text, error, message):
    result = graded(text, "1")
    assert (result.status, result.error_code) == (Status.PARSE_ERROR, "sample_parse_error")
    assert message in result.reason
    assert ("too complex" in result.reason or "characters" in result.reason) is (error == "too complex")


def test_caps_are_configurable():
    assert graded("2^{2000}", str(2**2000), MathGrader(extract=r"(?s).+", max_exponent=5000)).reward == 1.0
    result = graded("x^{20}", "1", MathGrader(extract=r"(?s).+", max_exponent=10))
    assert result.status is Status.PARSE_ERROR and "too complex: an exponent is over max_exponent=10" in result.reason


def test_numbers_too_big_for_floats_still_compare():
    assert graded("\\frac{\\pi}{2}", "1.5707963").reward == 1.0
    assert graded("10^{400}", "10^{400}").reward == 1.0
    assert graded("10^{400}", "10^{400} + 1").reward == 0.0


CHOICE_REFERENCES = [
    # how references are read: only the letter itself, in the forms datasets write it
    ("bare", "B", "B"),
    ("parenthesised", "(E)", "E"),
    ("text_macro", "\\text{(A)}", "A"),
    ("lower_bare", "b", None),  # a lower-case bare letter is a variable
    ("rejects_text", "B is right", None),
]


@pytest.mark.parametrize(("reference", "letter"), [c[1:] for c in CHOICE_REFERENCES], ids=[c[0] for c in CHOICE_REFERENCES])
def test_choice_references(reference, letter):
    result = MathGrader().grade("The answer is (B).", {"answer": reference})
    assert (result.metadata.get("method") == "choice") is (letter is not None)
    if letter is not None:
        assert result.reward == (1.0 if letter == "B" else 0.0)


PLUS_MINUS_CASES = [
    # a \pm at the top is the list of both values
    ("top", "1 \\pm 2", [Fraction(3), Fraction(-1)]),
    # a leading \pm
    ("leading", "\\pm 3", [Fraction(3), Fraction(-3)]),
    # inside a fraction: the quadratic formula
    ("in_fraction", "\\frac{-1 \\pm 3}{2}", [Fraction(1), Fraction(-2)]),
    # on the right of an equation
    ("equation", "x = \\pm 2", [Fraction(2), Fraction(-2)]),
    # inside a set: spread into its elements
    ("in_set", "\\{\\pm 1, 0\\}", [Fraction(1), Fraction(-1), Fraction(0)]),
    # \mp reads as the same pair of values
    ("mp", "2 \\mp 1", [Fraction(3), Fraction(1)]),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in PLUS_MINUS_CASES], ids=[c[0] for c in PLUS_MINUS_CASES])
def test_plus_minus(text, expected):
    both = ", ".join(map(fraction_text, expected))
    if text.startswith("\\{"):  # a set answer is compared with a set
        both = f"\\{{{both}\\}}"
    result = graded(text, both)
    assert (result.reward, result.metadata["decided"]) == (1.0, "exact"), result
    assert graded(text, fraction_text(expected[0])).reward == 0.0  # one of the values is not the answer


def test_plus_minus_limits():
    assert "only one" in graded("1 \\pm 2 \\pm 3", "1").reason
    result = graded("\\frac{1 \\pm 1}{2 \\pm 1} + (3 \\pm 1)(4 \\pm 1)", "1")
    assert "too complex" in result.reason and "three" in result.reason
