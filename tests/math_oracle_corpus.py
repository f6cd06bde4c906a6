"""A generated corpus of (reference, model output, equal?) pairs whose truth is known by construction.

Each family draws a value, writes it as a MATH/GSM8K-style gold answer, then renders the same
value in the other forms real outputs take (equal pairs) and near-miss values (off by one,
sign flipped, fraction swapped, a wrong digit, a wrong set member, another bracket: pairs that
are not equal). The rendered answer is wrapped the way outputs end (``\\boxed``, an answer
phrase, ``$...$``, ``####``). Used by the differential test against math-verify
(tests/test_math_oracle.py) and by benchmarks/math_throughput.py.

``python tests/math_oracle_corpus.py`` prints the size per family and a few rows.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import NamedTuple

__all__ = ["Pair", "corpus", "families", "math_verify_verdicts"]


class Pair(NamedTuple):
    reference: str
    output: str
    answer: str  # the rendering the output ends with
    equal: bool
    family: str
    form: str  # which rendering of which family: "interval/equal3"; stable for a given generator


Case = tuple[str, list[str], list[str]]  # gold, equal renderings, unequal renderings
_FAMILIES: dict[str, Callable[[random.Random], Case]] = {}


def _family(function: Callable[[random.Random], Case]) -> Callable[[random.Random], Case]:
    _FAMILIES[function.__name__.lstrip("_")] = function
    return function


def families() -> list[str]:
    return list(_FAMILIES)


def _variant(rng: random.Random, variants: list[tuple[str, list[str], list[str]]]) -> tuple:
    """One of a family's fixed variants, with its number (part of each pair's form)."""
    index = rng.randrange(len(variants))
    gold, equal, wrong = variants[index]
    return gold, list(equal), list(wrong), str(index)


def _frac(value: Fraction, command: str = "\\frac") -> str:
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}{command}{{{abs(value.numerator)}}}{{{value.denominator}}}"


def _thousands(number: int, separator: str = ",") -> str:
    return f"{number:,}".replace(",", separator)


def _wrong_digit(number: int, rng: random.Random) -> int:
    text = str(abs(number))
    position = rng.randrange(len(text))
    digit = str((int(text[position]) + rng.randint(1, 8)) % 10)
    changed = int(text[:position] + digit + text[position + 1 :])
    if changed == abs(number) or (position == 0 and digit == "0"):
        changed = abs(number) + 10
    return changed if number >= 0 else -changed


# --- numbers ------------------------------------------------------------------------------------


@_family
def _integer(rng: random.Random) -> Case:
    n = rng.randint(10, 9999)
    gold = str(n)
    equal = [str(n), f"{n}.0", f"{n}.00", f"{n}\\text{{ apples}}", f"\\${n}", f"{n} \\text{{ dollars}}", f"x = {n}"]
    wrong = [str(n + 1), str(n - 1), str(-n), str(_wrong_digit(n, rng)), f"{n}.5", str(n * 10)]
    return gold, equal, wrong


@_family
def _thousands_separated(rng: random.Random) -> Case:
    n = rng.randint(1000, 99_999_999)
    gold = rng.choice([_thousands(n, ",\\! "), _thousands(n, "{,}"), _thousands(n), str(n)])
    equal = [str(n), _thousands(n), _thousands(n, "{,}"), _thousands(n, ",\\!"), _thousands(n, "\\,"), f"\\${_thousands(n)}"]
    wrong = [str(n + 1), _thousands(n + 1000), str(_wrong_digit(n, rng)), _thousands(n - 1, ",\\! ")]
    return gold, equal, wrong


@_family
def _negative(rng: random.Random) -> Case:
    n = rng.randint(1, 500)
    gold = f"-{n}"
    return gold, [f"-{n}", f"- {n}", f"-{n}.0", f"x=-{n}", f"({-n})"], [str(n), f"-{n + 1}", f"{-n + 1}", f"-\\frac{{1}}{{{n + 1}}}"]


@_family
def _fraction(rng: random.Random) -> Case:
    a, b = rng.randint(1, 40), rng.randint(2, 41)
    value = Fraction(a, b)
    if value.denominator == 1:
        value = Fraction(a, b + 1) if Fraction(a, b + 1).denominator != 1 else Fraction(2 * a + 1, 2)
    p, q = value.numerator, value.denominator
    k = rng.randint(2, 5)
    gold = _frac(value)
    equal = [_frac(value, "\\dfrac"), _frac(value, "\\tfrac"), f"{p}/{q}", f"\\frac{{{p * k}}}{{{q * k}}}", f"{p * k}/{q * k}",
             f"\\frac{{{p}}}{{{q}}}", f"{{{p}}}/{{{q}}}"]
    if 10**6 % q == 0:
        equal.append(str(float(value)))
    wrong = [f"\\frac{{{q}}}{{{p}}}" if p != q else "2", f"\\frac{{{p + 1}}}{{{q}}}", f"-\\frac{{{p}}}{{{q}}}",
             f"\\frac{{{p}}}{{{q + 1}}}", f"{round(float(value), 2)}" if 10**2 % q else f"{float(value) + 0.01:.2f}"]
    return gold, equal, wrong


@_family
def _negative_fraction(rng: random.Random) -> Case:
    p, q = rng.choice([(1, 2), (3, 4), (2, 3), (5, 7), (7, 2), (9, 4), (11, 6)])
    gold = f"-\\frac{{{p}}}{{{q}}}"
    equal = [f"\\frac{{-{p}}}{{{q}}}", f"\\frac{{{p}}}{{-{q}}}", f"-{p}/{q}", f"-\\dfrac{{{p}}}{{{q}}}", f"(-{p})/{q}"]
    wrong = [f"\\frac{{{p}}}{{{q}}}", f"-\\frac{{{q}}}{{{p}}}", f"\\frac{{-{p}}}{{-{q}}}"]
    return gold, equal, wrong


@_family
def _mixed_number(rng: random.Random) -> Case:
    whole, q = rng.randint(1, 9), rng.randint(2, 9)
    p = rng.randint(1, q - 1)
    value = whole + Fraction(p, q)
    gold = _frac(value)
    equal = [f"{whole}\\frac{{{p}}}{{{q}}}", f"{whole} \\frac{{{p}}}{{{q}}}", f"{value.numerator}/{value.denominator}"]
    wrong = [f"{whole}\\frac{{{q}}}{{{p}}}" if p != 1 else f"{whole + 1}\\frac{{{p}}}{{{q}}}", _frac(value + 1), _frac(Fraction(whole * p, q))]
    return gold, equal, wrong


@_family
def _decimal(rng: random.Random) -> Case:
    cents = rng.randint(101, 99_999)
    value = Fraction(cents, 100)
    text = f"{cents / 100:.2f}"
    gold = text
    equal = [text, f"{text}0", _frac(value), f"\\${text}"]
    wrong = [f"{(cents + 1) / 100:.2f}", f"{(cents + 10) / 100:.2f}", f"{cents / 10:.1f}", f"-{text}"]
    return gold, equal, wrong


@_family
def _scientific(rng: random.Random) -> Case:
    mantissa, power = rng.randint(11, 99), rng.randint(3, 9)
    value = mantissa * 10 ** (power - 1)
    m = f"{mantissa // 10}.{mantissa % 10}"
    gold = rng.choice([str(value), f"{m} \\times 10^{{{power}}}"])
    equal = [str(value), f"{m} \\times 10^{{{power}}}", f"{m}\\cdot 10^{power}", f"{m}e{power}", f"{m}E+{power}", _thousands(value)]
    wrong = [f"{m} \\times 10^{{{power + 1}}}", f"{m}e{power - 1}", str(value + 1), f"{mantissa} \\times 10^{{{power}}}"]
    return gold, equal, wrong


@_family
def _repeating_decimal(rng: random.Random) -> Case:
    digit, denominator = rng.choice([(1, 9), (3, 9), (6, 9), (2, 9), (7, 9)])
    value = Fraction(digit, denominator)
    gold = _frac(value)
    equal = [f"0.\\overline{{{digit}}}", f"0.\\overline{digit}", _frac(value, "\\dfrac")]
    wrong = [f"0.{digit}", f"0.\\overline{{{digit + 1}}}", f"0.{digit}{digit}"]
    return gold, equal, wrong


@_family
def _percent(rng: random.Random) -> Case:
    n = rng.randint(1, 99)
    gold = rng.choice([f"{n}\\%", str(n)])
    equal = [f"{n}\\%", f"{n}%", str(n), f"{n} \\%", f"{n}\\text{{ percent}}"]
    wrong = [f"{n + 1}\\%", f"{n - 1}", f"{n + 10}\\%"]
    return gold, equal, wrong


@_family
def _degrees(rng: random.Random) -> Case:
    n = rng.choice([15, 30, 36, 45, 60, 72, 75, 90, 108, 120, 135, 150])
    gold = rng.choice([f"{n}^\\circ", str(n)])
    equal = [f"{n}^\\circ", f"{n}^{{\\circ}}", str(n), f"{n}\\degree", f"{n}^\\circ."]
    wrong = [f"{n + 1}^\\circ", str(180 - n) if n != 90 else "91", f"{n + 5}"]
    return gold, equal, wrong


@_family
def _units(rng: random.Random) -> Case:
    n = rng.randint(2, 500)
    unit = rng.choice(["cm", "m", "inches", "units", "feet", "cm^2", "square units", "meters"])
    gold = rng.choice([str(n), f"{n}\\text{{ {unit}}}"])
    equal = [f"{n}\\text{{ {unit}}}", f"{n} \\text{{{unit}}}", f"{n}\\text{{ cm}}^2", f"{n}\\mbox{{ {unit}}}", f"{n}"]
    wrong = [f"{n + 1}\\text{{ {unit}}}", f"{2 * n}\\text{{ cm}}^2", str(n - 1)]
    return gold, equal, wrong


# --- radicals, pi, exact constants ------------------------------------------------------------------


@_family
def _radical(rng: random.Random) -> Case:
    a, b = rng.randint(2, 9), rng.choice([2, 3, 5, 6, 7, 10, 11])
    gold = f"{a}\\sqrt{{{b}}}"
    equal = [f"{a} \\sqrt{b}" if b < 10 else f"{a} \\sqrt {{{b}}}", f"\\sqrt{{{a * a * b}}}", f"\\sqrt{{{b}}} \\cdot {a}", f"{a}*sqrt({b})", f"{a}\\sqrt {{{b}}}", f"\\sqrt{{{b}}}{a}"]
    wrong = [f"{b}\\sqrt{{{a}}}" if a != b else f"{a + 1}\\sqrt{{{b}}}", f"{a}\\sqrt{{{b + 1}}}", f"\\sqrt{{{a * b}}}", f"{a + 1}\\sqrt{{{b}}}"]
    return gold, equal, wrong


@_family
def _radical_fraction(rng: random.Random) -> Case:
    b, q = rng.choice([2, 3, 5, 7]), rng.choice([2, 3, 4, 6])
    gold = f"\\frac{{\\sqrt{{{b}}}}}{{{q}}}"
    equal = [f"\\frac{{1}}{{{q}}}\\sqrt{{{b}}}", f"\\sqrt{{{b}}}/{q}", f"\\dfrac{{\\sqrt{b}}}{{{q}}}", f"\\frac{{{b}}}{{{q}\\sqrt{{{b}}}}}"]
    wrong = [f"\\frac{{\\sqrt{{{b + 1}}}}}{{{q}}}", f"\\frac{{{q}}}{{\\sqrt{{{b}}}}}", f"\\frac{{\\sqrt{{{b}}}}}{{{q + 1}}}"]
    return gold, equal, wrong


@_family
def _cube_root(rng: random.Random) -> Case:
    b = rng.choice([2, 3, 5, 6, 7, 9])
    gold = f"\\sqrt[3]{{{b}}}"
    equal = [f"{b}^{{1/3}}", f"{b}^{{\\frac{{1}}{{3}}}}", f"\\sqrt[3]{b}", f"{b}^(1/3)"]
    wrong = [f"\\sqrt{{{b}}}", f"\\sqrt[3]{{{b + 1}}}", f"{b}^{{1/2}}", f"{b}/3"]
    return gold, equal, wrong


@_family
def _pi_multiple(rng: random.Random) -> Case:
    p, q = rng.choice([(1, 2), (1, 3), (2, 3), (3, 4), (5, 6), (1, 6), (7, 4), (4, 3)])
    gold = f"\\frac{{{p if p != 1 else ''}\\pi}}{{{q}}}"
    equal = [f"\\frac{{{p}}}{{{q}}}\\pi", f"{p}\\pi/{q}", f"\\frac{{{p} \\pi}}{{{q}}}", f"\\dfrac{{{p}\\pi}}{{{q}}}", f"{p}/{q} \\pi"]
    wrong = [f"\\frac{{{q}\\pi}}{{{p}}}", f"\\frac{{{p}}}{{{q}}}", f"\\frac{{{p + 1}\\pi}}{{{q}}}", f"{p}\\pi"]
    return gold, equal, wrong


@_family
def _pi_sum(rng: random.Random) -> Case:
    a, b = rng.randint(2, 30), rng.randint(2, 12)
    gold = f"{a} + {b}\\pi"
    equal = [f"{b}\\pi + {a}", f"{a}+{b} \\pi", f"{b}\\pi+{a}", f"{a} + \\pi \\cdot {b}"]
    wrong = [f"{a} - {b}\\pi", f"{a + 1} + {b}\\pi", f"{b} + {a}\\pi", f"{a + b}\\pi"]
    return gold, equal, wrong


@_family
def _exactness(rng: random.Random) -> Case:
    k = rng.choice([60, 80, 100, 200])
    gold = rng.choice(["1", "2", "0"])
    g = int(gold)
    equal = [f"{g}", f"{g}^{{1}}", f"\\frac{{{2 * g}}}{{2}}"]
    wrong = [f"{g} + 10^{{-{k}}}", f"{g + 1}^{{2^{{-{k}}}}}" if g == 1 else f"{g} - 10^{{-{k}}}", f"{g}+\\frac{{1}}{{10^{{{k}}}}}"]
    if g == 1:
        wrong.append(f"2^{{2^{{-{k}}}}}")
    return gold, equal, wrong


@_family
def _binomial(rng: random.Random) -> Case:
    n = rng.randint(4, 12)
    k = rng.randint(1, n - 1)
    from math import comb

    gold = str(comb(n, k))
    equal = [f"\\binom{{{n}}}{{{k}}}", f"\\dbinom{{{n}}}{{{k}}}", f"\\binom{{{n}}}{{{n - k}}}", str(comb(n, k))]
    wrong = [f"\\binom{{{n}}}{{{k + 1}}}" if comb(n, k + 1) != comb(n, k) else f"\\binom{{{n + 1}}}{{{k}}}", str(comb(n, k) + 1)]
    return gold, equal, wrong


@_family
def _absolute_value(rng: random.Random) -> Case:
    a, b = rng.randint(1, 20), rng.randint(21, 40)
    gold = str(b - a)
    equal = [f"|{a}-{b}|", f"\\left|{a} - {b}\\right|", f"|{b}-{a}|", f"\\lvert {a}-{b} \\rvert"]
    wrong = [f"{a - b}", f"|{a}+{b}|", str(b - a + 1)]
    return gold, equal, wrong


@_family
def _factorial(rng: random.Random) -> Case:
    n = rng.randint(3, 8)
    from math import factorial

    gold = str(factorial(n))
    return gold, [f"{n}!", f"{n}!\\,", str(factorial(n))], [f"{n + 1}!", f"{n - 1}!", str(factorial(n) + 1)]


@_family
def _logarithm(rng: random.Random) -> Case:
    base, power = rng.choice([2, 3, 5, 10]), rng.randint(2, 5)
    gold = str(power)
    equal = [f"\\log_{{{base}}} {base ** power}", f"\\log_{{{base}}}{{{base ** power}}}", f"\\log_{{{base}}} {base ** power} = {power}", str(power)]
    wrong = [f"\\log_{{{base}}} {base ** (power + 1)}", str(power + 1), f"\\log_{{{base}}} {base ** power} = {power + 1}"]
    return gold, equal, wrong


@_family
def _complex(rng: random.Random) -> Case:
    a, b = rng.sample(range(1, 13), 2)
    gold = f"{a} + {b}i"
    equal = [f"{b}i + {a}", f"{a}+{b}i", f"{a} + i{b}", f"{a}+{b}\\cdot i"]
    wrong = [f"{a} - {b}i", f"{b} + {a}i", f"{a + 1} + {b}i", f"{a}"]
    return gold, equal, wrong


@_family
def _trig_value(rng: random.Random) -> Case:
    return _variant(rng, [
        ("\\frac{\\sqrt{3}}{2}", ["\\sin 60^\\circ", "\\cos 30^\\circ", "\\sin(\\pi/3)", "\\frac{1}{2}\\sqrt{3}"], ["\\frac{1}{2}", "\\sin 30^\\circ", "\\frac{\\sqrt{2}}{2}"]),
        ("\\frac{1}{2}", ["\\sin 30^\\circ", "\\cos 60^\\circ", "\\cos(\\pi/3)", "0.5"], ["\\sin 60^\\circ", "\\frac{\\sqrt{3}}{2}", "2"]),
        ("\\cos x", ["\\sin(90^\\circ - x)", "\\sin(\\frac{\\pi}{2} - x)", "\\cos(x)", "\\cos(-x)"], ["\\sin x", "-\\cos x", "\\sin(90^\\circ + 2x)"]),
        ("1", ["\\tan 45^\\circ", "\\sin^2 x + \\cos^2 x", "\\tan(\\pi/4)"], ["\\tan 60^\\circ", "\\sin^2 x", "0"]),
        ("\\cos 2x", ["\\cos^2 x - \\sin^2 x", "1 - 2\\sin^2 x", "2\\cos^2 x - 1"], ["\\sin 2x", "\\cos^2 x + \\sin^2 x", "2\\cos x"]),
        ("\\sin 2x", ["2\\sin x\\cos x", "2 \\sin x \\cos x", "\\sin(2x)"], ["\\sin x\\cos x", "2\\sin x", "\\cos 2x"]),
    ])  # fmt: skip


@_family
def _angle_label(rng: random.Random) -> Case:
    n = rng.randint(20, 160)
    gold = f"{n}^\\circ"
    equal = [f"\\angle ABC = {n}^\\circ", f"m\\angle A = {n}^\\circ", f"\\angle BAC = {n}", f"{n}^{{\\circ}}"]
    wrong = [f"\\angle ABC = {n + 1}^\\circ", f"{180 - n}^\\circ" if n != 90 else "91^\\circ", f"m\\angle A = {n - 1}"]
    return gold, equal, wrong


@_family
def _approximation(rng: random.Random) -> Case:
    p, q = rng.choice([(1, 3), (2, 3), (1, 7), (5, 6), (4, 9), (3, 7)])
    rounded = f"{p / q:.2f}"
    gold = f"\\frac{{{p}}}{{{q}}}"
    equal = [f"\\frac{{{p}}}{{{q}}} \\approx {rounded}", f"x = \\frac{{{p}}}{{{q}}} \\approx {rounded}", f"P = {p}/{q} \\approx {rounded}"]
    wrong = [f"\\frac{{{p + 1}}}{{{q}}} \\approx {(p + 1) / q:.2f}", rounded, f"x \\approx {rounded}"]
    return gold, equal, wrong


@_family
def _inverse_function(rng: random.Random) -> Case:
    a, b = rng.sample(range(2, 10), 2)
    gold = f"\\frac{{x-{b}}}{{{a}}}"
    equal = [f"f^{{-1}}(x) = \\frac{{x-{b}}}{{{a}}}", f"\\frac{{x}}{{{a}}} - \\frac{{{b}}}{{{a}}}", f"(x-{b})/{a}", f"y = \\frac{{x - {b}}}{{{a}}}"]
    wrong = [f"f^{{-1}}(x) = \\frac{{x+{b}}}{{{a}}}", f"{a}x+{b}", f"\\frac{{x-{a}}}{{{b}}}"]
    return gold, equal, wrong


@_family
def _reals_and_empty(rng: random.Random) -> Case:
    return _variant(rng, [
        ("\\mathbb{R}", ["(-\\infty, \\infty)", "(-\\infty,\\infty)", "x \\in \\mathbb{R}", "\\mathbb R"], ["[0, \\infty)", "(-\\infty, 0)", "\\emptyset"]),
        ("(-\\infty, \\infty)", ["\\mathbb{R}", "\\left(-\\infty, \\infty\\right)"], ["(0, \\infty)", "\\varnothing"]),
        ("\\emptyset", ["\\varnothing", "\\{\\}", "\\emptyset"], ["\\{0\\}", "\\mathbb{R}", "0"]),
    ])  # fmt: skip


# --- expressions, equations, chains -------------------------------------------------------------------


@_family
def _polynomial(rng: random.Random) -> Case:
    r, s = rng.randint(1, 6), rng.randint(1, 6)
    v = rng.choice("xynt")
    gold = f"{v}^2 + {r + s}{v} + {r * s}"
    equal = [f"({v}+{r})({v}+{s})", f"({v} + {s})({v} + {r})", f"{r * s} + {r + s}{v} + {v}^2", f"{v}**2 + {r + s}*{v} + {r * s}"]
    wrong = [f"({v}-{r})({v}-{s})", f"({v}+{r})({v}+{s + 1})", f"{v}^2 + {r + s}{v} - {r * s}", f"({v}+{r + s})^2"]
    return gold, equal, wrong


@_family
def _function_definition(rng: random.Random) -> Case:
    a, b = rng.sample(range(2, 10), 2)
    gold = f"{a}x+{b}"
    equal = [f"f(x)={a}x+{b}", f"f(x) = {b} + {a}x", f"g(x)={a}x+{b}", f"{a}x+{b}", f"y = {a}x + {b}"]
    wrong = [f"f(x)={a}x-{b}", f"{b}x+{a}", f"f(x) = {a}x", f"{a}x+{b + 1}"]
    return gold, equal, wrong


@_family
def _equation(rng: random.Random) -> Case:
    a, b = rng.sample(range(2, 10), 2)
    gold = f"y = {a}x + {b}"
    equal = [f"y={b}+{a}x", f"y = {a}x+{b}", f"{a}x - y + {b} = 0", f"y - {a}x = {b}"]
    wrong = [f"y = {a}x - {b}", f"y = {b}x + {a}", f"y = -{a}x + {b}", f"x = {a}y + {b}"]
    return gold, equal, wrong


@_family
def _value_chain(rng: random.Random) -> Case:
    return _variant(rng, [
        ("1000", ["10^3 = 1000", "10^{3} = 1000", "1000"], ["10^3 = 999", "10^4 = 10000", "10^2"]),
        ("2", ["\\sqrt{4}=2", "\\sqrt{4} = 2", "\\sqrt{4}"], ["\\sqrt{4}=3", "\\sqrt{9}=3", "4"]),
        ("3", ["\\log_2 8 = 3", "\\log_{2}8=3", "\\log_2 8"], ["\\log_2 16 = 4", "\\log_2 8 = 4", "8"]),
        ("11", ["x \\approx 11", "x = 5+5+1 = 11", "x = 5+5+1 = 1/3 \\approx 11", "x \\approx 11.0"], ["x \\approx 12", "x = 5 + 5 = 10", "x = 11 + 1 = 12"]),
        ("24", ["4! = 24", "2 \\cdot 3 \\cdot 4 = 24", "4 \\times 6 = 24"], ["4! = 25", "3! = 6", "5 \\times 6 = 30"]),
        ("\\frac{1}{2}", ["\\frac{2}{4} = \\frac{1}{2}", "P = \\frac{1}{2}", "P(A) = 0.5"], ["\\frac{2}{4} = \\frac{1}{4}", "P = \\frac{1}{3}", "P(A) = 0.25"]),
        ("1", ["\\lim_{x \\to 0} \\frac{\\sin x}{x} = 1", "\\lim_{n\\to\\infty} (1 + 1/n) = 1"], ["\\lim_{x \\to 0} \\frac{\\sin x}{x} = 0", "0"]),
        ("2", ["17 \\bmod 5 = 2", "2 \\pmod{5}", "17 \\equiv 2 \\pmod{5}", "2 \\pmod 5"], ["17 \\bmod 5 = 3", "3 \\pmod{5}", "17 \\equiv 3 \\pmod 5"]),
    ])  # fmt: skip


@_family
def _named_values(rng: random.Random) -> Case:
    k, n = rng.randint(10, 90), rng.randint(2, 9)  # k != n: swapping them is a wrong answer
    gold = f"k = {k}, n = {n}"
    equal = [f"k={k}, n={n}", f"n = {n}, k = {k}", f"k = {k} \\text{{ and }} n = {n}", f"k={k},\\ n={n}"]
    wrong = [f"k = {n}, n = {k}", f"k = {k + 1}, n = {n}", f"k = {k}, n = {n + 1}", f"k = {k}"]
    return gold, equal, wrong


@_family
def _ratio(rng: random.Random) -> Case:
    a, b = rng.randint(2, 40), rng.randint(41, 60)
    gold = f"{a}:{b}"
    equal = [f"{a} : {b}", f"V_1:V_2 = {a}:{b}", f"S_{{ABC}}:S={a}:{b}", f"{a}\\colon {b}", f"{a}:{b}"]
    wrong = [f"{b}:{a}", f"{a + 1}:{b}", f"V_1:V_2 = {a}:{b + 1}", f"{a}:{b - 1}"]
    return gold, equal, wrong


@_family
def _named_tuple(rng: random.Random) -> Case:
    p, q = rng.randint(1, 12), rng.randint(13, 20)
    gold = f"({p},{q})"
    equal = [f"(p,q)=({p},{q})", f"(a, b) = ({p}, {q})", f"\\left({p}, {q}\\right)", f"({p}, \\ {q})", f"( {p} , {q} )"]
    equal.append(f"x = {p}, y = {q}")
    wrong = [f"({q},{p})", f"(p,q)=({q},{p})", f"({p},{q + 1})", f"({-p},{q})", f"x = {q}, y = {p}"]
    return gold, equal, wrong


@_family
def _point_with_fraction(rng: random.Random) -> Case:
    a, b = rng.randint(1, 9), rng.choice([2, 3, 5])
    gold = f"\\left( {a}, \\frac{{\\pi}}{{{b}}} \\right)"
    equal = [f"({a}, \\pi/{b})", f"\\left({a},\\dfrac{{\\pi}}{{{b}}}\\right)", f"({a}, \\frac{{1}}{{{b}}}\\pi)"]
    wrong = [f"({a}, \\frac{{\\pi}}{{{b + 1}}})", f"(\\frac{{\\pi}}{{{b}}}, {a})", f"({a + 1}, \\frac{{\\pi}}{{{b}}})"]
    return gold, equal, wrong


# --- collections -----------------------------------------------------------------------------------


@_family
def _solution_set(rng: random.Random) -> Case:
    a, b = sorted(rng.sample(range(-9, 10), 2))
    gold = rng.choice([f"{a}, {b}", f"\\{{{a}, {b}\\}}", f"{a},{b}"])
    equal = [f"{b}, {a}", f"\\{{{b},{a}\\}}", f"{{{a}, {b}}}", f"x = {a}, x = {b}", f"x={b} \\text{{ or }} x={a}",
             f"{a} \\text{{ and }} {b}", f"x \\in \\{{{a}, {b}\\}}"]
    c = b + 1 if b + 1 != a else b + 2
    wrong = [f"{a}, {c}", f"{a}", f"\\{{{a}, {b}, {c}\\}}", f"{-a}, {b}" if a != 0 else f"{a + 1}, {b}", f"x = {a}"]
    return gold, equal, wrong


@_family
def _solution_pairs(rng: random.Random) -> Case:
    a, b = rng.sample(range(1, 9), 2)
    gold = f"({a},{b}),({b},{a})"
    equal = [f"({b},{a}),({a},{b})", f"({a}, {b}), ({b}, {a})", f"\\{{({a},{b}),({b},{a})\\}}", f"({b},{a}) \\text{{ and }} ({a},{b})"]
    wrong = [f"({a},{b})", f"({a},{b}),({a},{b + 10})", f"({a},{a}),({b},{b})", f"({a},{b}),({b},{a}),(0,0)"]
    return gold, equal, wrong


@_family
def _interval(rng: random.Random) -> Case:
    a, b = sorted(rng.sample(range(-10, 11), 2))
    gold = rng.choice([f"[{a}, {b}]", f"x \\in [{a}, {b}]"])
    equal = [f"[{a},{b}]", f"\\left[{a}, {b}\\right]", f"{a} \\le x \\le {b}", f"{a} \\leq x \\leq {b}", f"x \\in [{a},{b}]", f"{b} \\geq x \\geq {a}"]
    wrong = [f"({a}, {b})", f"[{a}, {b})", f"[{a}, {b + 1}]", f"{a} < x \\le {b}", f"[{-b}, {-a}]" if a != -b else f"[{a - 1}, {b}]"]
    return gold, equal, wrong


@_family
def _half_line(rng: random.Random) -> Case:
    a = rng.randint(-9, 9)
    gold = rng.choice([f"(-\\infty, {a})", f"x < {a}"])
    equal = [f"x < {a}", f"{a} > x", f"-x > {-a}", f"(-\\infty,{a})", f"\\left(-\\infty, {a}\\right)", f"x \\in (-\\infty, {a})"]
    wrong = [f"x > {a}", f"x \\le {a}", f"(-\\infty, {a}]", f"({a}, \\infty)", f"-x < {-a}"]
    return gold, equal, wrong


@_family
def _union(rng: random.Random) -> Case:
    a, b = sorted(rng.sample(range(-9, 10), 2))
    gold = f"(-\\infty, {a}) \\cup ({b}, \\infty)"
    equal = [f"(-\\infty,{a})\\cup({b},\\infty)", f"({b}, \\infty) \\cup (-\\infty, {a})", f"x < {a} \\text{{ or }} x > {b}",
             f"\\left(-\\infty, {a}\\right) \\cup \\left({b}, \\infty\\right)"]
    wrong = [f"(-\\infty, {a}] \\cup ({b}, \\infty)", f"({a}, {b})", f"(-\\infty, {b}) \\cup ({a}, \\infty)" if a != b else "(0, 1)", f"(-\\infty, {a})"]
    return gold, equal, wrong


@_family
def _not_equal(rng: random.Random) -> Case:
    a = rng.randint(-9, 9)
    gold = f"x \\neq {a}"
    equal = [f"x \\ne {a}", f"x\\neq{a}", f"(-\\infty, {a}) \\cup ({a}, \\infty)"]
    wrong = [f"x \\neq {a + 1}", f"x = {a}", f"x > {a}"]
    return gold, equal, wrong


@_family
def _matrix(rng: random.Random) -> Case:
    a, b, c, d = (rng.randint(-9, 9) for _ in range(4))
    gold = f"\\begin{{pmatrix}} {a} & {b} \\\\ {c} & {d} \\end{{pmatrix}}"
    equal = [f"\\begin{{bmatrix}} {a} & {b} \\\\ {c} & {d} \\end{{bmatrix}}", f"\\begin{{pmatrix}}{a}&{b}\\\\{c}&{d}\\end{{pmatrix}}",
             f"\\left[\\begin{{array}}{{cc}} {a} & {b} \\\\ {c} & {d} \\end{{array}}\\right]", f"\\begin{{pmatrix}} {a} & {b} \\\\ {c} & {d} \\\\ \\end{{pmatrix}}"]
    wrong = [f"\\begin{{pmatrix}} {a} & {c} \\\\ {b} & {d} \\end{{pmatrix}}" if b != c else f"\\begin{{pmatrix}} {a + 1} & {b} \\\\ {c} & {d} \\end{{pmatrix}}",
             f"\\begin{{pmatrix}} {a} & {b} \\\\ {c} & {d + 1} \\end{{pmatrix}}", f"\\begin{{pmatrix}} {a} & {b} \\end{{pmatrix}}"]
    return gold, equal, wrong


@_family
def _vector(rng: random.Random) -> Case:
    a, b, c = (rng.randint(-9, 9) for _ in range(3))
    gold = f"\\begin{{pmatrix}} {a} \\\\ {b} \\\\ {c} \\end{{pmatrix}}"
    equal = [f"\\begin{{bmatrix}} {a} \\\\ {b} \\\\ {c} \\end{{bmatrix}}", f"({a}, {b}, {c})", f"\\begin{{pmatrix}}{a}\\\\{b}\\\\{c}\\end{{pmatrix}}"]
    wrong = [f"({a}, {b}, {c + 1})", f"({c}, {b}, {a})" if a != c else f"({a + 1}, {b}, {c})", f"({a}, {b})"]
    return gold, equal, wrong


@_family
def _determinant(rng: random.Random) -> Case:
    a, b, c, d = (rng.randint(1, 9) for _ in range(4))
    gold = str(a * d - b * c)
    equal = [f"\\begin{{vmatrix}} {a} & {b} \\\\ {c} & {d} \\end{{vmatrix}}", str(a * d - b * c), f"{a * d} - {b * c}"]
    wrong = [str(a * d + b * c), str(a * d - b * c + 1), f"\\begin{{vmatrix}} {a} & {b} \\\\ {c} & {d + 1} \\end{{vmatrix}}"]
    return gold, equal, wrong


@_family
def _base_subscript(rng: random.Random) -> Case:
    base = rng.choice([2, 3, 5, 7, 8])
    digits = "".join(str(rng.randrange(base)) for _ in range(4)).lstrip("0") or "1"
    gold = f"{digits}_{base}" if rng.random() < 0.5 else f"{digits}_{{{base}}}"
    equal = [f"{digits}_{base}", f"{digits}_{{{base}}}", digits, f"{digits}_{{\\text{{{base}}}}}"]
    changed = str(_wrong_digit(int(digits), rng))
    wrong = [f"{changed}_{base}", f"{int(digits) + 1}_{{{base}}}", changed]
    return gold, equal, wrong


@_family
def _text_answer(rng: random.Random) -> Case:
    letter = rng.choice("ABCDE")
    other = rng.choice([x for x in "ABCDE" if x != letter])
    word, other_word = rng.sample(["Monday", "Evelyn", "odd", "even", "neither", "Tuesday", "Bob", "circle"], 2)
    if rng.random() < 0.5:
        gold = rng.choice([f"\\text{{({letter})}}", f"\\textbf{{({letter})}}", f"\\text{{{letter}}}"])
        return gold, [f"\\textbf{{({letter})}}", f"\\text{{({letter})}}", f"({letter})", f"\\mathrm{{({letter})}}"], [f"({other})", f"\\textbf{{({other})}}"]
    gold = f"\\text{{{word}}}"
    return gold, [word, f"\\text{{ {word} }}", f"\\textbf{{{word}}}", f"\\mathrm{{{word}}}"], [other_word, f"\\text{{{other_word}}}"]


@_family
def _infinity(rng: random.Random) -> Case:
    return _variant(rng, [
        ("\\infty", ["\\infty", "+\\infty", "\\infty."], ["-\\infty", "0", "1"]),
        ("-\\infty", ["-\\infty", "- \\infty"], ["\\infty", "-1"]),
        ("[0, \\infty)", ["[0,\\infty)", "x \\ge 0", "0 \\le x", "\\left[0, \\infty\\right)"], ["(0, \\infty)", "x > 0", "(-\\infty, 0]"]),
    ])  # fmt: skip


@_family
def _plus_minus(rng: random.Random) -> Case:
    a, b = rng.randint(1, 9), rng.choice([2, 3, 5, 7])
    gold = f"{a} \\pm \\sqrt{{{b}}}"
    equal = [f"{a} + \\sqrt{{{b}}}, {a} - \\sqrt{{{b}}}", f"{a} - \\sqrt{{{b}}}, {a} + \\sqrt{{{b}}}", f"x = {a} \\pm \\sqrt{{{b}}}"]
    wrong = [f"{a} + \\sqrt{{{b}}}", f"{a} \\pm \\sqrt{{{b + 1}}}", f"-{a} \\pm \\sqrt{{{b}}}"]
    return gold, equal, wrong


# --- GSM8K: a word problem's chain of thought ending in the answer ------------------------------------


_NAMES = ["Natalia", "Weng", "Betty", "Julie", "James", "Albert", "Ken", "Alexis"]


@_family
def _gsm8k(rng: random.Random) -> Case:
    a, b, c = rng.randint(2, 90), rng.randint(2, 40), rng.randint(2, 12)
    total = a + b * c
    gold = str(total)
    equal = [str(total), _thousands(total), f"{total}.00", f"\\${total}"]
    wrong = [str(total + 1), str(total - b), str(a * b + c) if a * b + c != total else str(total + 2)]
    return gold, equal, wrong


def _wrap(rng: random.Random, family: str, answer: str) -> str:
    name = rng.choice(_NAMES)
    if family == "gsm8k":
        steps = f"{name} has some items. Each step adds up: the total works out."
        return rng.choice([f"{steps}\n#### {answer}", f"{steps} The answer is ${answer}$.", f"{steps} So the answer is $\\boxed{{{answer}}}$."])
    prefix = rng.choice(["We compute the value directly.", "Simplifying step by step gives the result.", "Let me work through this carefully."])
    return rng.choice([
        f"{prefix} Therefore, the answer is $\\boxed{{{answer}}}$.",
        f"{prefix}\n\nThe final answer is $\\boxed{{{answer}}}$. I hope it is correct.",
        f"{prefix} So we get \\[ \\boxed{{{answer}}} \\]",
        f"{prefix} The final answer is ${answer}$.",
    ])  # fmt: skip


def _pairs(rng: random.Random, family: str, case: tuple) -> Iterator[Pair]:
    gold, equal, wrong = case[:3]
    name = f"{family}.{case[3]}" if len(case) > 3 else family
    for index, rendering in enumerate(equal):
        yield Pair(gold, _wrap(rng, family, rendering), rendering, True, family, f"{name}/equal{index}")
    for index, rendering in enumerate(wrong):
        yield Pair(gold, _wrap(rng, family, rendering), rendering, False, family, f"{name}/wrong{index}")


def corpus(seed: int = 13, rounds: int = 20) -> list[Pair]:
    """Every family drawn ``rounds`` times (deterministic for a seed), each draw giving all its renderings."""
    rng = random.Random(seed)
    pairs: list[Pair] = []
    for _ in range(rounds):
        for family, make in _FAMILIES.items():
            pairs.extend(_pairs(rng, family, make(rng)))
    return list(dict.fromkeys(pairs))  # a draw can repeat an earlier one


_GOLDS: dict[str, object] = {}  # math-verify's parse of each gold answer, per process


def _math_verify_verdict(pair: tuple[str, str]) -> bool:
    """math-verify's verdict on one (reference, output) pair; a crash of the oracle counts as "not equal"."""
    import logging

    from math_verify import parse, verify

    # its signal-based timeouts fire at random on a loaded machine: this corpus is benign, so they are off
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    reference, output = pair
    try:
        if reference not in _GOLDS:
            _GOLDS[reference] = parse(f"${reference}$", parsing_timeout=None)
        return bool(verify(_GOLDS[reference], parse(output, parsing_timeout=None), timeout_seconds=None))
    except Exception:  # noqa: BLE001
        return False


def math_verify_verdicts(pairs: list[Pair], processes: int = 1) -> list[bool]:
    """math-verify (a test-only dependency) on every pair, in this process or a spawned pool."""
    texts = [(pair.reference, pair.output) for pair in pairs]
    if processes <= 1:
        return [_math_verify_verdict(text) for text in texts]
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        return pool.map(_math_verify_verdict, texts, chunksize=64)


if __name__ == "__main__":
    from collections import Counter

    rows = corpus()
    print(f"{len(rows)} pairs, {sum(row.equal for row in rows)} equal, {len(families())} families")
    for family, count in sorted(Counter(row.family for row in rows).items()):
        print(f"  {family:22} {count}")
