"""A corpus of (reference, model output, equal?) triples for the math grader, with known ground truth.

Built programmatically from templates (GSM8K-style word problems with chain-of-thought,
MATH-style LaTeX answers written in an equivalent or a wrong form, long reasoning traces)
plus hand-written cases. ``python benchmarks/math_corpus.py`` prints counts and a few rows.

The corpus was written alongside the grader, so it leans towards what rft math reads: treat its
accuracy figures as a regression check, not as an unbiased comparison.
"""

from __future__ import annotations

import random
from fractions import Fraction

__all__ = ["corpus"]

_NAMES = ["Natalia", "Weng", "Betty", "Julie", "James", "Albert", "Ken", "Alexis", "Tina", "Randy"]
_THINGS = ["clips", "apples", "marbles", "books", "stickers", "cookies", "pencils", "cards"]


def _gsm8k(rng: random.Random, count: int) -> list[tuple[str, str, bool]]:
    rows = []
    for index in range(count):
        name, thing = rng.choice(_NAMES), rng.choice(_THINGS)
        a, b, c = rng.randint(2, 90), rng.randint(2, 40), rng.randint(2, 9)
        kind = index % 4
        if kind == 0:
            answer = a + b * c
            steps = f"{name} starts with {a} {thing}. Each of {c} friends gives {b}, so {b} * {c} = {b * c}.\n{a} + {b * c} = {answer}."
        elif kind == 1:
            answer = (a * c) - b if a * c > b else a * c + b
            op = "-" if a * c > b else "+"
            steps = f"{name} buys {c} boxes of {a} {thing}: {a} * {c} = {a * c}. Then {a * c} {op} {b} = {answer}."
        elif kind == 2:
            answer = a * 1000 + b * 10
            steps = f"Revenue is {a} thousand dollars plus {b} * 10 = {b * 10}, so ${answer:,} in total."
        else:
            answer = Fraction(a * c, 4)
            steps = f"{name} splits {a} * {c} = {a * c} {thing} among 4 people: {a * c} / 4 = {float(answer):g}."
        right = index % 5 != 4  # four in five answers are right
        given = answer if right else answer + rng.choice([1, -1, 10, 2])
        shown = f"{float(given):g}" if isinstance(given, Fraction) and given.denominator != 1 else f"{int(given)}"
        if kind == 2 and right:
            shown = f"{int(given):,}"
        style = index % 6
        if style == 0:
            output = f"{steps}\n#### {shown}"
        elif style == 1:
            output = f"Let's think step by step. {steps}\nThe answer is {shown}."
        elif style == 2:
            output = f"{steps} So the final answer is **{shown}** {thing}."
        elif style == 3:
            output = f"{steps}\nAnswer: {shown}"
        elif style == 4:
            output = f"{steps} Therefore {name} has $\\boxed{{{shown}}}$ {thing}."
        else:
            output = f"{steps} That leaves {shown} {thing}."
        reference = f"{float(answer):g}" if isinstance(answer, Fraction) and answer.denominator != 1 else str(int(answer))
        rows.append((reference, output, right))
    return rows


