"""Tests for graders/math/_equiv.py: the quick in-process path and the sympy path."""

from __future__ import annotations

import pytest

from graders.math._equiv import Options, Undecided, compare, to_sympy
from graders.math._parse import parse

OPTIONS = Options()

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
]


@pytest.mark.parametrize(("answer", "reference", "equal"), [c[1:] for c in QUICK_CASES], ids=[c[0] for c in QUICK_CASES])
def test_quick_path(answer, reference, equal):
    assert compare(parse(answer), parse(reference), OPTIONS, quick=True) is equal


@pytest.mark.parametrize(("answer", "reference"), [("\\sqrt{12}", "2\\sqrt{3}"), ("(x+1)^2", "x^2+2x+1"), ("2x+2=4", "x+1=2")])
def test_quick_path_defers_what_needs_sympy(answer, reference):
    with pytest.raises(Undecided):
        compare(parse(answer), parse(reference), OPTIONS, quick=True)


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
def test_sympy_path(answer, reference, equal):
    assert compare(parse(answer), parse(reference), OPTIONS, quick=False) is equal


def test_symbolic_off_compares_numbers_only():
    assert compare(parse("(x-1)(x+1)"), parse("x^2-1"), Options(symbolic=False), quick=False) is False
    assert compare(parse("\\sqrt{4}"), parse("2"), Options(symbolic=False), quick=False) is True


def test_percent_off():
    assert compare(parse("50%"), parse("50"), Options(percent=False), quick=True) is False


def test_to_sympy_builds_objects_without_strings():
    import sympy

    built = to_sympy(parse("2x^2 + \\sqrt{2}"))
    x = sympy.Symbol("x")
    assert built == 2 * x**2 + sympy.sqrt(2)
