"""Whether two parsed answers are equal: structure first, then exact numbers, then sympy.

``compare(answer, reference, options, quick=True)`` decides what needs no sympy
(numbers, structure, collections of numbers) and raises ``Undecided`` for the rest;
``quick=False`` (in a worker process) builds sympy objects from the checked trees.

One module on purpose: one walk over the node kinds (``compare``) serves both paths, the quick
one in-process and the sympy one in the worker, a flag apart; the sympy conversion and the
numeric checks are that walk's last step for a pair of scalars.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from fractions import Fraction

from ._parse import approx, exact, has_decimal, is_constant

__all__ = ["Options", "Undecided", "compare", "to_sympy"]


class Undecided(Exception):
    """The quick path cannot tell; the pair needs sympy."""


class Options:
    """The comparison settings a grader's config gives."""

    __slots__ = ("rel_tol", "abs_tol", "percent", "symbolic", "numeric_points")

    def __init__(
        self,
        rel_tol: float = 1e-6,
        abs_tol: float = 1e-9,
        percent: bool = True,
        symbolic: bool = True,
        numeric_points: int = 6,
    ) -> None:
        self.rel_tol = rel_tol
        self.abs_tol = abs_tol
        self.percent = percent
        self.symbolic = symbolic
        self.numeric_points = numeric_points

    def key(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)


_COLLECTIONS = ("list", "tuple", "set", "interval", "union")


def compare(answer: tuple, reference: tuple, options: Options, quick: bool = True) -> bool:
    """True when the answer equals the reference; raises Undecided on the quick path when sympy is needed."""
    if answer == reference:
        return True
    answer_kind, reference_kind = answer[0], reference[0]
    if answer_kind == "approx":  # x = 1/3 \approx 0.33: the exact value or its approximation
        return _any(answer[1], reference, options, quick)
    if reference_kind == "approx":
        return _any(reference[1], answer, options, quick, swapped=True)
    # equations: "x = 3", "f(x) = 2x+3", "10^3 = 1000" against a value are their right side; two
    # equations whose left sides both name their value compare right sides, others as equations
    if answer_kind == "eq" and reference_kind == "eq":
        if answer[1] == reference[1] or (_names_value(*answer[1:]) and _names_value(*reference[1:])):
            return compare(answer[2], reference[2], options, quick)
        return _equations(answer, reference, options, quick)
    if answer_kind == "eq":
        return _names_value(*answer[1:]) and compare(answer[2], reference, options, quick)
    if reference_kind == "eq":
        return _names_value(*reference[1:]) and compare(answer, reference[2], options, quick)
    if reference_kind == "list" and _is_sequence(reference[1]):
        # "4, 10, -2": numbers out of order are a sequence (answers to parts), not a set of solutions
        return answer_kind in ("list", "tuple") and len(answer[1]) == len(reference[1]) and all(
            compare(a, r, options, quick) for a, r in zip(answer[1], reference[1])
        )
    if reference_kind in ("set", "list", "union"):
        items = _items(answer)
        return items is not None and _unordered(_grouped(items), _grouped(_items(reference)), options, quick)
    if reference_kind == "tuple":
        if answer_kind == "interval":
            return _interval(answer, reference, options, quick)
        if answer_kind not in ("tuple", "list") or len(answer[1]) != len(reference[1]):
            return False
        return all(compare(a, r, options, quick) for a, r in zip(answer[1], reference[1]))
    if reference_kind == "interval":
        return _interval(answer, reference, options, quick)
    if answer_kind in _COLLECTIONS:
        items = _items(answer)
        return items is not None and len(items) == 1 and compare(items[0], reference, options, quick)
    return _scalar(answer, reference, options, quick)


def _any_true(checks: Iterable[Callable[[], bool]]) -> bool:
    """True as soon as a check is; else Undecided when a check could not decide; else False."""
    undecided = False
    for check in checks:
        try:
            if check():
                return True
        except Undecided:
            undecided = True
    if undecided:
        raise Undecided
    return False