# (reference, equivalent forms, wrong forms): MATH-style answers
_MATH_FORMS = [
    (r"\frac{3}{4}", [r"\dfrac{3}{4}", "0.75", r"\frac{6}{8}", "3/4"], [r"\frac{4}{3}", "0.7"]),
    (r"2\sqrt{3}", [r"\sqrt{12}", r"2 \sqrt 3", r"\sqrt{3} \cdot 2"], [r"3\sqrt{2}", r"\sqrt{6}"]),
    (r"\frac{\sqrt{3}}{2}", [r"\frac{\sqrt3}{2}", r"\frac{1}{2}\sqrt{3}", r"\sqrt{3}/2"], [r"\frac{\sqrt{2}}{2}", r"\frac{1}{2}"]),
    (r"x^2 - 1", [r"(x-1)(x+1)", r"(x+1)(x-1)", "x**2 - 1"], [r"(x-1)^2", r"x^2+1"]),
    (r"3\pi", [r"3 \pi", r"\pi \cdot 3", r"\frac{6\pi}{2}"], [r"2\pi", r"3"]),
    (r"(2, -1)", [r"(2,-1)", r"\left(2, -1\right)"], [r"(-1, 2)", r"(2, 1)"]),
    (r"\{1, 2, 3\}", [r"\{3, 2, 1\}", r"\{1,2,3\}"], [r"\{1, 2\}", r"\{1, 2, 4\}"]),
    (r"[2, 5)", [r"[2,5)", r"\left[2, 5\right)"], [r"(2, 5)", r"[2, 5]"]),
    (r"(-\infty, 3]", [r"(-\infty,3]", r"\left(-\infty, 3\right]"], [r"(-\infty, 3)", r"[3, \infty)"]),
    (r"2x + 3", [r"3 + 2x", r"x + x + 3"], [r"2x - 3", r"3x + 2"]),
    (r"\frac{1}{x+1}", [r"(x+1)^{-1}", r"\frac{2}{2x+2}"], [r"\frac{1}{x-1}", r"x+1"]),
    (r"12", [r"12", r"12.0", r"\frac{24}{2}"], [r"13", r"11"]),
    (r"-\frac{7}{2}", [r"-3.5", r"-\dfrac{7}{2}", r"\frac{-7}{2}"], [r"\frac{7}{2}", r"-3"]),
    (r"50\%", [r"50", r"0.5", r"\frac{1}{2}"], [r"5", r"25\%"]),
    (r"5\sqrt{2}", [r"\sqrt{50}", r"5 \sqrt{2}"], [r"5\sqrt{3}", r"\sqrt{10}"]),
    (r"\frac{\pi}{6}", [r"\pi/6", r"\frac{1}{6}\pi"], [r"\frac{\pi}{3}", r"\frac{1}{6}"]),
    (r"10", [r"10^\circ", r"10"], [r"100", r"1"]),
    (r"\sqrt[3]{2}", [r"2^{1/3}", r"2^{\frac{1}{3}}"], [r"\sqrt{2}", r"2^{1/2}"]),
    (r"6", [r"\binom{4}{2}", r"3!"], [r"\binom{4}{1}", r"4!"]),
    (r"x = 4", [r"4", r"x=4"], [r"x = -4", r"5"]),
    (r"1, -2", [r"-2, 1", r"x = 1, x = -2"], [r"1, 2", r"-1, 2"]),
    (r"\frac{9}{4}", [r"2\frac{1}{4}", r"2.25"], [r"2\frac{1}{2}", r"\frac{4}{9}"]),
    (r"4e", [r"4\cdot e", r"e \times 4"], [r"4", r"e^4"]),
    (r"y = 2x + 1", [r"y=1+2x", r"2x + 1"], [r"y = 2x - 1", r"y = x + 1"]),
    (r"\log_2 8", [r"3", r"\frac{\ln 8}{\ln 2}"], [r"8", r"2"]),
]

_PREFIXES = [
    "We compute the value directly.",
    "First simplify the expression, then substitute.",
    "Let me work through this carefully, keeping track of each term.",
    "By the quadratic formula and some algebra, we arrive at the result.",
]


def _math_style(rng: random.Random, count: int) -> list[tuple[str, str, bool]]:
    rows = []
    index = 0
    while len(rows) < count:
        reference, right_forms, wrong_forms = _MATH_FORMS[index % len(_MATH_FORMS)]
        right = index % 3 != 2
        form = rng.choice(right_forms if right else wrong_forms)
        prefix = rng.choice(_PREFIXES)
        style = index % 4
        if style == 0:
            output = f"{prefix} Therefore, the answer is $\\boxed{{{form}}}$."
        elif style == 1:
            output = f"{prefix}\n\nThe final answer is $\\boxed{{{form}}}$. I hope it is correct."
        elif style == 2:
            output = f"{prefix} So we get \\[ \\boxed{{{form}}} \\]"
        else:
            output = f"{prefix} The final answer is ${form}$."
        rows.append((reference, output, right))
        index += 1
    return rows


def _long_cot(rng: random.Random, count: int) -> list[tuple[str, str, bool]]:
    rows = []
    for index in range(count):
        a, b = rng.randint(3, 60), rng.randint(2, 30)
        numerator, denominator = a * b, b + a
        value = Fraction(numerator, denominator)
        lines = [f"Step {step}: consider the partial sum S_{step} = {a + step} + {b * step} = {a + step + b * step}." for step in range(1, 25)]
        lines.insert(5, f"We also note $\\frac{{{a}}}{{{b}}}$ is not needed, and $x_1 = {a}$, $x_2 = {b}$.")
        lines.append(f"Combining, the harmonic-style quantity is $\\frac{{{a} \\cdot {b}}}{{{a} + {b}}} = \\frac{{{numerator}}}{{{denominator}}}$.")
        right = index % 4 != 3
        shown = value if right else value + 1
        form = f"\\frac{{{shown.numerator}}}{{{shown.denominator}}}" if shown.denominator != 1 else str(shown.numerator)
        lines.append(f"Therefore the answer is $\\boxed{{{form}}}$.")
        reference = f"\\frac{{{value.numerator}}}{{{value.denominator}}}" if value.denominator != 1 else str(value.numerator)
        rows.append((reference, "\n".join(lines), right))
    return rows


