"""Our own tokenizer and recursive-descent parser for answers in LaTeX or plain math.

Model text is never handed to ``eval``, ``sympify``, ``parse_expr`` or sympy's LaTeX
parser: it becomes a small tree of tuples (below), checked against size caps before
anything else sees it. ``_equiv`` turns a checked tree into sympy objects.

Nodes (tuples, first element the kind):
``("num", Fraction, is_decimal)``, ``("sym", name)``, ``("const", "pi"|"e"|"inf"|"i")``,
``("add", [terms])``, ``("mul", [factors])``, ``("neg", x)``, ``("div", a, b)``,
``("pow", base, exp)``, ``("func", name, [args])``, ``("pct", x)``, ``("eq", lhs, rhs)``,
``("list", [items])`` (bare commas), ``("tuple", [items])``, ``("set", [items])``,
``("interval", left_closed, a, b, right_closed)``, ``("union", [items])``; while parsing only,
``("pm", [plus, minus])`` for ``\\pm``, spread into a list of values before the caps are checked.

One module on purpose: the tokenizer, the grammar rules and the size caps work on one token
stream with one precedence order, and a rule is read against the rules it calls; split across
files the grammar would be harder to follow, not easier.
"""

from __future__ import annotations

import math
import re
import unicodedata
from fractions import Fraction

__all__ = ["Caps", "ParseFailure", "TooComplex", "approx", "clean", "exact", "parse", "parse_choice"]


class ParseFailure(ValueError):
    """The text is not an expression this parser reads."""


class TooComplex(ParseFailure):
    """The expression is over a cap (length, nodes, depth, exponent, factorial or digits)."""


class Caps:
    """Limits every answer is checked against before sympy sees it."""

    __slots__ = ("max_chars", "max_nodes", "max_depth", "max_exponent", "max_factorial", "max_digits")

    def __init__(
        self,
        max_chars: int = 2000,
        max_nodes: int = 400,
        max_depth: int = 60,
        max_exponent: int = 1000,
        max_factorial: int = 1000,
        max_digits: int = 10_000,
    ) -> None:
        self.max_chars = max_chars
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self.max_exponent = max_exponent
        self.max_factorial = max_factorial
        self.max_digits = max_digits

    def key(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Caps) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())


# --- cleaning: strings in, strings out ------------------------------------------------------------

_UNICODE = {
    "\u2212": "-", "\u2013": "-", "\u00d7": "*", "\u00f7": "/", "\u22c5": "*", "\u00b7": "*",
    "\u03c0": "\\pi ", "\u221e": "\\infty ", "\u221a": "\\sqrt", "\u00b0": "^\\circ", "\u2264": "\\le ",
    "\u2265": "\\ge ", "\u222a": "\\cup ", "\u00b1": "\\pm ", "\u00bd": "1/2", "\u2009": " ", "\u00a0": " ",
}  # fmt: skip
_UNICODE_RE = re.compile("|".join(map(re.escape, _UNICODE)))
_DROP = re.compile(
    r"\\(?:displaystyle|textstyle|left|right|bigl|bigr|Bigl|Bigr|big|Big|biggl|biggr|bigg|Bigg|!|,|;|:|quad|qquad"
    r"|limits|mathrm(?=\s*\{)|mathbf(?=\s*\{)|mathit(?=\s*\{)|textbf(?=\s*\{)|textit(?=\s*\{)|boldsymbol(?=\s*\{)"
    r"|operatorname(?=\s*\{))(?![A-Za-z])|(?<!\\)\\ |~"
)
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\degree(?![A-Za-z])|\\circ")
_TEXT = re.compile(r"\\(?:text|mbox|textrm|textnormal|mathrm)\s*\{([^{}]*)\}")
# a unit in \text{} right after a number: 10\text{ cm}^2, 5\mbox{ m} (not "1\text{ and }2")
_TEXT_UNIT = re.compile(
    r"(?<=[\d}])\s*\\(?:text|mbox|textrm|textnormal|mathrm|textbf|textit)\s*\{(?!\s*(?:and|or)\s*\})\s*[A-Za-z][A-Za-z .]*\}(?:\s*\^\s*\{?\d\}?)?"
)
_LESS_EQUAL = re.compile(r"\\leq?(?![A-Za-z])|\u2264|\\leqslant")
_GREATER_EQUAL = re.compile(r"\\geq?(?![A-Za-z])|\u2265|\\geqslant")
_REPEATING = re.compile(r"(\d*)\.(\d*)\\overline\s*(?:\{(\d{1,20})\}|(\d))")  # 0.1\overline{6} is 1/6


def _repeating_fraction(match: re.Match) -> str:
    whole, fixed, repeating = match.group(1) or "0", match.group(2), match.group(3) or match.group(4)
    if len(whole) + len(fixed) > 100:
        return match.group(0)  # left to the parser, which refuses it
    value = Fraction(int(whole)) + Fraction(int(fixed or "0"), 10 ** len(fixed))
    value += Fraction(int(repeating), (10 ** len(repeating) - 1) * 10 ** len(fixed))
    return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"


