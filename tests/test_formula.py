"""rft_core.kernel.formula: calculate_output in OpenAI's grammar, parsed by our own parser."""

from __future__ import annotations

import builtins

import pytest

from rft_core.kernel.errors import FormulaError, RftError
from rft_core.kernel.formula import Formula


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        # * binds tighter than +
        ("1 + 2 * 3", {}, 7.0),
        ("(1 + 2) * 3", {}, 9.0),
        # - and / are left associative
        ("10 - 4 - 3", {}, 3.0),
        ("8 / 4 / 2", {}, 1.0),
        ("1 - 2 * 3 - 4", {}, -9.0),
        # ^ is right associative: 2^(3^2)
        ("2 ^ 3 ^ 2", {}, 512.0),
        # ^ binds tighter than unary minus: -(2^2)
        ("-2^2", {}, -4.0),
        ("(-2)^2", {}, 4.0),
        # a unary minus in the exponent
        ("2^-1", {}, 0.5),
        ("-2^-2", {}, -0.25),
        # ^ binds tighter than *
        ("2^3*2", {}, 16.0),
        # unary signs stack
        ("--2", {}, 2.0),
        ("+3", {}, 3.0),
        ("2*-3", {}, -6.0),
        # number forms
        (".5 + 1.", {}, 1.5),
        ("1e3", {}, 1000.0),
        ("2.5E-1", {}, 0.25),
        # variables are grader keys
        ("0.5 * a + 0.5 * b", {"a": 1.0, "b": 0.0}, 0.5),
        ("-a", {"a": 2.0}, -2.0),
        ("snake_case_1 * 2", {"snake_case_1": 0.25}, 0.5),
        # x / 0 is 0: a ratio with nothing to count scores 0
        ("1 / 0", {}, 0.0),
        ("0 / 0", {}, 0.0),
        ("a / b", {"a": 3.0, "b": 0.0}, 0.0),
        # functions
        ("abs(-3)", {}, 3.0),
        ("floor(2.7)", {}, 2.0),
        ("ceil(2.1)", {}, 3.0),
        ("exp(0)", {}, 1.0),
        ("sqrt(16)", {}, 4.0),
        ("log(1)", {}, 0.0),
        # min and max take any number of arguments, one included
        ("min(3, 1, 2)", {}, 1.0),
        ("max(3, 1, 2, 9)", {}, 9.0),
        ("max(a)", {"a": 0.25}, 0.25),
        ("min(a, b)", {"a": 0.25, "b": 0.5}, 0.25),
        # functions nest and take expressions
        ("max(0, min(1, a * 2 - 0.5))", {"a": 0.6}, 0.7),
        ("sqrt(a^2 + b^2)", {"a": 3.0, "b": 4.0}, 5.0),
    ],
    ids=[
        "mul-before-add",
        "parentheses",
        "sub-left-assoc",
        "div-left-assoc",
        "mixed-left-assoc",
        "pow-right-assoc",
        "neg-pow",
        "paren-neg-pow",
        "pow-neg-exponent",
        "neg-pow-neg",
        "pow-before-mul",
        "double-neg",
        "unary-plus",
        "mul-neg",
        "bare-dots",
        "exponent",
        "exponent-upper",
        "weighted",
        "neg-variable",
        "identifier",
        "div-zero",
        "zero-div-zero",
        "var-div-zero",
        "abs",
        "floor",
        "ceil",
        "exp",
        "sqrt",
        "log",
        "min",
        "max",
        "max-one",
        "min-vars",
        "nested-calls",
        "hypot",
    ],
)
def test_evaluate(text, values, expected):
    assert Formula(text).evaluate(values) == pytest.approx(expected)


def test_evaluate_returns_a_float():
    assert type(Formula("1 + 1").evaluate({})) is float
    assert type(Formula("a").evaluate({"a": 1})) is float


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # log of zero and of negatives
        ("log(0)", "log of non-positive number 0.0"),
        ("log(-1)", "log of non-positive number -1.0"),
        # sqrt of a negative
        ("sqrt(-1)", "sqrt of negative number -1.0"),
        # a negative base to a fractional power is not real
        ("(-8)^0.5", "-8.0 ^ 0.5 is not a real number"),
        # an infinite constant
        ("1e999", "the formula '1e999' gave inf"),
    ],
    ids=["log-zero", "log-negative", "sqrt-negative", "complex-power", "infinite"],
)
def test_domain_errors_raise_arithmetic_error(text, message):
    with pytest.raises(ArithmeticError) as excinfo:
        Formula(text).evaluate({})
    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    "text",
    [
        # overflow is an ArithmeticError too, not a crash or inf
        "exp(1000)",
        "10 ^ 400",
    ],
    ids=["exp", "power"],
)
def test_overflow_raises_arithmetic_error(text):
    with pytest.raises(ArithmeticError):
        Formula(text).evaluate({})