# hand-written: (reference, output, equal?)
_HAND = [
    ("18", "Janet sells 16 - 3 - 4 = 9 duck eggs a day. She makes 9 * $2 = $18 every day.\n#### 18", True),
    ("3", "It takes 2/2=1 bolt of white fiber\nSo the total amount of fabric is 2+1=3 bolts of fiber\n#### 3", True),
    ("70000", "The cost of the house and repairs came out to 80,000+50,000=$130,000\nHe increased the value by $70,000.\n#### 70,000", True),
    ("540", "He sprints 3*3=9 times\nSo he runs 9*60=540 meters\n#### 540", True),
    ("20", "She gives 15 + 25 = 40 cups in the morning and afternoon, so she needs 60 - 40 = 20 more.\n#### 20", True),
    ("64", "The answer is 64 dollars.", True),
    ("260", "So Toulouse has 260 sheep. The answer is 260.", True),
    ("160", "The answer is: 150", False),
    ("45", "Therefore, **45** minutes.", True),
    ("5", "x = 5, so the answer is 5.", True),
    (r"\frac{14}{3}", r"The answer is $\boxed{\frac{14}{3}}$", True),
    (r"\left( 3, \frac{\pi}{2} \right)", r"So the point is $\boxed{\left( 3, \frac{\pi}{2} \right)}$.", True),
    (r"p - q", r"$\boxed{p-q}$", True),
    (r"\frac{2}{3}", r"The probability is $\boxed{\dfrac{2}{3}}$.", True),
    (r"9", r"$\sqrt{81} = \boxed{9}$", True),
    (r"\text{Evelyn}", r"The student with the greatest average speed is $\boxed{\text{Evelyn}}$.", True),
    (r"6 - 5i", r"$\boxed{6-5i}$", True),
    (r"2220", r"The number is $\boxed{2{,}220}$.", True),
    (r"\frac{243}{625}", r"$\boxed{\frac{243}{625}}$", True),
    (r"-2", r"Thus $a = \boxed{-2}$.", True),
    (r"\text{(C)}", r"The answer is $\boxed{\text{(C)}}$", True),
    (r"4 \sqrt{3}", r"$\boxed{4\sqrt3}$", True),
    (r"x \in [-2, 7]", r"$\boxed{[-2,7]}$", True),
    (r"1", r"The limit is $\boxed{2}$.", False),
    (r"\frac{1}{4}", r"$\boxed{0.25}$", True),
    (r"\frac{1}{3}", r"$\boxed{0.33}$", False),
    (r"1000", r"About $\boxed{10^3}$.", True),
    (r"\$ 32,348", r"$\boxed{\$32,348}$", True),
    (r"11\sqrt2", r"$\boxed{11\sqrt{2}}$", True),
    (r"90^\circ", r"$\boxed{90}$", True),
    (r"-1", r"Using Euler's formula, $\boxed{e^{i\pi}}$.", True),
    (r"5", r"$\boxed{(1+2i)(1-2i)}$", True),
    (r"0.3", r"$\boxed{0.1+0.2}$", True),
    (r"\frac{1}{2}", r"$\boxed{\cos(\pi/3)}$", True),
    (r"120", r"$\boxed{5!}$", True),
    (r"18", r"Total: \$18.00", True),
    (r"y = 2x + 1", r"$\boxed{2x - y + 1 = 0}$", True),
    (r"3", r"The answer is 3 because 1 + 2 = 3.", True),
    (r"12", r"The answer is 13.", False),
    (r"\frac{2}{3}", r"$\boxed{0.67}$", False),
    (r"\begin{pmatrix} 3 \\ -1 \end{pmatrix}", r"The vector is $\boxed{\begin{pmatrix} 3 \\ -1 \end{pmatrix}}$.", True),
    (r"\frac{1 \pm \sqrt{5}}{2}", r"$x = \boxed{\frac{1 \pm \sqrt{5}}{2}}$", True),
    # added as misses of rft math (repeating decimals, inequalities); the grader reads them since
    (r"\frac{1}{3}", r"$\boxed{0.\overline{3}}$", True),
    (r"(-\infty, 3)", r"$\boxed{x < 3}$", True),
]


def _clock(rng: random.Random) -> tuple[str, str, bool]:
    hour, minute = rng.randint(1, 12), rng.randint(0, 9)
    right = rng.random() < 0.6
    shown = (hour, minute) if right else (hour % 12 + 1, minute)
    return f"{hour}:{minute:02d}", f"They meet at $\\boxed{{{shown[0]}:{shown[1]:02d}}}$.", right


def _bounded_function(rng: random.Random) -> tuple[str, str, bool]:
    low, high = sorted(rng.sample(range(-9, 10), 2))
    right = rng.random() < 0.6
    opener = "(" if right else "["
    return f"{low} < f(x) < {high}", f"The range of $f$ is $\\boxed{{{opener}{low}, {high})}}$.", right