# the real line and the empty set, in the notations gold answers use
_REALS = re.compile(r"\\mathbb\s*\{?\s*R\s*\}?|\\R(?![A-Za-z])|\\text\s*\{\s*all real numbers\s*\}")
_EMPTY = re.compile(r"\\(?:emptyset|varnothing)(?![A-Za-z])|\\O(?![A-Za-z])|\\\{\s*\\\}")
# "\angle ABC = 30^\circ", "m\angle A =": the name of an angle or figure labels the value after it
_ANGLE = re.compile(r"^\s*(?:m\s*)?\\(?:angle|measuredangle|triangle)\s*[A-Z]{1,4}\s*=")
# set-builder notation over one variable: \{x \mid x > 3\} is the set x > 3 describes
_SET_BUILDER = re.compile(r"^\s*\\\{\s*[A-Za-z]\s*(?:\\in\s*\\mathbb\s*\{?\s*R\s*\}?\s*)?(?:\\mid|\||:)\s*(.+?)\s*\\\}\s*$")
_MEMBER = re.compile(r"^\s*[A-Za-z]\s*\\in(?![A-Za-z])\s*")  # "x \in [1, 2]" is the interval
_OR_AND = re.compile(r"\s*,?\s+(?:or|and)\s+|(?<=[)\]])\s*(?:or|and)\s*(?=[(\[])", re.I)  # "1, 2, and 3", "(1,2)or(2,1)"
_GLUED_QUAD = re.compile(r"\\q?quad(?=[A-Za-z])")  # "\quadx_2 = 5": the space command glued to a name
_SEMICOLON = re.compile(r"(?<!\\);")  # "(0;-2;6)", "-12;-11": a separator written as ; (after \; spacing is dropped)
_CURRENCY = re.compile(r"\\\$|\$|\bUSD\b|US\$|[€£¥₹]|\\euro|\\pounds|\\textdollar")
_THOUSANDS = re.compile(r"(?<![\d.])([1-9]\d{0,2})((?:,\d{3})+)(?![\d,])")
# one comma that cannot be a thousands separator (not 3 digits after it, or 0 before it): 2,74 may be 2.74
_DECIMAL_COMMA = re.compile(r"-?(?:0,\d+|\d+,(?!\d{3}$)\d+)")
_REFERENCE_DECIMAL_COMMA = re.compile(r"-?(?:0,\d+|\d+,\d\d)")
_THOUSANDS_BRACED = re.compile(r"(\d)\s?\{\s?,\s?\}\s?(\d)")  # 2{,}220, also spaced: 14 {, }916
_FRAC_DIGITS = re.compile(r"\\(d|t)?frac\s*(\d)\s*(\d)")
_FRAC_DIGIT_BRACE = re.compile(r"\\(d|t)?frac\s*(\d)\s*\{")
_FRAC_BRACE_DIGIT = re.compile(r"\\(d|t)?frac\s*(\{[^{}]*\})\s*(\d)")
_MATRIX_BEGIN = re.compile(r"\\begin\s*\{\s*(?:[pbB]?matrix|smallmatrix|array\s*\}\s*\{[^{}]{0,40})\s*\}")
_MATRIX_END = re.compile(r"\\end\s*\{\s*(?:[pbBv]?matrix|smallmatrix|array)\s*\}")
_DETERMINANT_BEGIN = re.compile(r"\\begin\s*\{\s*vmatrix\s*\}")
# MATH's gold answers separate thousands with ",\!" (11,\! 111,\! 100); some write a thin space "\,"
_THOUSANDS_LATEX = re.compile(r"(?<![\d.])(\d{1,3})((?:(?:,\s*\\!|\\,)\s*\d{3})+)(?![\d])")
# a number's base subscript: 4210_7, 1011_{2}, 12_{\text{3}}: the digits as written are the answer
_BASE = re.compile(r"(?<![\w\\])(\d+)_\s*(?:\{\s*(?:\\text\s*\{\s*)?\d{1,2}\s*\}?\s*\}|\d)")
# "2 \pmod{5}", "2 (\bmod 5)" after a residue: the residue is the answer (17 \bmod 5 is an operation)
_MODULUS = re.compile(r"(?:\\pmod\s*\{?\s*\d+\s*\}?|\(\s*\\(?:bmod|mod)\s*\{?\s*\d+\s*\}?\s*\))\s*$")
# "\\\\le" (a doubled backslash before a relation, as JSON-escaped gold answers have it) is \\le
_DOUBLED_BACKSLASH = re.compile(r"\\\\(?=(?:le|leq|ge|geq|neq|ne|in|frac|dfrac|sqrt|cdot|times|pi|infty)(?![A-Za-z]))")
# 1 000 000: digit groups separated by single spaces, when that is the whole answer
_SPACED_THOUSANDS = re.compile(r"-?\d{1,3}(?: \d{3})+")
_SQRT_DIGIT = re.compile(r"\\sqrt\s*(\d+)")  # \sqrt10 is written for \sqrt{10}
_KNOWN_WORDS = (
    "sqrt|pi|sin|cos|tan|cot|sec|csc|arcsin|arccos|arctan|asin|acos|atan|sinh|cosh|tanh|ln|log|exp|inf|infty"
    "|infinity|oo|abs|factorial|binomial|or|and"
)
# words after a number: "42 apples", "5 cm^2", "12 square units" (only after whitespace, so 2ab stays a product)
_TRAILING_WORDS = re.compile(rf"(?:\s+(?!(?:{_KNOWN_WORDS})\b)[A-Za-z]{{2,}}(?:\s*\^\s*\{{?\d\}}?)?\.?)+\s*$")
_WORD = re.compile(rf"(?<![\\A-Za-z])(?<!_\{{)(?!(?:{_KNOWN_WORDS})(?![A-Za-z]))[A-Za-z]{{3,}}")
_EDGE_PUNCT = re.compile(r"^[\s*_`]+|(?:[\s.,;:?*_`]|\\[,;:! ])+$")
_DELIMS = re.compile(r"^\s*(?:\$\$|\$|\\\[|\\\()\s*|\s*(?:\$\$|\$|\\\]|\\\))\s*$")


_ESCAPED_TWICE = re.compile(r"(?<!\\)\\\\[A-Za-z]")  # \\\\frac: every backslash written twice
_SINGLE_COMMAND = re.compile(r"(?<!\\)\\[A-Za-z]")  # \\frac: LaTeX written once
# a unit inside a list or brackets: "[45 degrees]", "{35 cm, 4}" (words of two letters or more after a number)
_INNER_UNIT = re.compile(rf"(?<=\d)\s+(?!(?:{_KNOWN_WORDS})\b)[A-Za-z]{{2,}}(?:\^\{{?\d\}}?)?(?=\s*(?:[,;\])}}]|\\\}}))")


def clean(text: str) -> str:
    """Normalise an extracted answer: delimiters, spacing commands, units, currency, separators."""
    text = unicodedata.normalize("NFKC", text)
    text = _UNICODE_RE.sub(lambda m: _UNICODE[m.group(0)], text)
    for _ in range(3):  # "$\boxed{...}$." peels in layers
        stripped = _DELIMS.sub("", _EDGE_PUNCT.sub("", text))
        if stripped == text:
            break
        text = stripped
    if _ESCAPED_TWICE.search(text) and not _SINGLE_COMMAND.search(text):  # "\\\\frac12" from a JSON dumped twice
        text = text.replace("\\\\", "\\")
    text = _DOUBLED_BACKSLASH.sub(r"\\", text)
    if _SPACED_THOUSANDS.fullmatch(text):
        text = text.replace(" ", "")
    text = _BASE.sub(r"\1", text)
    text = _TEXT_UNIT.sub(" ", text)
    text = _TEXT.sub(lambda m: " " + m.group(1) + " ", text)
    text = _MODULUS.sub("", text)
    text = _THOUSANDS_LATEX.sub(lambda m: m.group(1) + re.sub(r"[^\d]", "", m.group(2)), text)
    text = _SET_BUILDER.sub(r"\1", text)
    text = _REALS.sub(r"(-\\infty, \\infty)", text)
    text = _EMPTY.sub(r"\\{\\}", text)
    text = _ANGLE.sub("", text)
    text = _MEMBER.sub("", text)
    text = _LESS_EQUAL.sub("<=", _GREATER_EQUAL.sub(">=", text))
    text = _REPEATING.sub(_repeating_fraction, text)
    text = _OR_AND.sub(", ", text)
    text = _DROP.sub(" ", _GLUED_QUAD.sub(" ", text))
    text = _SEMICOLON.sub(",", text)
    text = _DEGREES.sub(" \\\\degree ", text)  # dropped, or pi/180 inside a trig function
    text = _CURRENCY.sub("", text)
    text = text.replace("\\%", "%").replace("\\{", "\\lbrace ").replace("\\}", "\\rbrace ")
    text = _THOUSANDS_BRACED.sub(r"\1\2", text)
    text = _FRAC_DIGITS.sub(r"\\frac{\2}{\3}", text)
    text = _FRAC_DIGIT_BRACE.sub(r"\\frac{\2}{", text)
    text = _FRAC_BRACE_DIGIT.sub(r"\\frac\2{\3}", text)
    text = _SQRT_DIGIT.sub(r"\\sqrt{\1}", text)
    text = _MATRIX_BEGIN.sub(" \\\\matrixbegin ", text)
    text = _DETERMINANT_BEGIN.sub(" \\\\detbegin ", text)
    text = _MATRIX_END.sub(" \\\\matrixend ", text)
    text = _INNER_UNIT.sub("", text)
    words = _TRAILING_WORDS.search(text)
    if words is not None and any(char.isdigit() for char in text[: words.start()]):
        text = text[: words.start()]
    word = _WORD.search(text)  # "5 because she had 3 left": the answer ends where the prose starts
    if word is not None and any(char.isdigit() for char in text[: word.start()]):
        text = text[: word.start()]
    text = _EDGE_PUNCT.sub("", text).strip()
    if _THOUSANDS.search(text) and "(" not in text and "[" not in text and "lbrace" not in text:
        text = _THOUSANDS.sub(lambda m: m.group(1) + m.group(2).replace(",", ""), text)
    return text


