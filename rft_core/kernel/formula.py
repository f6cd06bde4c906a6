"""``calculate_output`` formulas in OpenAI's grammar, parsed here and never eval'd.

Grammar: numbers, variables (grader keys), ``+ - * /``, ``^`` (power, right
associative, binding tighter than unary minus), parentheses and the functions
``min max abs floor ceil exp sqrt log`` (natural log).

Arithmetic rules: ``x / 0`` is 0 (so a ratio with nothing to count scores 0);
``sqrt`` of a negative, ``log`` of a non-positive number and overflow raise
ArithmeticError (overflow included), which a composite reports as status ``error``.
"""

from __future__ import annotations

import difflib
import math
import operator
import random
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .errors import FormulaError

__all__ = ["Formula"]

Node = tuple[Any, ...]
"""Parsed formula: ("num", x) ("var", name) ("neg", node) ("pow", base, exponent)
("chain", first, ((symbol, node), ...)) for a left-associative run, ("call", name, (node, ...))."""
Scalar = Callable[[Mapping[str, float]], float]
Column = Callable[[Mapping[str, list[float]], int], list[float]]

_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(\S))")
_MAX_LENGTH = 10_000


def _divide(a: float, b: float) -> float:
    return a / b if b != 0 else 0.0


def _power(a: float, b: float) -> float:
    result = a**b
    if isinstance(result, complex):
        raise ArithmeticError(f"{a} ^ {b} is not a real number")
    return float(result)


def _sqrt(x: float) -> float:
    if x < 0:
        raise ArithmeticError(f"sqrt of negative number {x}")
    return math.sqrt(x)


def _log(x: float) -> float:
    if x <= 0:
        raise ArithmeticError(f"log of non-positive number {x}")
    return math.log(x)


_BINARY: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": _divide,
    "^": _power,
}
_FUNCTIONS: dict[str, tuple[Callable[..., float], int | None]] = {
    "min": (lambda *arguments: min(arguments), None),  # min(x) of one argument is x
    "max": (lambda *arguments: max(arguments), None),
    "abs": (abs, 1),
    "floor": (lambda x: float(math.floor(x)), 1),
    "ceil": (lambda x: float(math.ceil(x)), 1),
    "exp": (math.exp, 1),
    "sqrt": (_sqrt, 1),
    "log": (_log, 1),
}


class Formula:
    """A parsed formula. ``Formula("0.5 * a + 0.5 * b").evaluate({"a": 1, "b": 0}) == 0.5``.

    ``evaluate`` computes one value; ``evaluate_columns`` computes a whole batch
    at once from one list of values per variable.
    """

    __slots__ = ("text", "variables", "_positions", "_scalar", "_column")

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text.strip():
            raise FormulaError(str(text), 0, "the formula is empty")
        if len(text) > _MAX_LENGTH:
            raise FormulaError(text[:40] + "...", 0, f"the formula is longer than {_MAX_LENGTH} characters")
        self.text = text
        self._positions: dict[str, int] = {}
        try:
            tree = _Parser(text, self._positions).parse()
            self._scalar = _compile_scalar(tree)
            self._column = _compile_column(tree)
        except RecursionError:
            raise FormulaError(text, 0, "the formula is nested too deeply") from None
        self.variables = frozenset(self._positions)

    def check_variables(self, known: Iterable[str]) -> None:
        """Raise FormulaError at the first variable that is not in ``known``."""
        known = set(known)
        for name, position in sorted(self._positions.items(), key=lambda pair: pair[1]):
            if name not in known:
                choices = ", ".join(sorted(known)) or "none"
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise FormulaError(self.text, position, f"unknown variable {name!r} (graders: {choices}){hint}")

    def evaluate(self, values: Mapping[str, float]) -> float:
        """The formula's value; raises ArithmeticError for sqrt/log domain errors and overflow."""
        result = self._scalar(values)
        if not math.isfinite(result):
            raise ArithmeticError(f"the formula {self.text!r} gave {result}")
        return float(result)

    def evaluate_columns(self, columns: Mapping[str, list[float]], size: int) -> list[float]:
        """The formula's value for each of ``size`` rows; raises like ``evaluate`` if any row would."""
        results = self._column(columns, size)
        if not all(map(math.isfinite, results)):
            raise ArithmeticError(f"the formula {self.text!r} gave a non-finite value")
        return list(map(float, results))

    def linear_coefficients(self, keys: list[str]) -> list[float] | None:
        """The coefficients ``c`` with ``formula == sum(c[i] * keys[i])`` for every value of ``keys``,
        found by probing (no constant term, eight random points, relative tolerance 1e-9); None when
        the formula is not such a weighted sum (``min``, products, a constant...)."""

        def value(values: Mapping[str, float]) -> float:
            try:
                return self.evaluate(values)
            except ArithmeticError:
                return float("nan")

        zero = dict.fromkeys(keys, 0.0)
        constant = value(zero)
        coefficients = [value({**zero, key: 1.0}) - constant for key in keys]
        probe = random.Random(0)
        linear = constant == 0.0
        for _ in range(8):
            point = {key: probe.uniform(-2.0, 2.0) for key in keys}
            expected = sum(coefficient * point[key] for coefficient, key in zip(coefficients, keys))
            linear = linear and abs(value(point) - expected) <= 1e-9 * max(1.0, abs(expected))
        return [round(coefficient, 12) for coefficient in coefficients] if linear else None

    def __str__(self) -> str:
        return self.text

    def __reduce__(self) -> tuple[type[Formula], tuple[str]]:
        return Formula, (self.text,)  # the compiled evaluators are closures: rebuild them from the text