def _any(values: list, other: tuple, options: Options, quick: bool, swapped: bool = False) -> bool:
    return _any_true(
        (lambda value=value: compare(other, value, options, quick) if swapped else compare(value, other, options, quick))
        for value in values
    )


def _names_value(left: tuple, right: tuple) -> bool:
    """True when the left side of ``left = value`` only names or computes the value.

    A label: ``x``, ``f(x)``, ``(p, q)``, ``V_1:V_2``, ``P(A)``, ``|AB|`` (symbols under products,
    quotients and tuples); a limit; a constant computed into a constant: ``10^3 = 1000``,
    ``\\log_2 8 = 3``. ``2x + 1 = 5``, ``y - 2x = 3`` or ``7 = 11a + c`` is an equation instead.
    """
    if left[0] == "func" and left[1] == "lim":
        return True
    return _is_label(left) or (is_constant(left) and is_constant(right))


def _is_label(node: tuple) -> bool:
    kind = node[0]
    if kind == "sym":
        return True
    if kind in ("mul", "tuple", "list"):
        return all(_is_label(child) for child in node[1])
    if kind == "func" and node[1] == "abs":  # a length: |AB| = 1
        return _is_label(node[2][0])
    if kind == "pow":  # f^{-1}(x)
        return node[1][0] == "sym" and node[2] == ("neg", ("num", 1, False))
    return kind == "div" and _is_label(node[1]) and _is_label(node[2])


def _named(items: list) -> dict | None:
    """``k = 45, n = 2`` as {"k": 45, "n": 2}, when every item names a different variable; else None."""
    if not all(item[0] == "eq" and item[1][0] == "sym" for item in items):
        return None
    named = {item[1][1]: item[2] for item in items}
    return named if len(named) == len(items) else None


def _is_sequence(items: list) -> bool:
    """True for numbers written neither increasing nor decreasing: 4, 10, -2 (a set is written sorted)."""
    if len(items) < 3 or not all(item[0] in ("num", "neg", "div") and is_constant(item) for item in items):
        return False
    values = [approx(item) for item in items]
    pairs = list(zip(values, values[1:]))
    return not (all(a < b for a, b in pairs) or all(a > b for a, b in pairs))