# --- multiple choice --------------------------------------------------------------------------

_CHOICE = re.compile(
    r"^\s*(?:\(?\s*(?:option|choice|answer)\s*:?\s*)?[\(\[]?\s*([A-J])\s*[\)\]]?\s*(?:[.:)]\s*.*)?$", re.I | re.S
)


def parse_choice(text: str, strict: bool = False) -> str | None:
    """The choice letter in ``B``, ``(B)``, ``option B``, ``B) 42``; None when there is none."""
    text = _TEXT.sub(r"\1", unicodedata.normalize("NFKC", text)).strip().strip("$*` ")
    if strict:
        match = re.fullmatch(r"\(?\s*([A-J])\s*\)?", text)
        return match.group(1) if match else None
    match = _CHOICE.match(text)
    if match is None:
        return None
    letter = match.group(1)
    if letter.islower() and not re.search(r"(?i)option|choice|answer|\(", text[: match.end(1)]):
        return None  # a bare lower-case "a" is a variable, not a choice
    return letter.upper()


# --- tokens -------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+(?![A-Za-z]))?|\.\d+(?:[eE][+-]?\d+(?![A-Za-z]))?)"
    r"|(?P<cmd>\\[A-Za-z]+|\\[{}|]|\\\\)"
    r"|(?P<word>[A-Za-z]+)"
    r"|(?P<op>\*\*|!=|[-+*/^_(){}\[\],=!|%'&<>:])"
    r")"
)
_FUNCS = {"sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
          "ln", "log", "exp"}  # fmt: skip
_PLAIN_OPS = {"**": "^", "!=": "\u2260"}
_PLAIN_FUNCS = _FUNCS | {"sqrt", "abs", "factorial", "asin", "acos", "atan", "binomial"}
_PLAIN_CONSTS = {"pi": ("const", "pi"), "inf": ("const", "inf"), "infty": ("const", "inf"), "oo": ("const", "inf"),
                 "infinity": ("const", "inf")}  # fmt: skip
_CMD_OPS = {"\\cdot": "*", "\\times": "*", "\\ast": "*", "\\div": "/", "\\lbrace": "\\{", "\\rbrace": "\\}",
            "\\{": "\\{", "\\}": "\\}", "\\lvert": "|", "\\rvert": "|", "\\vert": "|", "\\|": "|", "\\mid": "|",
            "\\cup": "\\cup", "\\to": "=", "\\Rightarrow": "=", "\\pm": "\u00b1", "\\mp": "\u00b1",
            "\\lt": "<", "\\gt": ">", "\\colon": ":", "\\neq": "\u2260", "\\ne": "\u2260", "\\approx": "\u2248",
            "\\equiv": "=", "\\simeq": "=", "\\rightarrow": "=", "\\bmod": "mod", "\\mod": "mod"}  # fmt: skip
_LETTER_CMDS = {"\\alpha", "\\beta", "\\gamma", "\\delta", "\\theta", "\\lambda", "\\mu", "\\sigma", "\\phi",
                "\\omega", "\\epsilon", "\\varepsilon", "\\tau", "\\rho", "\\eta", "\\psi", "\\xi", "\\zeta",
                "\\nu", "\\kappa", "\\chi", "\\iota", "\\upsilon", "\\varphi", "\\vartheta", "\\Gamma", "\\Delta",
                "\\Theta", "\\Lambda", "\\Xi", "\\Sigma", "\\Upsilon", "\\Phi", "\\Psi", "\\Omega"}  # fmt: skip


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    end = len(text.rstrip())
    while position < end:
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ParseFailure(f"unexpected character {text[position:].lstrip()[:1]!r}")
        position = match.end()
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "op":
            tokens.append(("op", _PLAIN_OPS.get(value, value)))
        elif kind == "cmd":
            if value in _CMD_OPS:
                tokens.append(("op", _CMD_OPS[value]))
            elif value in ("\\dfrac", "\\tfrac", "\\cfrac"):
                tokens.append(("cmd", "\\frac"))
            elif value in ("\\dbinom", "\\tbinom"):
                tokens.append(("cmd", "\\binom"))
            else:
                tokens.append(("cmd", value))
        elif kind == "word":
            tokens.extend(_split_word(value))
        else:
            tokens.append(("num", value))
    return tokens


def _split_word(word: str) -> list[tuple[str, str]]:
    lower = word.lower()
    if lower in _PLAIN_FUNCS or lower in _PLAIN_CONSTS:
        return [("word", lower)]
    return [("word", letter) for letter in word]  # "xy" is x times y, as in LaTeX


# --- parser ---------------------------------------------------------------------------------

