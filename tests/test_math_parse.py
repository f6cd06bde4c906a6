"""Tests for graders/math/_parse.py: cleaning, tokenizing, parsing, caps, exact values."""

from __future__ import annotations

from fractions import Fraction

import pytest

from graders.math._parse import Caps, ParseFailure, TooComplex, approx, clean, exact, parse, parse_choice

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
    assert clean(text) == expected


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
    ("determinant_2x2", clean("\\begin{vmatrix} 1 & 2 \\\\ 3 & 4 \\end{vmatrix}"), Fraction(-2)),
    ("determinant_3x3", clean("\\begin{vmatrix} 2 & 0 & 1 \\\\ 1 & 3 & 2 \\\\ 1 & 1 & 2 \\end{vmatrix}"), Fraction(6)),
    # a degree sign outside a trig function is dropped
    ("degrees_dropped", clean("30^\\circ"), Fraction(30)),
]


@pytest.mark.parametrize(("text", "value"), [c[1:] for c in VALUE_CASES], ids=[c[0] for c in VALUE_CASES])
def test_exact_values(text, value):
    assert exact(parse(text)) == value


TREE_CASES = [
    # symbols, subscripts, constants
    ("symbol", "x", ("sym", "x")),
    ("subscript", "x_{12}", ("sym", "x_12")),
    ("greek", "\\theta", ("sym", "theta")),
    ("pi", "\\pi", ("const", "pi")),
    ("plain_pi", "pi", ("const", "pi")),
    ("e", "e", ("const", "e")),
    ("infinity", "\\infty", ("const", "inf")),
    # functions
    ("sqrt_n", "\\sqrt[3]{8}", ("func", "root", [("num", Fraction(8), False), ("num", Fraction(3), False)])),
    ("log_base", "\\log_2 8", ("func", "logb", [("num", Fraction(8), False), ("num", Fraction(2), False)])),
    ("abs_bars", "|x|", ("func", "abs", [("sym", "x")])),
    ("factorial", "5!", ("func", "factorial", [("num", Fraction(5), False)])),
    ("percent", "50%", ("pct", ("num", Fraction(50), False))),
    # equations and collections
    ("equation", "x = 3", ("eq", ("sym", "x"), ("num", Fraction(3), False))),
    ("chain_keeps_last", "x = 1 + 2 = 3", ("eq", ("sym", "x"), ("num", Fraction(3), False))),
    ("tuple", "(1, 2)", ("tuple", [("num", Fraction(1), False), ("num", Fraction(2), False)])),
    ("set", "\\{1, 2\\}", ("set", [("num", Fraction(1), False), ("num", Fraction(2), False)])),
    ("interval", "[1, 2)", ("interval", True, ("num", Fraction(1), False), ("num", Fraction(2), False), False)),
    ("bare_list", "1, 2", ("list", [("num", Fraction(1), False), ("num", Fraction(2), False)])),
    # inequalities in one variable are intervals
    ("less_than", "x < 3", ("interval", False, ("neg", ("const", "inf")), ("num", Fraction(3), False), False)),
    ("at_least", "x >= 3", ("interval", True, ("num", Fraction(3), False), ("const", "inf"), False)),
    ("reversed", "3 > x", ("interval", False, ("neg", ("const", "inf")), ("num", Fraction(3), False), False)),
    ("between", "1 <= x < 2", ("interval", True, ("num", Fraction(1), False), ("num", Fraction(2), False), False)),
    # x \neq 3 (also !=) is the line without 3
    ("not_equal", "x \\neq 3", ("union", [
        ("interval", False, ("neg", ("const", "inf")), ("num", Fraction(3), False), False),
        ("interval", False, ("num", Fraction(3), False), ("const", "inf"), False),
    ])),
    ("plain_not_equal", "x != 3", parse("x \\ne 3")),
    # a chain with \approx keeps the last exact side and the approximation
    ("approx_chain", "x = 1 + 2 = 3 \\approx 3.0", ("eq", ("sym", "x"), ("approx", [("num", Fraction(3), False), ("num", Fraction(3), True)]))),
    ("approx_only", "x \\approx 11", ("eq", ("sym", "x"), ("num", Fraction(11), False))),
    # degrees inside a trig function are pi/180
    ("degrees_in_trig", clean("\\sin 30^\\circ"), ("func", "sin", [("mul", [
        ("num", Fraction(30), False), ("div", ("const", "pi"), ("num", Fraction(180), False))])])),
    ("limit", "\\lim_{x \\to 0} x", ("func", "lim", [("sym", "x"), ("sym", "x"), ("num", Fraction(0), False)])),
    # grouping braces are invisible: {1, 3} is the list 1, 3; \{1, 3\} a set
    ("brace_group_list", "{1, 3}", ("list", [("num", Fraction(1), False), ("num", Fraction(3), False)])),
    # matrices (after clean): a column vector is a tuple, a matrix a tuple of rows
    ("column_vector", clean("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"), ("tuple", [("num", Fraction(1), False), ("num", Fraction(2), False)])),
    ("matrix", clean("\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}"), ("tuple", [
        ("tuple", [("num", Fraction(1), False), ("num", Fraction(2), False)]),
        ("tuple", [("num", Fraction(3), False), ("num", Fraction(4), False)]),
    ])),
]


