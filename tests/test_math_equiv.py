"""What the math grader counts as equal: the quick in-process path (metadata decided "exact") and the
sympy path in a worker (decided "sympy"). The whole output is the answer (extract: the whole text)."""

from __future__ import annotations

import pytest

from graders.math import MathGrader
from rft_core import Result, Status
from rft_core.kernel.runtime import Runtime


@pytest.fixture(scope="module")
def runtime():
    with Runtime() as runtime:  # one pool of sympy workers and one verdict cache for this module
        yield runtime


def graded(runtime, answer: str, reference: str, **options) -> Result:
    result = MathGrader(extract=r"(?s).+", **options).bind(runtime).grade(answer, {"answer": reference})
    assert result.status is Status.OK, result
    return result


def equal_(runtime, answer: str, reference: str, **options) -> bool:
    return graded(runtime, answer, reference, **options).reward == 1.0

QUICK_CASES = [
    # exact rationals, whatever the notation
    ("fraction_decimal", "0.5", "\\frac{1}{2}", True),
    ("integers_differ", "1000001", "1000000", False),
    ("decimal_within_tolerance", "0.3333333333", "0.33333333333", True),
    ("decimal_outside_tolerance", "0.333", "0.334", False),
    # percent forms
    ("percent_as_decimal", "50%", "0.5", True),
    ("percent_dropped", "50%", "50", True),
    # equations with a symbol on the left
    ("equation_vs_number", "x = 3", "3", True),
    ("both_equations", "y = 3", "x = 3", True),
    # collections
    ("set_unordered", "\\{3, 1\\}", "\\{1, 3\\}", True),
    ("set_sizes_differ", "\\{1\\}", "\\{1, 3\\}", False),
    ("set_repeated_element", "\\{1, 1, 3\\}", "\\{1, 3\\}", True),
    ("tuple_ordered", "(3, 1)", "(1, 3)", False),
    ("interval_vs_open_tuple", "(1, 3)", "(1, 3]", False),
    ("one_element_list", "\\{5\\}", "5", True),
    # identical structure needs no sympy even with symbols
    ("same_tree", "x^2 + 1", "x^2+1", True),
    # constants whose floats differ far beyond float error are unequal without sympy
    ("radicals_differ", "\\sqrt{3}", "\\sqrt{2}", False),
    ("decimal_far_from_pi", "3.14", "\\pi", False),
]


@pytest.mark.parametrize(("answer", "reference", "equal"), [c[1:] for c in QUICK_CASES], ids=[c[0] for c in QUICK_CASES])
def test_quick_path(runtime, answer, reference, equal):
    result = graded(runtime, answer, reference)
    assert (result.reward == 1.0, result.metadata["decided"]) == (equal, "exact")


@pytest.mark.parametrize(
    ("answer", "reference"),
    [
        ("\\sqrt{12}", "2\\sqrt{3}"),
        ("(x+1)^2", "x^2+2x+1"),
        ("2x+2=4", "x+1=2"),
        ("(10^{15}+\\sqrt{2})-10^{15}", "\\sqrt{2}"),  # a cancellation: floats cannot refuse it
        ("3.1415926", "\\pi"),  # within rel_tol: sympy decides
    ],
)
def test_quick_path_defers_what_needs_sympy(runtime, answer, reference):
    result = graded(runtime, answer, reference)
    assert result.metadata["decided"] in ("sympy", "cache")  # "cache": the same pair was decided before