_ATOM_START_OPS = {"(", "[", "{", "\\{", "|"}


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], caps: Caps) -> None:
        self.tokens = tokens
        self.position = 0
        self.caps = caps
        self.nodes = 0
        self.depth = 0
        self.in_abs = 0
        self.in_trig = 0
        self.plus_minus = False

    # helpers
    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def at(self, kind: str, value: str | None = None) -> bool:
        token = self.peek()
        return token is not None and token[0] == kind and (value is None or token[1] == value)

    def at_op(self, *values: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "op" and token[1] in values

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ParseFailure("unexpected end of expression")
        self.position += 1
        return token

    def expect(self, value: str) -> None:
        token = self.peek()
        if token is None or token[0] != "op" or token[1] != value:
            found = "end of expression" if token is None else repr(token[1])
            raise ParseFailure(f"expected {value!r}, found {found}")
        self.position += 1

    def node(self, *parts) -> tuple:
        self.nodes += 1
        if self.nodes > self.caps.max_nodes:
            raise TooComplex(f"expression has over max_nodes={self.caps.max_nodes} nodes")
        return parts

    def enter(self) -> None:
        self.depth += 1
        if self.depth > self.caps.max_depth:
            raise TooComplex(f"expression nests deeper than max_depth={self.caps.max_depth}")

    # grammar
    def parse(self) -> tuple:
        if not self.tokens:
            raise ParseFailure("empty answer")
        result = self.sequence(closers=())
        if self.peek() is not None:
            raise ParseFailure(f"unexpected {self.peek()[1]!r}")
        return result

    def sequence(self, closers: tuple[str, ...]) -> tuple:
        items = [self.equation()]
        while self.at_op(","):
            self.take()
            if self.peek() is None or self.at_op(*closers):
                break  # a trailing comma
            items.append(self.equation())
        return items[0] if len(items) == 1 else self.node("list", items)

    def equation(self) -> tuple:
        left = self.ratio()
        if self.at_op("<", ">"):
            return self.inequality(left)
        if self.at_op("\u2260"):  # x \neq 3 is the line without 3
            self.take()
            _, value, _ = self.isolated(left, self.ratio())
            infinity = self.node("const", "inf")
            below = self.node("interval", False, self.node("neg", infinity), value, False)
            return self.node("union", [below, self.node("interval", False, value, infinity, False)])
        if self.at_op("=", "\u2248"):
            return self.chain(left)
        return left

    def chain(self, left: tuple) -> tuple:
        """x = 2 + 1 = 3 is ("eq", x, 3): the last side is the value. With \\approx, the last exact side
        and the approximation are both kept: x = 1/3 \\approx 0.33 is ("eq", x, ("approx", [1/3, 0.33]))."""
        exact = approximation = None
        while self.at_op("=", "\u2248"):
            op = self.take()[1]
            side = self.ratio()
            if op == "=":
                exact = side
            else:
                approximation = side
        if exact is None and is_constant(left):  # \\frac{2}{3} \\approx 0.67
            return self.node("approx", [left, approximation])
        if exact is None or approximation is None:
            return self.node("eq", left, exact or approximation)
        return self.node("eq", left, self.node("approx", [exact, approximation]))

    def ratio(self) -> tuple:
        """a : b (also \\colon) is the quotient a / b: 7:32, V_1:V_2. A clock time is not a ratio."""
        left = self.union()
        if not self.at_op(":"):
            return left
        self.take()
        minutes = self.peek()
        if _is_int_literal(left) and minutes is not None and _CLOCK_MINUTES.fullmatch(minutes[1]):
            self.take()  # 12:00, 3:05: minutes no ratio would write (12:00 would be 12/0)
            return self.node("sym", f"clock_{left[1]}_{minutes[1]}")
        return self.node("div", left, self.union())

    def inequality(self, left: tuple) -> tuple:
        """x < 3, -x \\ge 2, 3 > 2x + 1, -1 < x \\le 4 (one variable, linear) as the interval they describe."""
        sides, ops = [left], []
        while self.at_op("<", ">") and len(ops) < 2:
            op = self.take()[1]
            closed = self.at_op("=")
            if closed:
                self.take()
            ops.append((op, closed))
            sides.append(self.ratio())
        if self.at_op("<", ">", "="):
            raise ParseFailure("only one variable between at most two inequalities is supported")
        if len(ops) == 1:
            (op, closed), (a, b) = ops[0], sides
            if is_constant(a) and not is_constant(b):  # 3 > x reads as x < 3
                a, b, op = b, a, _FLIPPED[op]
            bounds = [self.bound(a, op, closed, b)]
        else:
            (first, first_closed), (second, second_closed) = ops
            if first != second:
                raise ParseFailure("a double inequality must read a < x < b or a > x > b")
            bounds = [self.bound(sides[1], _FLIPPED[first], first_closed, sides[0]),
                      self.bound(sides[1], second, second_closed, sides[2])]  # fmt: skip
            if bounds[0][0] != bounds[1][0] or bounds[0][1] == bounds[1][1]:
                raise ParseFailure("a double inequality must bound one variable from both sides")
        infinity = self.node("const", "inf")
        lower: tuple = (True, self.node("neg", infinity), False)
        upper: tuple = (False, infinity, False)
        for _, op, value, closed in bounds:
            if op == ">":
                lower = (True, value, closed)
            else:
                upper = (False, value, closed)
        if bounds[0][0][0] == "func":  # |z|: the values whose distance from 0 is in the interval
            return self.absolute_interval(lower, upper)
        return self.node("interval", lower[2], lower[1], upper[1], upper[2])

    def absolute_interval(self, lower: tuple, upper: tuple) -> tuple:
        """a <= |z| <= b as [-b, -a] \\cup [a, b]; |z| < b as (-b, b); |z| > a as (-inf, -a) \\cup (a, inf)."""
        _, low, low_closed = lower
        _, high, high_closed = upper
        if low[0] == "neg" and low[1] == ("const", "inf") or approx(low) < 0 or (approx(low) == 0 and low_closed):
            return self.node("interval", high_closed, self.node("neg", high), high, high_closed)
        if approx(high) < approx(low):
            raise ParseFailure("an inequality on |x| with an empty range")
        below = self.node("interval", high_closed, self.node("neg", high), self.node("neg", low), low_closed)
        return self.node("union", [below, self.node("interval", low_closed, low, high, high_closed)])

    def bound(self, side: tuple, op: str, closed: bool, value: tuple) -> tuple:
        """``side op value`` solved for its variable: (variable, op, bound, closed)."""
        variable, bound, flipped = self.isolated(side, value)
        return variable, _FLIPPED[op] if flipped else op, bound, closed

    def isolated(self, side: tuple, value: tuple) -> tuple:
        """Solve ``side = value`` for the one variable in a linear ``side``: (variable, bound, sign flipped?)."""
        if not is_constant(value):
            raise ParseFailure("an inequality must compare one variable with values")
        flipped = False
        while not _is_variable(side):
            kind = side[0]
            if kind == "neg":
                side, value, flipped = side[1], self.node("neg", value), not flipped
                continue
            if kind in ("mul", "add"):
                rest = [part for part in side[1] if not is_constant(part)]
                constants = [part for part in side[1] if is_constant(part)]
                if len(rest) != 1:
                    break
                if kind == "add":
                    value = self.node("add", [value, *(self.node("neg", part) for part in constants)])
                else:
                    coefficient = exact(self.node("mul", constants))
                    if not coefficient:
                        break
                    value = self.node("div", value, self.node("mul", constants))
                    flipped ^= coefficient < 0
                side = rest[0]
                continue
            if kind == "div" and is_constant(side[2]) and exact(side[2]):
                value, flipped = self.node("mul", [value, side[2]]), flipped ^ (exact(side[2]) < 0)
                side = side[1]
                continue
            break
        if not _is_variable(side):
            raise ParseFailure("an inequality must have one variable, in a linear expression, on one side")
        return side, value, flipped

    def union(self) -> tuple:
        left = self.expression()
        if not self.at_op("\\cup"):
            return left
        items = [left]
        while self.at_op("\\cup"):
            self.take()
            items.append(self.expression())
        return self.node("union", items)

    def expression(self) -> tuple:
        self.enter()
        terms: list[tuple] = []
        plus_minus = None  # index of the one term written with \pm or \mp
        if self.at_op("\u00b1"):
            self.take()
            plus_minus = 0
            self.plus_minus = True
        terms.append(self.term())
        while self.at_op("+", "-", "\u00b1"):
            op = self.take()[1]
            term = self.term()
            if op == "\u00b1":
                if plus_minus is not None:
                    raise ParseFailure("only one \\pm per expression is supported")
                plus_minus = len(terms)
                self.plus_minus = True
            terms.append(self.node("neg", term) if op == "-" else term)
        self.depth -= 1
        if plus_minus is None:
            return terms[0] if len(terms) == 1 else self.node("add", terms)
        minus = list(terms)  # 1 \pm \sqrt{2} is the two values 1 + \sqrt{2} and 1 - \sqrt{2}
        minus[plus_minus] = self.node("neg", terms[plus_minus])
        both = [variant[0] if len(variant) == 1 else self.node("add", variant) for variant in (terms, minus)]
        return self.node("pm", both)

    def term(self) -> tuple:
        factors = [self.unary()]
        while True:
            if self.at_op("mod"):  # 17 \bmod 5
                self.take()
                factors = [self.node("func", "mod", [_product(self, factors), self.unary()])]
            elif self.at_op("*", "/"):
                op = self.take()[1]
                right = self.unary()
                if op == "/":
                    factors = [self.node("div", _product(self, factors), right)]
                else:
                    factors.append(right)
            elif len(factors) == 1 and self.plain_mixed_fraction(factors[0]):  # "1 1/2": one and a half
                numerator, _, denominator = self.take(), self.take(), self.take()
                fraction = self.node("div", self.number(numerator[1]), self.number(denominator[1]))
                factors = [_mixed(self, factors[0], fraction)]
            elif self.starts_atom() and not (self.at("num") and factors[-1][0] == "num"):  # "1.2.3", "2 3"
                right = self.unary(implicit=True)
                if len(factors) == 1 and _is_mixed_number(factors[0], right):
                    factors = [_mixed(self, factors[0], right)]
                else:
                    factors.append(right)
            else:
                return _product(self, factors)

    def plain_mixed_fraction(self, whole: tuple) -> bool:
        """True before ``1/2`` in ``1 1/2``: a whole number, a space, then a proper fraction of digits."""
        tokens = [self.peek(offset) for offset in range(4)]
        if not (tokens[0] and tokens[1] and tokens[2]) or tokens[0][0] != "num" or tokens[1] != ("op", "/"):
            return False
        if tokens[2][0] != "num" or not (tokens[0][1].isdigit() and tokens[2][1].isdigit()):
            return False
        if tokens[3] is not None and not (tokens[3][0] == "op" and tokens[3][1] in ("+", "-", ",")):
            return False
        return _is_int_literal(whole[1] if whole[0] == "neg" else whole) and 0 < int(tokens[0][1]) < int(tokens[2][1])

    def starts_atom(self) -> bool:
        token = self.peek()
        if token is None:
            return False
        kind, value = token
        if kind in ("num", "word"):
            return True
        if kind == "cmd":
            return value not in ("\\matrixend", "\\degree", "\\\\", "\\le", "\\ge", "\\lt", "\\gt", "\\leq", "\\geq", "\\neq", "\\ne", "\\pm", "\\mp")
        if value == "|":
            return self.in_abs == 0
        return value in _ATOM_START_OPS - {"|"}

    def at_function(self) -> bool:
        token = self.peek()
        return token is not None and (
            (token[0] == "cmd" and (token[1][1:] in _FUNCS or token[1] in ("\\exp", "\\lim", "\\frac", "\\sqrt")))
            or (token[0] == "word" and token[1] in _PLAIN_FUNCS)
        )

    def unary(self, implicit: bool = False) -> tuple:
        if not implicit and self.at_op("-", "+"):
            op = self.take()[1]
            self.enter()
            operand = self.unary()
            self.depth -= 1
            return self.node("neg", operand) if op == "-" else operand
        return self.power()

    def power(self) -> tuple:
        base = self.postfix()
        if self.at_op("^"):
            self.take()
            self.enter()
            exponent = self.exponent()
            self.depth -= 1
            base = self.node("pow", base, exponent)
            base = self.postfixes(base)
        return base

    def exponent(self) -> tuple:
        if self.at_op("{"):
            return self.group("{", "}")
        if self.at_op("-", "+"):
            op = self.take()[1]
            operand = self.exponent()
            return self.node("neg", operand) if op == "-" else operand
        if self.at("num"):  # x^23 in LaTeX is x^2 * 3; plain x^23 is x^23: keep the plain reading
            return self.atom()
        return self.power()

    def postfix(self) -> tuple:
        return self.postfixes(self.atom())

    def postfixes(self, node: tuple) -> tuple:
        while self.at_op("!", "%", "'") or self.at("cmd", "\\degree"):
            op = self.take()[1]
            if op == "\\degree":  # 30^\circ: pi/180 inside a trig function, dropped elsewhere (an angle's number)
                if self.in_trig:
                    node = self.node("mul", [node, self.node("div", self.node("const", "pi"), self.node("num", Fraction(180), False))])
                continue
            if op == "'":
                raise ParseFailure("primes (derivatives) are not supported")
            node = self.node("func", "factorial", [node]) if op == "!" else self.node("pct", node)
        return node

    def group(self, opener: str, closer: str) -> tuple:
        self.expect(opener)
        self.enter()
        inner = self.sequence(closers=(closer,))
        self.depth -= 1
        self.expect(closer)
        return inner

    def argument(self) -> tuple:
        """A LaTeX macro argument: {group}, one digit, one letter or a command."""
        if self.at_op("{"):
            return self.group("{", "}")
        token = self.peek()
        if token is not None and token[0] == "num":
            self.take()
            return self.number(token[1])
        return self.atom()

    def atom(self) -> tuple:
        token = self.take()
        kind, value = token
        if kind == "num":
            return self.number(value)
        if kind == "word":
            return self.word(value)
        if kind == "cmd":
            return self.command(value)
        if value == "(" or value == "[":
            return self.bracketed(value)
        if value == "{":  # LaTeX grouping braces are invisible: {1, 3} reads as the list 1, 3
            self.position -= 1
            return self.group("{", "}")
        if value == "\\{":
            self.enter()
            if self.at_op("\\}"):
                self.take()
                self.depth -= 1
                return self.node("set", [])
            inner = self.sequence(closers=("\\}",))
            self.depth -= 1
            self.expect("\\}")
            return self.node("set", inner[1] if inner[0] == "list" else [inner])
        if value == "|":
            self.in_abs += 1
            self.enter()
            inner = self.expression()
            self.depth -= 1
            self.in_abs -= 1
            self.expect("|")
            return self.node("func", "abs", [inner])
        raise ParseFailure(f"unexpected {value!r}")

    def bracketed(self, opener: str) -> tuple:
        self.enter()
        inner = self.sequence(closers=(")", "]"))
        self.depth -= 1
        closer = self.take()[1] if self.at_op(")", "]") else None
        if closer is None:
            raise ParseFailure(f"unclosed {opener!r}")
        if inner[0] == "list":
            items = inner[1]
            if len(items) == 2 and (opener == "[" or closer == "]"):
                return self.node("interval", opener == "[", items[0], items[1], closer == "]")
            return self.node("tuple", items)
        if opener != "(" or closer != ")":
            if opener == "[" and closer == "]":
                return inner  # [x] as grouping
            raise ParseFailure(f"mismatched brackets {opener!r} and {closer!r}")
        return inner

    def number(self, text: str) -> tuple:
        mantissa, _, exponent = text.lower().partition("e")
        digits = len(mantissa) - mantissa.count(".")
        if digits > self.caps.max_digits:
            raise TooComplex(f"a number has over max_digits={self.caps.max_digits} digits")
        value = Fraction(mantissa) if mantissa not in (".", "") else Fraction(0)
        if exponent:
            power = int(exponent)
            if abs(power) > self.caps.max_exponent:
                raise TooComplex(f"an exponent is over max_exponent={self.caps.max_exponent}")
            value *= Fraction(10) ** power
        return self.node("num", value, "." in mantissa or bool(exponent))

    def word(self, value: str) -> tuple:
        if value in _PLAIN_CONSTS:
            return self.node(*_PLAIN_CONSTS[value])
        if value in _PLAIN_FUNCS:
            if not self.at_op("("):
                if value in _FUNCS:
                    return self.function(value)
                raise ParseFailure(f"{value} needs parentheses")
            self.take()
            self.enter()
            args = self.sequence(closers=(")",))
            self.depth -= 1
            self.expect(")")
            args = args[1] if args[0] == "list" else [args]
            name = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "binomial": "binom"}.get(value, value)
            arity = 2 if name == "binom" else (1, 2) if name == "log" else 1
            if len(args) not in (arity if isinstance(arity, tuple) else (arity,)):
                raise ParseFailure(f"{value} takes {arity} argument(s)")
            if name == "log" and len(args) == 2:
                return self.node("func", "logb", [args[0], args[1]])
            return self.node("func", name, args)
        if value == "e" or value == "i":  # Euler's number and the imaginary unit
            return self.node("const", value)
        return self.symbol(value)

    def symbol(self, name: str) -> tuple:
        if self.at_op("_"):
            self.take()
            if self.at_op("{"):
                start = self.position
                self.group("{", "}")
                subscript = "".join(value for _, value in self.tokens[start + 1 : self.position - 1])
            else:
                subscript = self.take()[1]
            name = f"{name}_{subscript}"
        return self.node("sym", name)

    def command(self, value: str) -> tuple:
        if value == "\\frac":
            numerator = self.argument()
            denominator = self.argument()
            return self.node("div", numerator, denominator)
        if value == "\\binom":
            return self.node("func", "binom", [self.argument(), self.argument()])
        if value == "\\sqrt":
            if self.at_op("["):
                self.take()
                index = self.expression()
                self.expect("]")
                return self.node("func", "root", [self.argument(), index])
            return self.node("func", "sqrt", [self.argument()])
        if value == "\\pi":
            return self.node("const", "pi")
        if value == "\\matrixbegin":
            return self.matrix()
        if value == "\\detbegin":
            return self.determinant()
        if value == "\\lim":
            return self.limit()
        if value == "\\infty":
            return self.node("const", "inf")
        if value in ("\\exp",) or value[1:] in _FUNCS:
            return self.function(value[1:])
        if value in _LETTER_CMDS:
            return self.symbol(value[1:])
        if value == "\\lfloor" or value == "\\lceil":
            inner = self.expression()
            closer = self.take()
            if closer != ("cmd", value.replace("\\l", "\\r")):
                raise ParseFailure(f"unclosed {value}")
            return self.node("func", "floor" if value == "\\lfloor" else "ceiling", [inner])
        if value in ("\\boxed", "\\fbox", "\\mathrm", "\\mathbf", "\\text", "\\mathit", "\\textbf"):
            return self.group("{", "}")
        raise ParseFailure(f"unsupported command {value}")

    def limit(self) -> tuple:
        """\\lim_{x \\to a} f: ("func", "lim", [f, x, a])."""
        self.expect("_")
        approach = self.argument()
        if approach[0] != "eq" or approach[1][0] != "sym":
            raise ParseFailure("\\lim needs a subscript like {x \\to 0}")
        self.enter()
        body = self.term()
        self.depth -= 1
        return self.node("func", "lim", [body, approach[1], approach[2]])

    def determinant(self) -> tuple:
        """vmatrix: the determinant of a 2x2 or 3x3 matrix, as a sum of products."""
        rows = self.rows()
        size = len(rows)
        if size not in (2, 3) or any(len(row) != size for row in rows):
            raise ParseFailure("only 2x2 and 3x3 determinants (vmatrix) are supported")
        if size == 2:
            (a, b), (c, d) = rows
            return self.node("add", [self.node("mul", [a, d]), self.node("neg", self.node("mul", [b, c]))])
        terms = []
        for column, sign in ((0, 1), (1, -1), (2, 1)):
            others = [index for index in range(3) if index != column]
            minor = self.node("add", [self.node("mul", [rows[1][others[0]], rows[2][others[1]]]),
                                      self.node("neg", self.node("mul", [rows[1][others[1]], rows[2][others[0]]]))])  # fmt: skip
            term = self.node("mul", [rows[0][column], minor])
            terms.append(term if sign > 0 else self.node("neg", term))
        return self.node("add", terms)

    def matrix(self) -> tuple:
        """pmatrix/bmatrix/array: a column or row vector is a tuple; a matrix is a tuple of row tuples."""
        rows = self.rows()
        if all(len(row) == 1 for row in rows):
            return self.node("tuple", [row[0] for row in rows])
        if len(rows) == 1:
            return self.node("tuple", rows[0])
        if len({len(row) for row in rows}) != 1:
            raise ParseFailure("matrix rows have different lengths")
        return self.node("tuple", [self.node("tuple", row) for row in rows])

    def rows(self) -> list[list[tuple]]:
        """The cells of a matrix environment (after its \\begin), up to and including its \\end."""
        self.enter()
        rows: list[list[tuple]] = [[self.expression()]]
        while True:
            if self.at_op("&"):
                self.take()
                rows[-1].append(self.expression())
            elif self.at("cmd", "\\\\"):
                self.take()
                if not self.at("cmd", "\\matrixend"):
                    rows.append([self.expression()])
            elif self.at("cmd", "\\matrixend"):
                self.take()
                break
            else:
                raise ParseFailure("unclosed matrix")
        self.depth -= 1
        return rows

    def function(self, name: str) -> tuple:
        base = None
        if name == "log" and self.at_op("_"):
            self.take()
            base = self.argument()
        power = None
        if self.at_op("^"):  # \sin^2 x is (\sin x)^2
            self.take()
            power = self.exponent()
        trig = name not in ("log", "ln", "exp")
        self.in_trig += trig
        self.enter()  # \\sin\\sin\\sin... nests
        if self.at_op("(") or self.at_op("{"):
            opener = self.peek()[1]
            argument = self.group(opener, ")" if opener == "(" else "}")
        else:  # \\cos 2x is cos(2x): the factors written after the name, up to the next function
            factors = [self.unary(implicit=True)]
            while self.starts_atom() and not self.at_function() and not (self.at("num") and factors[-1][0] == "num"):
                factors.append(self.unary(implicit=True))
            argument = _product(self, factors)
        self.depth -= 1
        self.in_trig -= trig
        node = self.node("func", "logb", [argument, base]) if base is not None else self.node("func", name, [argument])
        return self.node("pow", node, power) if power is not None else node