@pytest.mark.parametrize(("text", "tree"), [c[1:] for c in TREE_CASES], ids=[c[0] for c in TREE_CASES])
def test_trees(text, tree):
    assert parse(text) == tree


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
    kind, closed_left, left, right, closed_right = parse(text)
    assert kind == "interval" and (closed_left, closed_right) == (left_closed, right_closed)
    assert (exact(left) if low is not None else left) == (low if low is not None else ("neg", ("const", "inf")))
    assert (exact(right) if high is not None else right) == (high if high is not None else ("const", "inf"))


FAILURE_CASES = [
    # Python, not math
    ("python_call", "__import__('os')", ParseFailure, "'import' is a word, not math"),
    ("dunder", "().__class__", ParseFailure, "'class' is a word, not math"),
    # unsupported LaTeX
    ("other_environment", "\\begin{cases}1\\end{cases}", ParseFailure, "'cases' is a word, not math"),
    ("begin", "\\begin{a}", ParseFailure, "unsupported command \\begin"),
    ("matrix_unclosed", "\\matrixbegin 1 & 2", ParseFailure, "unclosed matrix"),
    ("matrix_ragged", "\\matrixbegin 1 & 2 \\\\ 3 \\matrixend", ParseFailure, "matrix rows have different lengths"),
    ("two_numbers", "1.2.3", ParseFailure, "unexpected '.3'"),
    ("mixed_improper_fraction", "1 3/2", ParseFailure, "unexpected '3'"),  # not a mixed number
    ("two_whole_numbers", "2 3", ParseFailure, "unexpected '3'"),
    # words are text, not products of one-letter symbols
    ("word", "Monday", ParseFailure, "'Monday' is a word, not math"),
    ("inequality_chain", "w < x < y < z", ParseFailure, "only one variable between at most two inequalities"),
    ("inequality_constants", "2 < 3", ParseFailure, "one variable, in a linear expression, on one side"),
    ("double_inequality_mixed", "1 < x > 3", ParseFailure, "a < x < b or a > x > b"),
    ("nonlinear_inequality", "x^2 < 4", ParseFailure, "in a linear expression"),
    ("two_variables", "x < y", ParseFailure, "compare one variable with values"),
    ("limit_without_subscript", "\\lim x", ParseFailure, "expected '_'"),
    ("determinant_4x4", clean("\\begin{vmatrix} 1 & 0 & 0 & 0 \\\\ 0 & 1 & 0 & 0 \\\\ 0 & 0 & 1 & 0 \\\\ 0 & 0 & 0 & 1 \\end{vmatrix}"), ParseFailure, "2x2 and 3x3"),
    ("unclosed", "(1 + 2", ParseFailure, "unclosed '('"),
    ("empty", "", ParseFailure, "empty answer"),
    # non-ASCII that NFKC does not map
    ("arabic_digits", "\u0664\u0662", ParseFailure, "U+0664"),
    # caps
    ("too_long", "1" * 3000, TooComplex, "over max_chars=2,000"),
    ("too_deep", "(" * 80 + "1" + ")" * 80, TooComplex, "max_depth=60"),
    ("nested_functions", "\\sin" * 300 + " x", TooComplex, "max_depth=60"),
    ("nested_limits", "\\lim_{x \\to 0}" * 100 + " x", TooComplex, "max_depth=60"),
    ("too_many_nodes", "+".join(["x"] * 500), TooComplex, "max_nodes=400"),
    ("power_tower", "10^{10^{10^{10}}}", TooComplex, "max_exponent=1000"),
    ("big_power", "(10^{20})^{999}", TooComplex, "max_digits=10000"),
    ("sci_exponent", "1e5000", TooComplex, "max_exponent=1000"),
    ("tiny_power", "(\\frac{1}{10^{999}})^{1000}", TooComplex, "max_digits=10000"),
    ("irrational_power", "(10^{20}\\pi)^{999}", TooComplex, "max_digits=10000"),
    ("factorial", "(10^{6})!", TooComplex, "max_factorial=1000"),
    ("binomial", "\\binom{10^{9}}{3}", TooComplex, "max_factorial=1000"),
    ("symbolic_exponent_factor", "x^{10^{9} y}", TooComplex, "max_exponent=1000"),
]