SYMPY_CASES = [
    # constants: exact expressions to 45 digits, decimals within rel_tol
    ("radicals", "\\sqrt{12}", "2\\sqrt{3}", True),
    ("cube_root", "2^{1/3}", "\\sqrt[3]{2}", True),
    ("log_base", "\\log_2 8", "3", True),
    ("pi_decimal_close", "3.14159265", "\\pi", True),
    ("pi_decimal_far", "3.14", "\\pi", False),
    ("near_miss_exact", "\\sqrt{2}", "1.4142135623730951", True),  # a decimal side: rel_tol applies
    ("exact_never_tolerant", "\\frac{\\pi}{1}", "\\pi + 10^{-30}", False),
    ("division_by_zero", "\\frac{1}{0}", "1", False),
    # symbolic
    ("factored", "(x-1)(x+1)", "x^2-1", True),
    ("trig_identity", "\\sin^2 x + \\cos^2 x", "1", True),
    ("rational_function", "\\frac{2}{2x+2}", "\\frac{1}{x+1}", True),
    ("different", "x+1", "x+2", False),
    ("huge_but_different", "(x+1)^{300}", "(x+1)^{300}+1", False),
    # general equations: one side difference a constant multiple of the other
    ("equations_scaled", "2x+2=4", "x+1=2", True),
    ("equations_differ", "2x+2=4", "x+1=3", False),
]


@pytest.mark.parametrize(("answer", "reference", "equal"), [c[1:] for c in SYMPY_CASES], ids=[c[0] for c in SYMPY_CASES])
def test_sympy_path(runtime, answer, reference, equal):
    assert equal_(runtime, answer, reference) is equal