_FLIPPED = {"<": ">", ">": "<"}
_CLOCK_MINUTES = re.compile(r"0\d")  # the minutes of a clock time: 00-09, never a ratio's second term


def _product(parser: _Parser, factors: list[tuple]) -> tuple:
    return factors[0] if len(factors) == 1 else parser.node("mul", factors)


def _is_variable(node: tuple) -> bool:
    """What an inequality may bound: a symbol, a function of a symbol written f(x), or |x|."""
    kind = node[0]
    if kind == "sym":
        return True
    if kind == "mul":  # f(x): two symbols, the first a one-letter function name
        parts = node[1]
        return len(parts) == 2 and all(part[0] == "sym" for part in parts) and parts[0][1] in "fgh"
    return kind == "func" and node[1] == "abs" and node[2][0][0] == "sym"


def _is_int_literal(node: tuple) -> bool:
    return node[0] == "num" and not node[2] and node[1].denominator == 1


def _is_mixed_number(left: tuple, right: tuple) -> bool:
    whole = left[1] if left[0] == "neg" else left
    return (
        _is_int_literal(whole)
        and right[0] == "div"
        and _is_int_literal(right[1])
        and _is_int_literal(right[2])
        and 0 < right[1][1] < right[2][1]
    )


def _mixed(parser: _Parser, left: tuple, fraction: tuple) -> tuple:
    negative = left[0] == "neg"
    whole = left[1] if negative else left
    value = whole[1] + fraction[1][1] / fraction[2][1]
    number = parser.node("num", value, False)
    return parser.node("neg", number) if negative else number