def _absolute(rng: random.Random) -> tuple[str, str, bool]:
    low, high = rng.randint(1, 5), rng.randint(6, 12)
    right = rng.random() < 0.6
    output = f"[-{high}, -{low}] \\cup [{low}, {high}]" if right else f"[{low}, {high}]"
    return f"{low} \\le |z| \\le {high}", f"So $z \\in \\boxed{{{output}}}$.", right


def _named_groups(rng: random.Random) -> tuple[str, str, bool]:
    (a, b), (c, d) = rng.sample(range(1, 20), 2), rng.sample(range(1, 20), 2)
    right = rng.random() < 0.6
    pairs = f"({c},{d}),({a},{b})" if right else f"({b},{a}),({c},{d})"
    return f"p={a},q={b};p={c},q={d}", f"The solutions are $\\boxed{{{pairs}}}$.", right


def _sequence(rng: random.Random) -> tuple[str, str, bool]:
    values = rng.sample(range(-20, 30), 3)
    if values in (sorted(values), sorted(values, reverse=True)):
        values[0], values[1] = values[1], values[0]  # written out of order: a sequence
    right = rng.random() < 0.6
    shown = values if right else [values[1], values[0], values[2]]
    return ", ".join(map(str, values)), f"In order: $\\boxed{{{', '.join(map(str, shown))}}}$.", right


def _wrapped_letter(rng: random.Random) -> tuple[str, str, bool]:
    letter, other = rng.sample("ABCDE", 2)
    right = rng.random() < 0.6
    wrapper = rng.choice(["\\mathrm", "\\textbf", "\\mathbf"])
    return letter, f"{wrapper}{{{letter if right else other}}}", right


def _flattened(rng: random.Random) -> tuple[str, str, bool]:
    a, b = rng.randint(2, 30), rng.randint(2, 30)
    right = rng.random() < 0.6
    shown = a * b if right else a * b + 1
    output = f"So, we can set up: n = {a} * m Now, with m = {b} we get n = {a * b} Therefore, the number of tiles is {shown}."
    return str(a * b), output, right


def _units_inside(rng: random.Random) -> tuple[str, str, bool]:
    a, b = rng.randint(2, 90), rng.randint(2, 90)
    right = rng.random() < 0.6
    unit = rng.choice(["cm", "degrees", "meters", "units"])
    return f"({a}, {b})", f"$\\boxed{{({a if right else b} {unit}, {b if right else a} {unit})}}$", right


def _escaped_twice(rng: random.Random) -> tuple[str, str, bool]:
    numerator, denominator = rng.randint(1, 9), rng.randint(2, 9)
    right = rng.random() < 0.6
    return f"\\frac{{{numerator}}}{{{denominator}}}", f"\\\\frac{{{numerator}}}{{{denominator + (0 if right else 1)}}}", right


def _reference_decimal_comma(rng: random.Random) -> tuple[str, str, bool]:
    whole, cents = rng.randint(1, 99), rng.randint(10, 99)
    right = rng.random() < 0.6
    return f"{whole},{cents}", f"Il reste {whole}.{cents if right else cents + 1} euros.", right


def _matrix_sum(rng: random.Random) -> tuple[str, str, bool]:
    a, b = [rng.randint(-9, 9) for _ in range(4)], [rng.randint(-9, 9) for _ in range(4)]
    right = rng.random() < 0.6
    total = [x + y + (0 if right or index else 1) for index, (x, y) in enumerate(zip(a, b))]

    def matrix(entries: list[int]) -> str:
        return f"\\begin{{pmatrix}} {entries[0]} & {entries[1]} \\\\ {entries[2]} & {entries[3]} \\end{{pmatrix}}"

    return matrix(total), f"The sum is ${matrix(a)} + {matrix(b)}$.", right


_FORM_CLASSES = [_clock, _matrix_sum, _bounded_function, _absolute, _named_groups, _sequence, _wrapped_letter, _flattened,
                 _units_inside, _escaped_twice, _reference_decimal_comma]  # fmt: skip


def _forms(rng: random.Random, count: int) -> list[tuple[str, str, bool]]:
    """The notation classes of other projects' suites, rendered with random values (see tests/test_math_forms.py)."""
    return [_FORM_CLASSES[index % len(_FORM_CLASSES)](rng) for index in range(count)]


def corpus(seed: int = 0) -> list[tuple[str, str, bool]]:
    """(reference, model output, equal?) triples: 674 rows, about seven in ten right."""
    rng = random.Random(seed)
    return _gsm8k(rng, 230) + _math_style(rng, 200) + _long_cot(rng, 100) + list(_HAND) + _forms(rng, 100)


if __name__ == "__main__":
    rows = corpus()
    print(f"{len(rows)} rows, {sum(row[2] for row in rows)} right answers")
    for row in rows[:: len(rows) // 8]:
        print(repr(row)[:200])