class _Parser:
    """Recursive descent over the token list, producing a tree of tuples (see ``Node``)."""

    def __init__(self, text: str, positions: dict[str, int]) -> None:
        self.text = text
        self.positions = positions
        self.tokens: list[tuple[str, str, int]] = []
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None:  # only trailing whitespace is left
                break
            number, name, symbol = match.groups()
            start = match.start(match.lastindex or 0)
            kind = "number" if number else "name" if name else "symbol"
            self.tokens.append((kind, number or name or symbol, start))
            position = match.end()
        self.index = 0

    def parse(self) -> Node:
        tree = self.expression()
        if self.index < len(self.tokens):
            _, value, position = self.tokens[self.index]
            raise FormulaError(self.text, position, f"unexpected {value!r}")
        return tree

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take_symbol(self, *symbols: str) -> str | None:
        token = self.peek()
        if token is not None and token[0] == "symbol" and token[1] in symbols:
            self.index += 1
            return token[1]
        return None

    def expect(self, symbol: str) -> None:
        if self.take_symbol(symbol) is None:
            token = self.peek()
            position, found = (token[2], repr(token[1])) if token else (len(self.text), "the end")
            raise FormulaError(self.text, position, f"expected {symbol!r}, found {found}")

    def chain(self, operand: Callable[[], Node], symbols: tuple[str, ...]) -> Node:
        """A left-associative run kept flat, so a long one cannot overflow the stack."""
        first = operand()
        rest = []
        while (symbol := self.take_symbol(*symbols)) is not None:
            rest.append((symbol, operand()))
        return ("chain", first, tuple(rest)) if rest else first

    def expression(self) -> Node:
        return self.chain(self.term, ("+", "-"))

    def term(self) -> Node:
        return self.chain(self.unary, ("*", "/"))

    def unary(self) -> Node:
        if self.take_symbol("-") is not None:
            return ("neg", self.unary())
        if self.take_symbol("+") is not None:
            return self.unary()
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        if self.take_symbol("^") is not None:
            return ("pow", base, self.unary())
        return base

    def atom(self) -> Node:
        token = self.peek()
        if token is None:
            raise FormulaError(self.text, len(self.text), "the formula ends too early")
        kind, value, position = token
        self.index += 1
        if kind == "number":
            return ("num", float(value))
        if kind == "name":
            if self.take_symbol("(") is not None:
                return self.call(value, position)
            if value in _FUNCTIONS:
                raise FormulaError(self.text, position, f"{value} is a function: write {value}(...)")
            self.positions.setdefault(value, position)
            return ("var", value)
        if value == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        raise FormulaError(self.text, position, f"unexpected {value!r}")

    def call(self, name: str, position: int) -> Node:
        if name not in _FUNCTIONS:
            known = ", ".join(_FUNCTIONS)
            raise FormulaError(self.text, position, f"unknown function {name!r} (functions: {known})")
        arity = _FUNCTIONS[name][1]
        arguments = [self.expression()]
        while self.take_symbol(",") is not None:
            arguments.append(self.expression())
        self.expect(")")
        if arity is not None and len(arguments) != arity:
            raise FormulaError(self.text, position, f"{name} takes {arity} argument, got {len(arguments)}")
        return ("call", name, tuple(arguments))


def _compile_scalar(node: Node) -> Scalar:
    """Closures computing one value from ``{variable: value}``."""
    kind = node[0]
    if kind == "num":
        constant = node[1]
        return lambda values: constant
    if kind == "var":
        name = node[1]
        return lambda values: values[name]
    if kind == "neg":
        operand = _compile_scalar(node[1])
        return lambda values: -operand(values)
    if kind == "pow":
        base, exponent = _compile_scalar(node[1]), _compile_scalar(node[2])
        return lambda values: _power(base(values), exponent(values))
    if kind == "call":
        function = _FUNCTIONS[node[1]][0]
        arguments = [_compile_scalar(argument) for argument in node[2]]
        return lambda values: function(*(argument(values) for argument in arguments))
    first = _compile_scalar(node[1])
    rest = [(_BINARY[symbol], _compile_scalar(operand)) for symbol, operand in node[2]]

    def chain(values: Mapping[str, float]) -> float:
        result = first(values)
        for operation, operand in rest:
            result = operation(result, operand(values))
        return result

    return chain


def _compile_column(node: Node) -> Column:
    """Closures computing a list of values from ``{variable: [value per row]}`` with C-level maps."""
    kind = node[0]
    if kind == "num":
        constant = node[1]
        return lambda columns, size: [constant] * size
    if kind == "var":
        name = node[1]
        return lambda columns, size: columns[name]
    if kind == "neg":
        operand = _compile_column(node[1])
        return lambda columns, size: list(map(operator.neg, operand(columns, size)))
    if kind == "pow":
        base, exponent = _compile_column(node[1]), _compile_column(node[2])
        return lambda columns, size: list(map(_power, base(columns, size), exponent(columns, size)))
    if kind == "call":
        function = _FUNCTIONS[node[1]][0]
        arguments = [_compile_column(argument) for argument in node[2]]
        return lambda columns, size: list(map(function, *(argument(columns, size) for argument in arguments)))
    first = _compile_column(node[1])
    rest = [(_BINARY[symbol], _compile_column(operand)) for symbol, operand in node[2]]

    def chain(columns: Mapping[str, list[float]], size: int) -> list[float]:
        result = first(columns, size)
        for operation, operand in rest:
            result = list(map(operation, result, operand(columns, size)))
        return result

    return chain