def parse(text: str, caps: Caps | None = None, decimal_comma: bool = True) -> tuple:
    """The tree of a cleaned answer; raises ParseFailure (or TooComplex) for what it cannot read."""
    caps = caps or Caps()
    if len(text) > caps.max_chars:
        raise TooComplex(f"answer has {len(text):,} characters, over max_chars={caps.max_chars:,}")
    if not text.isascii():
        bad = next(char for char in text if not char.isascii())
        raise ParseFailure(f"unsupported character {bad!r} (U+{ord(bad):04X})")
    word = _WORD.search(text)
    if word is not None:  # "Monday", "because": text, not a product of single-letter symbols
        raise ParseFailure(f"{word.group(0)!r} is a word, not math")
    parser = _Parser(_tokenize(text), caps)
    tree = parser.parse()
    if parser.plus_minus:
        tree = _spread_plus_minus(tree)
    tree = _matrix_sum(tree)
    # "2,74" in an answer: the pair, or a decimal comma; either reading may match. In a reference only
    # "0,111" and "1,22" (two decimals) are read so: a gold pair "3,4" must not accept 3.4 (a false pass
    # is worse than a false fail).
    if (_DECIMAL_COMMA if decimal_comma else _REFERENCE_DECIMAL_COMMA).fullmatch(text):
        tree = parser.node("approx", [tree, parser.number(text.replace(",", "."))])
    check_caps(tree, caps)
    return tree