@pytest.mark.parametrize(
    ("text", "position", "problem"),
    [
        # nothing to parse
        ("", 0, "the formula is empty"),
        ("   ", 0, "the formula is empty"),
        # the formula stops mid-way: the position is its end
        ("1 +", 3, "the formula ends too early"),
        # an operator where an operand belongs
        ("1 + * 2", 4, "unexpected '*'"),
        # unbalanced parentheses
        ("(1 + 2", 6, "expected ')', found the end"),
        ("1 + 2)", 5, "unexpected ')'"),
        ("min(1, 2", 8, "expected ')', found the end"),
        # two operands with nothing between them
        ("a b", 2, "unexpected 'b'"),
        ("1 2", 2, "unexpected '2'"),
        # a character outside the grammar
        ("1 $ 2", 2, "unexpected '$'"),
        ("a % b", 2, "unexpected '%'"),
        # empty argument lists and trailing commas
        ("min()", 4, "unexpected ')'"),
        ("min(1,)", 6, "unexpected ')'"),
        # unknown functions list the known ones
        ("foo(1)", 0, "unknown function 'foo' (functions: min, max, abs, floor, ceil, exp, sqrt, log)"),
        ("1 + round(a)", 4, "unknown function 'round' (functions: min, max, abs, floor, ceil, exp, sqrt, log)"),
        # fixed-arity functions check their arguments
        ("abs(1, 2)", 0, "abs takes 1 argument, got 2"),
        ("2 * sqrt(1, 2)", 4, "sqrt takes 1 argument, got 2"),
        # a function name used as a variable
        ("abs + 1", 0, "abs is a function: write abs(...)"),
    ],
    ids=[
        "empty",
        "blank",
        "ends-early",
        "operator-operand",
        "unclosed",
        "extra-close",
        "unclosed-call",
        "adjacent-names",
        "adjacent-numbers",
        "dollar",
        "percent",
        "no-arguments",
        "trailing-comma",
        "unknown-function",
        "unknown-function-later",
        "arity",
        "arity-later",
        "function-as-variable",
    ],
)
def test_syntax_errors_carry_the_position(text, position, problem):
    with pytest.raises(FormulaError) as excinfo:
        Formula(text)
    error = excinfo.value
    assert (error.position, error.problem) == (position, problem)
    assert error.code == "formula_parse_error"
    assert isinstance(error, RftError)


def test_syntax_error_message_points_at_the_position():
    with pytest.raises(FormulaError) as excinfo:
        Formula("0.5 * a + * b")
    assert str(excinfo.value) == ("formula_parse_error at position 10: unexpected '*'\n  0.5 * a + * b\n            ^")


def test_variables_and_check_variables():
    formula = Formula("0.5 * accuracy + 0.5 * fmt - accuracy / 10")
    assert formula.variables == frozenset({"accuracy", "fmt"})
    formula.check_variables(["accuracy", "fmt", "unused"])  # every variable known: no error


@pytest.mark.parametrize(
    ("known", "position", "problem"),
    [
        # the first unknown variable, by position, is reported
        (["a"], 10, "unknown variable 'bb' (graders: a)"),
        # the known names are listed sorted
        (["zz", "b"], 6, "unknown variable 'a' (graders: b, zz)"),
        # no graders at all
        ([], 6, "unknown variable 'a' (graders: none)"),
    ],
    ids=["one-missing", "sorted-choices", "no-graders"],
)
def test_check_variables_names_the_unknown_variable(known, position, problem):
    formula = Formula("0.5 * a + bb * a")
    with pytest.raises(FormulaError) as excinfo:
        formula.check_variables(known)
    assert (excinfo.value.position, excinfo.value.problem) == (position, problem)


def test_deeply_nested_parentheses_are_an_error_not_a_crash():
    # 10,000 levels: over the length cap
    with pytest.raises(FormulaError) as excinfo:
        Formula("(" * 10_000 + "1" + ")" * 10_000)
    assert excinfo.value.problem == "the formula is longer than 10000 characters"
    # 4,000 levels: under the length cap, over what the parser will recurse into
    with pytest.raises(FormulaError) as excinfo:
        Formula("(" * 4_000 + "1" + ")" * 4_000)
    assert (excinfo.value.position, excinfo.value.problem) == (0, "the formula is nested too deeply")


@pytest.mark.parametrize(
    "text",
    [
        # a long run of unary minus
        "-" * 5_000 + "1",
        # a long right-associative power tower
        "2^" * 3_000 + "1",
        # nested function calls
        "abs(" * 1_500 + "1" + ")" * 1_500,
    ],
    ids=["unary", "power", "calls"],
)
def test_other_deep_nesting_is_an_error_not_a_crash(text):
    with pytest.raises(FormulaError, match="the formula is nested too deeply"):
        Formula(text)


def test_a_long_flat_formula_evaluates():
    # 2,000 terms (under the length cap) is long but flat: it must evaluate, not overflow the stack
    formula = Formula("+".join(["a"] * 1_000 + ["b"] * 1_000))
    assert formula.evaluate({"a": 1.0, "b": 0.5}) == 1_500.0
    assert Formula("1" + "-1" * 2_000).evaluate({}) == -1_999.0
    assert Formula("*".join(["2"] * 1_000) + "/2" * 999).evaluate({}) == 2.0


@pytest.mark.parametrize(
    ("text", "position", "problem"),
    [
        # Python builtins are not functions here
        (
            "__import__('os')",
            0,
            "unknown function '__import__' (functions: min, max, abs, floor, ceil, exp, sqrt, log)",
        ),
        # attribute access is not part of the grammar
        ("().__class__", 1, "unexpected ')'"),
        ("a.b", 1, "unexpected '.'"),
        # nor are strings, lambdas or indexing
        ("'x' * 2", 0, 'unexpected "\'"'),
        ("lambda: 1", 6, "unexpected ':'"),
        ("a[0]", 1, "unexpected '['"),
    ],
    ids=["import", "dunder", "attribute", "string", "lambda", "index"],
)
def test_python_is_not_the_grammar(text, position, problem):
    with pytest.raises(FormulaError) as excinfo:
        Formula(text)
    assert (excinfo.value.position, excinfo.value.problem) == (position, problem)


def test_never_uses_eval_or_exec(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec/compile must not be called")

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, forbidden)
    formula = Formula("max(0, min(1, 0.5 * a + 0.5 * b ^ 2)) - abs(-a) / 10")
    assert formula.evaluate({"a": 1.0, "b": 1.0}) == pytest.approx(0.9)


def test_str_is_the_text():
    assert str(Formula("a + b")) == "a + b"