def _grouped(items: list) -> list:
    """``p = 5, q = 2; p = 7, q = 2`` (the names over and over) as the solutions (5, 2), (7, 2)."""
    if len(items) < 4 or not all(item[0] == "eq" and item[1][0] == "sym" for item in items):
        return items
    names = [item[1][1] for item in items]
    width = names.index(names[0], 1) if names[0] in names[1:] else 0
    if width < 2 or len(names) % width or names != names[:width] * (len(names) // width):
        return items
    return [("tuple", [item[2] for item in items[start : start + width]]) for start in range(0, len(items), width)]


def _items(node: tuple) -> list | None:
    kind = node[0]
    if kind in ("set", "list", "tuple", "union"):
        return node[1]
    if kind == "interval":
        return None
    return [node]


def _unordered(answers: list, references: list, options: Options, quick: bool) -> bool:
    named_answers, named_references = _named(answers), _named(references)
    if named_answers is not None and named_references is not None and named_answers.keys() == named_references.keys():
        return all(compare(named_answers[name], value, options, quick) for name, value in named_references.items())
    if len(answers) != len(references):
        # a set written with a repeated element, {1, 1, 2}: compare distinct structures
        if len(set(map(repr, answers))) != len(set(map(repr, references))):
            return False
        answers = list({repr(item): item for item in answers}.values())
        references = list({repr(item): item for item in references}.values())
    unmatched = list(answers)
    undecided = False
    for reference in references:
        for index, answer in enumerate(unmatched):
            try:
                if compare(answer, reference, options, quick):
                    del unmatched[index]
                    break
            except Undecided:
                undecided = True
        else:
            if undecided:
                raise Undecided
            return False
    return True


def _interval(answer: tuple, reference: tuple, options: Options, quick: bool) -> bool:
    def parts(node: tuple):
        if node[0] == "interval":
            return node[1], node[2], node[3], node[4]
        if node[0] == "tuple" and len(node[1]) == 2:
            return False, node[1][0], node[1][1], False
        return None

    a, r = parts(answer), parts(reference)
    if a is None or r is None or a[0] != r[0] or a[3] != r[3]:
        return False
    return compare(a[1], r[1], options, quick) and compare(a[2], r[2], options, quick)


def _percent_forms(node: tuple, options: Options) -> list[tuple]:
    if node[0] == "pct":
        return [node, node[1]] if options.percent else [node]
    return [node]


def _scalar(answer: tuple, reference: tuple, options: Options, quick: bool) -> bool:
    return _any_true(
        (lambda a=a, r=r: _scalar_equal(a, r, options, quick))
        for a in _percent_forms(answer, options)
        for r in _percent_forms(reference, options)
    )


def _scalar_equal(answer: tuple, reference: tuple, options: Options, quick: bool) -> bool:
    if answer == reference:
        return True
    a, r = exact(answer), exact(reference)
    if a is not None and r is not None:
        if a == r:
            return True
        if a.denominator == 1 and r.denominator == 1:
            return False  # whole numbers are counted, never rounded: 6.4 \times 10^6 is not 6400001
        if has_decimal(answer) or has_decimal(reference):
            return abs(a - r) <= rounding_slack(answer, reference) or _close(float(a), float(r), options)
        return False
    if quick:
        if is_constant(answer) and is_constant(reference) and _clearly_different(answer, reference, options):
            return False  # \\sqrt{3} against \\sqrt{2}: floats may refuse equality in-process (never accept it)
        raise Undecided
    return _sympy_equal(answer, reference, options)


def _clearly_different(answer: tuple, reference: tuple, options: Options) -> bool:
    """True when the float values of two constants differ by far more than float error could explain.

    The error allowed grows with the largest term any sum in either tree adds up (a cancellation
    such as ``(10^{15} + \\sqrt{2}) - 10^{15}`` loses digits); with a decimal side, ``rel_tol`` is added.
    """
    a, r = approx(answer), approx(reference)
    if not (math.isfinite(a) and math.isfinite(r)):
        return False
    scale = max(abs(a), abs(r), _sum_scale(answer), _sum_scale(reference), 1.0)
    allowed = 1e-9 * scale
    if has_decimal(answer) or has_decimal(reference):
        allowed += 2 * max(options.rel_tol * max(abs(a), abs(r)), options.abs_tol, rounding_slack(answer, reference))
    return abs(a - r) > allowed


_ROUNDED_DIGITS = 4  # significant digits a decimal needs before it may stand for an exact value it rounds


def rounding_slack(answer: tuple, reference: tuple) -> Fraction:
    """Half a unit in the last place of a lone decimal of 4+ significant digits set against an exact side.

    ``1.414`` against ``\\sqrt{2}`` and ``2.6667`` against ``8/3`` are the exact values correctly
    rounded to the places written; ``3.14`` against ``\\pi`` has too few digits to count (0 slack).
    """
    for decimal, other in ((answer, reference), (reference, answer)):
        while decimal[0] == "neg":
            decimal = decimal[1]
        if decimal[0] == "num" and decimal[2] and not has_decimal(other):
            value = abs(decimal[1])
            places = 0
            while value.denominator != 1 and places < 40:
                value *= 10
                places += 1
            if value.denominator != 1:
                return Fraction(0)
            digits = str(value.numerator).rstrip("0")
            if len(digits) >= _ROUNDED_DIGITS:
                return Fraction(1, 2 * 10**places)
    return Fraction(0)


def _sum_scale(node: tuple) -> float:
    """The largest magnitude of a term of any sum in the tree (inf when one has no float value)."""
    scale = 0.0
    stack = [node]
    while stack:
        current = stack.pop()
        if current[0] == "add":
            for term in current[1]:
                value = abs(approx(term))
                if not math.isfinite(value):
                    return math.inf
                scale = max(scale, value)
        for part in current[1:]:
            if isinstance(part, tuple):
                stack.append(part)
            elif isinstance(part, list):
                stack.extend(part)
    return scale


def _close(a: float, b: float, options: Options) -> bool:
    return math.isclose(a, b, rel_tol=options.rel_tol, abs_tol=options.abs_tol)


# --- sympy, only in worker processes (or when the caller asks for quick=False) -----------------


def to_sympy(node: tuple):
    """A sympy object built directly from a checked tree: no strings are ever evaluated."""
    import sympy

    kind = node[0]
    if kind == "num":
        value: Fraction = node[1]
        return sympy.Rational(value.numerator, value.denominator)
    if kind == "sym":
        return sympy.Symbol(node[1])
    if kind == "const":
        return {"pi": sympy.pi, "e": sympy.E, "inf": sympy.oo, "i": sympy.I}[node[1]]
    if kind == "add":
        return sympy.Add(*[to_sympy(term) for term in node[1]])
    if kind == "mul":
        return sympy.Mul(*[to_sympy(factor) for factor in node[1]])
    if kind == "neg":
        return -to_sympy(node[1])
    if kind == "div":
        return to_sympy(node[1]) / to_sympy(node[2])
    if kind == "pct":
        return to_sympy(node[1]) / 100
    if kind == "pow":
        base, exponent = to_sympy(node[1]), to_sympy(node[2])
        if exponent.is_Rational and exponent.q % 2 == 1 and exponent.q > 1:
            return _real_root(base, exponent.q) ** exponent.p  # x^{2/3} is \\sqrt[3]{x^2} for real x
        return sympy.Pow(base, exponent)
    if kind == "func":
        name, args = node[1], [to_sympy(arg) for arg in node[2]]
        if name == "root":
            if args[1].is_Integer and args[1] % 2 == 1:
                return _real_root(args[0], int(args[1]))  # \\sqrt[3]{-8} is -2
            return sympy.root(args[0], args[1])
        if name == "logb":
            return sympy.log(args[0], args[1])
        if name == "binom":
            return sympy.binomial(args[0], args[1])
        if name == "mod":
            return sympy.Mod(args[0], args[1])
        if name == "lim":
            return sympy.limit(args[0], args[1], args[2])
        return _SYMPY_FUNCS[name](*args)
    raise ValueError(f"{kind} is not a scalar")


def _real_root(base, degree: int):
    """The real odd root, as a reader of \\sqrt[3]{x} means it (sympy's principal root is complex for x < 0)."""
    import sympy

    if base.is_nonnegative:
        return sympy.root(base, degree)
    return sympy.sign(base) * sympy.root(sympy.Abs(base), degree)


def _sympy_funcs() -> dict:
    import sympy

    return {
        "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "cot": sympy.cot, "sec": sympy.sec,
        "csc": sympy.csc, "arcsin": sympy.asin, "arccos": sympy.acos, "arctan": sympy.atan, "sinh": sympy.sinh,
        "cosh": sympy.cosh, "tanh": sympy.tanh, "ln": sympy.log, "log": sympy.log, "exp": sympy.exp,
        "sqrt": sympy.sqrt, "abs": sympy.Abs, "factorial": sympy.factorial, "floor": sympy.floor,
        "ceiling": sympy.ceiling,
    }  # fmt: skip


class _LazyFuncs(dict):
    def __missing__(self, name: str):
        self.update(_sympy_funcs())
        return dict.__getitem__(self, name)


_SYMPY_FUNCS = _LazyFuncs()


def _sympy_equal(answer: tuple, reference: tuple, options: Options) -> bool:
    import sympy

    a, r = to_sympy(answer), to_sympy(reference)
    inexact = has_decimal(answer) or has_decimal(reference)
    if is_constant(answer) and is_constant(reference):
        if a == r:
            return True
        if a.is_infinite or r.is_infinite or a.has(sympy.zoo, sympy.nan) or r.has(sympy.zoo, sympy.nan):
            return False
        va, vr = complex(sympy.N(a, 30)), complex(sympy.N(r, 30))
        slack = float(rounding_slack(answer, reference))
        if slack and va.imag == vr.imag == 0 and abs(va.real - vr.real) <= slack:
            return True
        if inexact:
            return _close(va.real, vr.real, options) and _close(va.imag, vr.imag, options)
        if abs(va - vr) > 1e-9 * max(1.0, abs(vr)):
            return False  # a numeric difference may refuse equality, never prove it
        return _proved_zero(a - r)
    if not options.symbolic:
        return False
    if _proved_zero(a - r):
        return True
    return _numeric_check(a, r, options, inexact)


def _proved_zero(difference) -> bool:
    """True only when sympy shows the difference of two exact expressions is zero (no numeric guess)."""
    import sympy

    if difference == 0:
        return True
    try:
        simplified = sympy.simplify(difference)
        return simplified == 0 or simplified.is_zero is True or sympy.sqrtdenest(sympy.radsimp(simplified)) == 0
    except (TypeError, ValueError, RecursionError, ZeroDivisionError, NotImplementedError, AttributeError):
        return False


def _random_point(generator: random.Random, symbols: list) -> dict:
    """Exact rationals of both signs, away from 0 (so sqrt(x^2) and x differ, as they do for x < 0)."""
    import sympy

    return {
        symbol: sympy.Rational(generator.choice((1, -1)) * generator.randint(5, 40), generator.choice((7, 11, 13)))
        for symbol in symbols
    }


def _numeric_check(a, r, options: Options, inexact: bool) -> bool:
    """Equal at every one of a few random rational points (both signs); any clear difference is a no.

    The points are exact rationals, so a polynomial or rational difference is computed
    exactly, and sympy's adaptive evalf measures any other difference without the
    cancellation a float subtraction would suffer. When both sides are exact, a point only
    agrees when the difference there is exactly zero: numbers may refuse equality, never prove it.
    """
    import sympy

    symbols = sorted(a.free_symbols | r.free_symbols, key=str)
    generator = random.Random(20240611)
    agreed = 0
    for _ in range(options.numeric_points * 3):
        point = _random_point(generator, symbols)
        try:
            va, vr = a.subs(point), r.subs(point)
            if va.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo) or vr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
                continue
            exact_difference = va - vr
            if not inexact and exact_difference == 0:
                agreed += 1
                if agreed >= options.numeric_points:
                    return True
                continue
            difference = complex(sympy.N(exact_difference, 30, maxn=200))
            scale = max(abs(complex(sympy.N(va, 15))), abs(complex(sympy.N(vr, 15))))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError):
            continue
        if math.isnan(difference.real) or math.isnan(scale):
            continue
        if inexact:
            if abs(difference) > max(options.rel_tol * scale, options.abs_tol):
                return False
        elif abs(difference) > 1e-20 or not _proved_zero(exact_difference):
            return False
        agreed += 1
        if agreed >= options.numeric_points:
            return True
    return False


def _equations(answer: tuple, reference: tuple, options: Options, quick: bool) -> bool:
    """Two general equations are equal when one side-difference is a nonzero constant times the other."""
    if quick:
        raise Undecided
    import sympy

    a = to_sympy(answer[1]) - to_sympy(answer[2])
    r = to_sympy(reference[1]) - to_sympy(reference[2])
    if r == 0 or a == 0:
        return a == r
    try:
        ratio = sympy.simplify(a / r)
        if ratio.is_constant() and ratio != 0:
            return True
    except (TypeError, ValueError, RecursionError, ZeroDivisionError, NotImplementedError):
        pass
    symbols = sorted(a.free_symbols | r.free_symbols, key=str)
    generator = random.Random(7)
    ratios = []
    for _ in range(options.numeric_points):
        point = _random_point(generator, symbols)
        try:
            denominator = complex(sympy.N(r.subs(point), 30))
            if abs(denominator) < 1e-12:
                continue
            ratios.append(complex(sympy.N(a.subs(point), 30)) / denominator)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            continue
    return len(ratios) >= 2 and abs(ratios[0]) > 1e-12 and all(abs(x - ratios[0]) < 1e-9 * abs(ratios[0]) for x in ratios)