def _matrix_rows(node: tuple) -> list | None:
    """The rows of a matrix of at least 2x2 written as a tuple of equal tuples; else None."""
    if node[0] != "tuple" or len(node[1]) < 2 or any(row[0] != "tuple" for row in node[1]):
        return None
    widths = {len(row[1]) for row in node[1]}
    return [row[1] for row in node[1]] if len(widths) == 1 and widths.pop() >= 2 else None


def _matrix_sum(tree: tuple) -> tuple:
    """A sum of matrices of one shape (``A + B``, ``A - B``) is the matrix of the sums of their entries."""
    if tree[0] != "add":
        return tree
    negated = [term[0] == "neg" for term in tree[1]]
    matrices = [_matrix_rows(term[1] if negative else term) for term, negative in zip(tree[1], negated)]
    if any(rows is None for rows in matrices) or len({(len(rows), len(rows[0])) for rows in matrices}) != 1:
        return tree
    height, width = len(matrices[0]), len(matrices[0][0])
    sums = [
        [("add", [("neg", rows[i][j]) if negative else rows[i][j] for rows, negative in zip(matrices, negated)]) for j in range(width)]
        for i in range(height)
    ]
    return ("tuple", [("tuple", row) for row in sums])


def _variants(node: tuple) -> list[tuple]:
    """Every reading of a tree holding ``pm`` nodes: ``\\frac{-1 \\pm \\sqrt{5}}{2}`` has two."""
    if node[0] == "pm":
        return [variant for child in node[1] for variant in _variants(child)]
    readings: list[list] = [[]]
    for part in node[1:]:
        if isinstance(part, tuple):
            options: list = _variants(part)
        elif isinstance(part, list):
            options = [list(combination) for combination in _combinations([_variants(child) for child in part])]
        else:
            options = [part]
        readings = [reading + [option] for reading in readings for option in options]
        if len(readings) > 8:
            raise TooComplex("more than three \\pm in one answer")
    return [(node[0], *reading) for reading in readings]


def _combinations(choices: list[list]) -> list[tuple]:
    combinations: list[tuple] = [()]
    for options in choices:
        combinations = [combination + (option,) for combination in combinations for option in options]
        if len(combinations) > 8:
            raise TooComplex("more than three \\pm in one answer")
    return combinations


def _spread_plus_minus(tree: tuple) -> tuple:
    """Turn ``\\pm`` into a list of values: at the top, on the right of an equation, or in a list or set."""
    kind = tree[0]
    if kind == "eq":
        right = _variants(tree[2])
        return ("eq", tree[1], right[0] if len(right) == 1 else ("list", right))
    if kind in ("list", "set"):
        items: list[tuple] = []
        for item in tree[1]:
            if item[0] == "eq":  # x = \pm 2, x = 0: three solutions
                items.extend(("eq", item[1], value) for value in _variants(item[2]))
            else:
                items.extend(_variants(item))
        return (kind, items)
    variants = _variants(tree)
    return variants[0] if len(variants) == 1 else ("list", variants)


# --- numeric helpers and caps ---------------------------------------------------------------

_FLOAT_FUNCS = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "arcsin": math.asin, "arccos": math.acos,
    "arctan": math.atan, "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh, "ln": math.log,
    "log": math.log, "exp": math.exp, "sqrt": math.sqrt, "abs": abs, "floor": math.floor, "ceiling": math.ceil,
    "cot": lambda x: 1 / math.tan(x), "sec": lambda x: 1 / math.cos(x), "csc": lambda x: 1 / math.sin(x),
}  # fmt: skip