CONVENTION_CASES = [
    # expr = value chains: a left side that names or computes the value is dropped
    ("chain_constant_lhs", "10^3 = 1000", "1000", True),
    ("chain_wrong_value", "10^3 = 999", "1000", False),
    ("chain_log", "\\log_2 8 = 3", "3", True),
    ("function_definition", "f(x) = 2x+3", "2x+3", True),
    ("named_tuple", "(p,q)=(3,2)", "(3,2)", True),
    ("named_tuple_swapped", "(p,q)=(2,3)", "(3,2)", False),
    ("ratio_label", "V_1:V_2 = 11:21", "11:21", True),
    ("ratio_subscripted_label", "S_{MBCN}:S=7:32", "7:32", True),
    ("approx_exact_side", "x = 5+5+1 = 1/3 \\approx 11", "1/3", True),
    ("approx_approximation", "x = 5+5+1 = 1/3 \\approx 11", "11", True),
    ("approx_neither", "x = 5+5+1 = 1/3 \\approx 11", "12", False),
    ("approx_alone", "x \\approx 11", "11", True),
    ("approx_constant", "\\frac{2}{3} \\approx 0.67", "\\frac{2}{3}", True),
    ("approx_rounded_alone", "0.67", "\\frac{2}{3}", False),
    ("inverse_function_label", "f^{-1}(x) = \\frac{x-3}{2}", "\\frac{x-3}{2}", True),
    ("length_label", "|AB| = 1", "1", True),
    ("length_label_wrong", "|AB| = 2", "1", False),
    ("absolute_value_not_label", "|x - 1| = 2", "2", False),
    ("angle_label", "\\angle ABC = 30^\\circ", "30", True),
    ("angle_label_wrong", "m\\angle A = 31^\\circ", "30", False),
    ("named_coordinates_vs_pair", "x = 2, y = 3", "(2, 3)", True),
    ("named_coordinates_swapped", "x = 3, y = 2", "(2, 3)", False),
    # an equation reference stays an equation
    ("equation_reference_constant_lhs", "11a+c", "7 = 11a+c", False),
    # named values are matched by name
    ("named_values_any_order", "n = 2, k = 45", "k = 45, n = 2", True),
    ("named_values_swapped", "k = 2, n = 45", "k = 45, n = 2", False),
    # whole numbers are counted, never rounded
    ("whole_numbers_exact", "6.4 \\times 10^{6}", "6400001", False),
    ("scientific_equal", "6.4 \\times 10^{6}", "6400000", True),
    ("tiny_difference", "1 + 10^{-60}", "1", False),
    # inequalities either way round, \in, \neq
    ("inequality_either_way", "-x > -1", "x < 1", True),
    ("inequality_flipped_wrong", "-x < -1", "x < 1", False),
    ("double_inequality_vs_membership", "-2 \\le x \\le 7", "x \\in [-2, 7]", True),
    ("not_equal_as_union", "x \\neq 3", "(-\\infty, 3) \\cup (3, \\infty)", True),
    # sets of solutions, braces
    ("solution_pairs_any_order", "(1,2),(2,1)", "(2,1),(1,2)", True),
    ("solution_pairs_missing_one", "(1,2)", "(2,1),(1,2)", False),
    ("braced_list_vs_set", "{1,2}", "\\{2,1\\}", True),
    # MATH gold notation
    ("math_thousands", "11111100", "11,\\! 111,\\! 100", True),
    ("base_subscript", "4210", "4210_7", True),
    ("base_subscript_wrong_digit", "4211_7", "4210_7", False),
    ("units_dropped", "10\\text{ cm}^2", "10", True),
    ("textbf_choice_text", "\\textbf{(A)}", "\\text{(A)}", True),
    ("absolute_value", "|3-5|", "2", True),
    ("bmod", "17 \\bmod 5", "2", True),
    ("pmod", "17 \\equiv 2 \\pmod{5}", "2", True),
    ("determinant", "\\begin{vmatrix} 1 & 2 \\\\ 3 & 4 \\end{vmatrix}", "-2", True),
    ("array_vs_pmatrix", "\\left[\\begin{array}{cc} 1 & 2 \\\\ 3 & 4 \\end{array}\\right]", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", True),
    ("binomial", "\\dbinom{6}{2}", "15", True),
    # the real line and the empty set
    ("reals", "x \\in \\mathbb{R}", "(-\\infty, \\infty)", True),
    ("reals_not_half_line", "[0, \\infty)", "\\mathbb{R}", False),
    ("empty_set", "\\varnothing", "\\emptyset", True),
    ("empty_set_not_zero", "\\{0\\}", "\\emptyset", False),
    # set-builder notation over one variable is the set its condition describes
    ("set_builder", "\\{x \\mid x > 3\\}", "(3, \\infty)", True),
    ("set_builder_bracket", "\\{x \\mid x > 3\\}", "[3, \\infty)", False),
    ("smallmatrix", "\\left(\\begin{smallmatrix} 1 & 2 \\\\ 3 & 4 \\end{smallmatrix}\\right)", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", True),
    # a decimal of 4+ significant digits stands for an exact value it correctly rounds to its places
    ("rounded_radical", "1.414", "\\sqrt{2}", True),
    ("rounded_radical_reference", "\\sqrt{3}", "1.732", True),
    ("rounded_fraction", "2.6667", "\\frac{8}{3}", True),
    ("rounded_negative", "-0.6667", "-\\frac{2}{3}", True),
    ("rounded_pi", "3.1416", "\\pi", True),
    ("rounded_in_tuple", "(0.6, 2.6667]", "(\\frac{3}{5}, \\frac{8}{3}]", True),
    ("truncated_not_rounded", "2.6666", "\\frac{8}{3}", False),
    ("truncated_pi_multiple", "125.663", "40\\pi", False),
    ("rounded_too_few_digits", "0.333", "\\frac{1}{3}", False),
    ("rounded_pi_too_few_digits", "3.142", "\\pi", True),
    ("two_decimals_not_rounding", "1.414", "1.4142", False),
]


@pytest.mark.parametrize(("answer", "reference", "equal"), [c[1:] for c in CONVENTION_CASES], ids=[c[0] for c in CONVENTION_CASES])
def test_conventions(runtime, answer, reference, equal):
    """The quick path when it decides, else the sympy path."""
    assert equal_(runtime, answer, reference) is equal


EXACTNESS_CASES = [
    # exact values are equal only when sympy proves it: a numeric check may refuse, never accept
    ("power_tower_is_not_one", "2^{2^{-200}}", "1", False),
    ("power_tower_is_not_two", "2 \\cdot 2^{2^{-100}}", "2", False),
    ("denested_radical", "\\sqrt{3+2\\sqrt{2}}", "1+\\sqrt{2}", True),
    ("log_identity", "\\frac{\\ln 8}{\\ln 2}", "3", True),
    # degrees inside trig functions, limits
    ("sin_degrees", "\\sin 30^\\circ", "\\frac{1}{2}", True),
    ("tan_degrees", "\\tan 45^\\circ", "1", True),
    ("cofunction_degrees", "\\sin(90^\\circ - x)", "\\cos x", True),
    ("cofunction_degrees_wrong", "\\sin(90^\\circ + 2x)", "\\cos x", False),
    ("limit", "\\lim_{x \\to 0} \\frac{\\sin x}{x}", "1", True),
    # a trig function written without parentheses takes the factors after it
    ("double_angle", "\\cos^2 x - \\sin^2 x", "\\cos 2x", True),
    ("double_angle_product", "2\\sin x\\cos x", "\\sin 2x", True),
    ("double_angle_not_product", "\\cos 2x", "2\\cos x", False),
    ("limit_chain", "\\lim_{x \\to 0} \\frac{\\sin x}{x} = 1", "1", True),
    # semicolons separate like commas; "or" may join tuples without spaces
    ("semicolon_tuples", "(0;-2;6),(4;0;0)", "(4,0,0),(0,-2,6)", True),
    ("semicolon_list", "-12;-11;-10", "\\{-10, -11, -12\\}", True),
    ("semicolon_tuple_wrong", "(0;2;6)", "(0,-2,6)", False),
    ("unspaced_or_tuples", "(11,7)or(7,11)", "(7,11),(11,7)", True),
    # one comma that cannot separate thousands may be a decimal comma in an answer: either reading may match
    ("decimal_comma", "2,74", "2.74", True),
    # never in a reference: a gold pair must not accept the decimal its digits spell (no false pass)
    ("reference_two_decimals_is_a_decimal_comma", "1.22", "1,22", True),
    ("reference_two_decimals_also_the_pair", "1, 22", "1,22", True),
    ("reference_leading_zero_is_a_decimal_comma", "0.111", "0,111", True),
    ("reference_one_decimal_stays_a_pair", "12.5", "12,5", False),
    ("reference_three_digits_are_thousands", "1.225", "1,225", False),
    ("reference_pair_not_a_decimal_either", "3.4", "3,4", False),
    ("decimal_comma_leading_zero", "0,111", "0.111", True),
    ("decimal_comma_four_digits_before", "1000,99", "1000.99", True),
    ("decimal_comma_as_pair", "1,22", "\\{1, 22\\}", True),
    ("decimal_comma_wrong_value", "2,75", "2.74", False),
    ("decimal_comma_not_one_of_the_pair", "2,74", "74", False),
    ("thousands_not_decimal", "1,000", "1", False),
    # odd roots and odd-denominator powers are the real roots (x may be negative)
    ("power_two_thirds_vs_cube_root", "x^{2/3}", "\\sqrt[3]{x^2}", True),
    ("cube_root_squared", "\\frac{1}{3x^{2/3}}", "\\frac{1}{3\\sqrt[3]{x}^2}", True),
    ("cube_root_of_cube", "\\sqrt[3]{x^3}", "x", True),
    ("cube_root_negative_number", "\\sqrt[3]{-8}", "-2", True),
    ("power_of_negative_number", "(-8)^{2/3}", "4", True),
    ("cube_root_sign_matters", "x^{1/3}", "-\\sqrt[3]{x}", False),
    ("square_root_stays_principal", "\\sqrt{x^2}", "x", False),
    # an equation reference compares as an equation
    ("equation_rearranged", "2x - y + 3 = 0", "y = 2x + 3", True),
    ("equation_different", "2x - y - 3 = 0", "y = 2x + 3", False),
]


@pytest.mark.parametrize(("answer", "reference", "equal"), [c[1:] for c in EXACTNESS_CASES], ids=[c[0] for c in EXACTNESS_CASES])
def test_exactness_and_symbolic_conventions(runtime, answer, reference, equal):
    assert equal_(runtime, answer, reference) is equal


def test_symbolic_off_compares_numbers_only(runtime):
    assert equal_(runtime, "(x-1)(x+1)", "x^2-1", symbolic=False) is False
    assert equal_(runtime, "\\sqrt{4}", "2", symbolic=False) is True


def test_percent_off(runtime):
    result = graded(runtime, "50%", "50", percent=False)
    assert (result.reward, result.metadata["decided"]) == (0.0, "exact")