@pytest.mark.parametrize(("text", "error", "message"), [c[1:] for c in FAILURE_CASES], ids=[c[0] for c in FAILURE_CASES])
def test_failures(text, error, message):
    with pytest.raises(error) as raised:
        parse(text)
    assert message in str(raised.value)


def test_caps_are_configurable():
    assert exact(parse("2^{2000}", Caps(max_exponent=5000))) == 2**2000
    with pytest.raises(TooComplex):
        parse("x^{20}", Caps(max_exponent=10))


def test_caps_compare_by_value():
    assert Caps() == Caps() and hash(Caps()) == hash(Caps())
    assert Caps(max_nodes=5) != Caps()


def test_approx_overflows_to_inf_and_undefined_to_nan():
    assert approx(parse("\\frac{\\pi}{2}")) == pytest.approx(1.5707963)
    assert approx(parse("10^{400}")) == float("inf")
    assert approx(parse("\\frac{1}{0}")) != approx(parse("\\frac{1}{0}"))  # nan


CHOICE_CASES = [
    # letters in the forms models write them
    ("bare", "B", False, "B"),
    ("parenthesised", "(B)", False, "B"),
    ("option", "option C", False, "C"),
    ("with_text", "D) 42", False, "D"),
    ("text_macro", "\\text{(A)}", False, "A"),
    # a lower-case bare letter is a variable
    ("lower_bare", "b", False, None),
    # strict: only the letter itself (how references are read)
    ("strict_rejects_text", "B is right", True, None),
    ("strict_parenthesised", "(E)", True, "E"),
]


@pytest.mark.parametrize(("text", "strict", "letter"), [c[1:] for c in CHOICE_CASES], ids=[c[0] for c in CHOICE_CASES])
def test_parse_choice(text, strict, letter):
    assert parse_choice(text, strict=strict) == letter


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
    tree = parse(text)
    items = tree[2][1] if tree[0] == "eq" else tree[1]
    assert [exact(item) for item in items] == expected


def test_plus_minus_limits():
    with pytest.raises(ParseFailure, match="only one"):
        parse("1 \\pm 2 \\pm 3")
    with pytest.raises(TooComplex, match="three"):
        parse("\\frac{1 \\pm 1}{2 \\pm 1} + (3 \\pm 1)(4 \\pm 1)")