def is_constant(node: tuple) -> bool:
    """True when the tree has no symbols (it denotes one number or a collection of numbers)."""
    kind = node[0]
    if kind == "sym":
        return False
    if kind in ("num", "const", "letter"):
        return True
    for part in node[1:]:
        if isinstance(part, tuple) and not is_constant(part):
            return False
        if isinstance(part, list) and not all(is_constant(child) for child in part):
            return False
    return True


def approx(node: tuple) -> float:
    """A float value of a constant scalar tree (inf when it overflows, nan when undefined)."""
    try:
        return float(_approx(node))
    except OverflowError:
        return math.inf
    except (ValueError, ZeroDivisionError, TypeError):
        return math.nan


def _approx(node: tuple) -> float:
    kind = node[0]
    if kind == "num":
        return float(node[1])
    if kind == "const":
        return {"pi": math.pi, "e": math.e, "inf": math.inf, "i": 1j}[node[1]]
    if kind == "add":
        return math.fsum(_approx(term) for term in node[1])
    if kind == "mul":
        product = 1.0
        for factor in node[1]:
            product *= _approx(factor)
        return product
    if kind == "neg":
        return -_approx(node[1])
    if kind == "div":
        return _approx(node[1]) / _approx(node[2])
    if kind == "pct":
        return _approx(node[1]) / 100
    if kind == "pow":
        base, exponent = _approx(node[1]), _approx(node[2])
        if abs(exponent) > 1e6:
            raise OverflowError
        value = math.pow(base, exponent)
        return value
    if kind == "func":
        name, args = node[1], node[2]
        values = [_approx(arg) for arg in args]
        if name == "factorial":
            if values[0] > 170:
                raise OverflowError
            return math.gamma(values[0] + 1)
        if name == "root":
            return math.pow(values[0], 1 / values[1])
        if name == "logb":
            return math.log(values[0]) / math.log(values[1])
        if name == "binom":
            return math.gamma(values[0] + 1) / (math.gamma(values[1] + 1) * math.gamma(values[0] - values[1] + 1))
        if name == "mod":
            return values[0] % values[1]
        if name not in _FLOAT_FUNCS:
            raise TypeError(name)  # a limit has no float value here
        return _FLOAT_FUNCS[name](values[0])
    raise TypeError(kind)


def check_caps(node: tuple, caps: Caps) -> None:
    """Refuse exponents, factorials and numbers sympy (or ``exact``) would take too long to build.

    Children are checked first, so the exact value of a checked subtree is cheap to compute.
    """
    for part in node[1:]:
        if isinstance(part, tuple):
            check_caps(part, caps)
        elif isinstance(part, list):
            for child in part:
                check_caps(child, caps)
    kind = node[0]
    if kind == "pow":
        base, exponent = node[1], node[2]
        if is_constant(exponent):
            power = _size(exponent)
            if math.isinf(power) or abs(power) > caps.max_exponent:
                raise TooComplex(f"an exponent is over max_exponent={caps.max_exponent}")
            if is_constant(base) and _power_digits(base, power) > caps.max_digits:
                raise TooComplex(f"a power is over max_digits={caps.max_digits} digits")
        else:
            _check_symbolic_exponent(exponent, caps)
    elif kind == "func" and node[1] in ("factorial", "binom"):
        argument = node[2][0]
        if is_constant(argument):
            value = approx(argument)
            if not value == value or abs(value) > caps.max_factorial:
                raise TooComplex(f"a factorial is over max_factorial={caps.max_factorial}")


def _size(node: tuple) -> float:
    """|value| of a constant tree, complex values included (inf on overflow, nan when undefined)."""
    try:
        return abs(complex(_approx(node)))
    except OverflowError:
        return math.inf
    except (ValueError, ZeroDivisionError, TypeError):
        return math.nan


def _power_digits(base: tuple, power: float) -> float:
    """About how many digits base^power has (numerator or denominator); inf when unknown."""
    if power != power:
        return 0.0
    value = exact(base)
    if value is not None:
        if value == 0:
            return 0.0
        size = max(value.numerator.bit_length(), value.denominator.bit_length()) * 0.30103
        return abs(power) * size
    magnitude = abs(approx(base))
    if magnitude != magnitude:
        return 0.0
    if magnitude == 0 or math.isinf(magnitude):
        return math.inf  # underflowed or overflowed a float: far too big either way
    return abs(power) * abs(math.log10(magnitude))


def _check_symbolic_exponent(exponent: tuple, caps: Caps) -> None:
    # x^(10^10 * y): a constant factor inside a symbolic exponent is capped too
    for part in exponent[1:]:
        children = part if isinstance(part, list) else [part] if isinstance(part, tuple) else []
        for child in children:
            if is_constant(child):
                value = approx(child)
                if value == value and abs(value) > caps.max_exponent:
                    raise TooComplex(f"an exponent is over max_exponent={caps.max_exponent}")


def _mod(a: int, b: int) -> Fraction | None:
    return Fraction(a % b) if b else None


def _factorial(n: int) -> Fraction | None:
    return Fraction(math.factorial(n)) if n >= 0 else None


def _binomial(n: int, k: int) -> Fraction | None:
    return Fraction(math.comb(n, k)) if n >= 0 and k >= 0 else None


_EXACT_FUNCS = {"mod": _mod, "factorial": _factorial, "binom": _binomial, "abs": lambda n: Fraction(abs(n))}


def exact(node: tuple) -> Fraction | None:
    """The exact rational value of a tree built from numbers, + - * / and integer powers; else None."""
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "neg" or kind == "pct":
        value = exact(node[1])
        return None if value is None else -value if kind == "neg" else value / 100
    if kind == "add" or kind == "mul":
        values = [exact(child) for child in node[1]]
        if any(value is None for value in values):
            return None
        total = values[0]
        for value in values[1:]:
            total = total + value if kind == "add" else total * value
        return total
    if kind == "div":
        numerator, denominator = exact(node[1]), exact(node[2])
        if numerator is None or not denominator:
            return None
        return numerator / denominator
    if kind == "pow":
        base, exponent = exact(node[1]), exact(node[2])
        if base is None or exponent is None or exponent.denominator != 1 or (base == 0 and exponent < 0):
            return None
        return base**exponent.numerator  # sizes already capped by check_caps
    if kind == "func" and node[1] in _EXACT_FUNCS:
        values = [exact(argument) for argument in node[2]]
        if any(value is None or value.denominator != 1 for value in values):
            return None
        return _EXACT_FUNCS[node[1]](*(int(value) for value in values))  # arguments capped by check_caps
    if kind == "func" and node[1] == "sqrt":
        value = exact(node[2][0])
        if value is None or value < 0:
            return None
        numerator, denominator = math.isqrt(value.numerator), math.isqrt(value.denominator)
        if numerator * numerator == value.numerator and denominator * denominator == value.denominator:
            return Fraction(numerator, denominator)
        return None
    return None


def has_decimal(node: tuple) -> bool:
    """True when a number in the tree was written with a decimal point or exponent (an inexact value)."""
    if node[0] == "num":
        return node[2]
    for part in node[1:]:
        if isinstance(part, tuple) and has_decimal(part):
            return True
        if isinstance(part, list) and any(has_decimal(child) for child in part):
            return True
    return False
