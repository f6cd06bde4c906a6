"""The ``code`` grader's test cases: read from an item, and judged against what the program did.

A case is split in two: ``request`` (what the sandbox gets: the stdin, or the call and its
arguments, or the expression of an assert) and ``expected`` (kept in rft's process). Asserts
are parsed here with ``ast`` (the dataset's text, never the model's): ``assert EXPR == LITERAL``
sends only EXPR to the sandbox and compares the literal here.
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._code_backends import Execution

__all__ = ["Case", "MalformedTests", "judge", "plain", "read_cases"]

MEMORY_ERROR = "MemoryError"


class MalformedTests(ValueError):
    """The item's tests are malformed (the dataset's problem, not the model's)."""


@dataclass(frozen=True)
class Case:
    """One test: ``kind`` is stdio, call or assert; ``check`` is equal, truthy or falsy."""

    kind: str
    request: dict[str, Any]
    expected: Any = None
    check: str = "equal"
    timeout: float | None = None
    memory_mb: int | None = None


def read_cases(tests: Any) -> list[Case]:
    """The item's tests as cases: a list of case objects or assert strings, an APPS-style
    ``{inputs, outputs, fn_name?}`` object, or JSON text of either."""
    if isinstance(tests, str):
        stripped = tests.lstrip()
        if stripped.startswith(("[", "{")):
            try:
                tests = json.loads(tests)
            except ValueError as exc:
                raise MalformedTests(f"the tests are not valid JSON: {exc}") from None
        else:
            return _asserts(tests, {})
    if isinstance(tests, Mapping) and "inputs" in tests:
        return _columns(tests)
    if not isinstance(tests, list) or not tests:
        raise MalformedTests("the tests must be a non-empty list of cases (or an object with inputs and outputs)")
    cases: list[Case] = []
    for position, test in enumerate(tests):
        try:
            cases += _asserts(test, {}) if isinstance(test, str) else _case(test)
        except MalformedTests as exc:
            raise MalformedTests(f"test {position}: {exc}") from None
    return cases


def _columns(tests: Mapping) -> list[Case]:
    inputs, outputs = tests.get("inputs"), tests.get("outputs")
    if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(outputs) or not inputs:
        raise MalformedTests("'inputs' and 'outputs' must be non-empty lists of the same length")
    name = tests.get("fn_name")
    if name:
        return [case for args, out in zip(inputs, outputs) for case in _case({"fn_name": name, "args": args, "expected": out})]
    return [case for given, out in zip(inputs, outputs) for case in _case({"stdin": given, "stdout": out})]


def _limits(test: Mapping) -> dict[str, Any]:
    timeout, memory = test.get("timeout"), test.get("memory_mb")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 3600):
        raise MalformedTests(f"timeout must be a number of seconds in (0, 3600], not {timeout!r}")
    if memory is not None and (isinstance(memory, bool) or not isinstance(memory, int) or memory < 0):
        raise MalformedTests(f"memory_mb must be a whole number of MiB, not {memory!r}")
    return {"timeout": timeout, "memory_mb": memory}


def _case(test: Any) -> list[Case]:
    if not isinstance(test, Mapping):
        raise MalformedTests(f"a case is an object or an assert string, not {type(test).__name__}")
    limits = _limits(test)
    if "assert" in test:
        return _asserts(test["assert"], limits)
    if "fn_name" in test:
        name, args = test["fn_name"], test.get("args", test.get("input", []))
        if not isinstance(name, str) or not name.isidentifier():
            raise MalformedTests(f"fn_name must be a Python identifier, not {name!r}")
        if not isinstance(args, list):
            raise MalformedTests("args must be a list of the call's arguments")
        expected = test.get("expected", test.get("output"))
        return [Case("call", {"call": name, "args": args}, plain(expected), **limits)]
    given, expected = test.get("stdin", test.get("input")), test.get("stdout", test.get("output"))
    if not isinstance(given, str) or not isinstance(expected, str):
        raise MalformedTests("a stdin/stdout case needs 'stdin' and 'stdout' strings (or 'input' and 'output')")
    return [Case("stdio", {"stdin": given}, expected, **limits)]


def _asserts(text: Any, limits: dict[str, Any]) -> list[Case]:
    if not isinstance(text, str):
        raise MalformedTests("an assert case must be text")
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise MalformedTests(f"the assert does not parse: {exc}") from None
    if not tree.body or not all(isinstance(node, ast.Assert) for node in tree.body):
        raise MalformedTests(f"only assert statements are allowed in an assert case: {text[:100]!r}")
    return [_assert_case(node.test, limits) for node in tree.body]


def _assert_case(test: ast.expr, limits: dict[str, Any]) -> Case:
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
        left, right = test.left, test.comparators[0]
        for expression, literal in ((left, right), (right, left)):
            try:
                expected = ast.literal_eval(literal)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            return Case("assert", {"expression": ast.unparse(expression)}, plain(expected), "equal", **limits)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return Case("assert", {"expression": ast.unparse(test.operand)}, None, "falsy", **limits)
    return Case("assert", {"expression": ast.unparse(test)}, None, "truthy", **limits)


def plain(value: Any) -> Any:
    """A value in the form the sandbox reports it: tuples as lists, sets as {"$set": sorted items}."""
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return {"$set": sorted((plain(item) for item in value), key=repr)}
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    return value


def judge(case: Case, run: Execution, compare: str, tolerance: float) -> tuple[str, str]:
    """(verdict, why): passed, wrong_answer, runtime_error, memory_limit, output_limit or timeout."""
    if run.timed_out or run.signal == "SIGXCPU":
        return "timeout", "ran past its time limit"
    if run.output_limit:
        return "output_limit", "wrote more output than allowed"
    if run.signal is not None:
        return "runtime_error", f"killed by {run.signal}"
    if run.exit != 0:
        kind = "memory_limit" if MEMORY_ERROR in run.stderr else "runtime_error"
        return kind, f"exit status {run.exit}: {_last_line(run.stderr)}"
    if case.kind == "stdio":
        same = outputs_equal(run.stdout, case.expected, compare, tolerance)
        return ("passed", "") if same else ("wrong_answer", f"printed {run.stdout[:80]!r}")
    if not run.value:
        return "runtime_error", "exited (status 0) before returning a value"
    try:
        got = json.loads(run.value, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return "runtime_error", "returned a value that is not plain data"
    if case.check == "equal":
        same = values_equal(got, case.expected, tolerance)
    else:
        same = bool(got) == (case.check == "truthy")
    return ("passed", "") if same else ("wrong_answer", f"got {run.value[:80]}")


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1][:200] if lines else "no error message"


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not plain data")


def outputs_equal(got: str, expected: str, compare: str, tolerance: float) -> bool:
    """exact; lines (trailing spaces and blank lines ignored); tokens (any whitespace); float (tokens, numbers within tolerance)."""
    if compare == "exact":
        return got == expected
    if compare == "lines":
        return _lines(got) == _lines(expected)
    got_tokens, expected_tokens = got.split(), expected.split()
    if compare == "tokens" or len(got_tokens) != len(expected_tokens):
        return got_tokens == expected_tokens
    return all(a == b or _close(a, b, tolerance) for a, b in zip(got_tokens, expected_tokens))


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.rstrip().splitlines()]


def _close(got: str, expected: str, tolerance: float) -> bool:
    try:
        a, b = float(got), float(expected)
    except ValueError:
        return False
    return math.isfinite(a) and math.isfinite(b) and math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


def values_equal(got: Any, expected: Any, tolerance: float) -> bool:
    """JSON values equal by type: true is not 1; numbers within ``tolerance`` when one is a float."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(got) is type(expected) and got == expected
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        if isinstance(expected, float) or isinstance(got, float):
            return math.isclose(got, expected, rel_tol=tolerance, abs_tol=tolerance) if tolerance else got == expected
        return got == expected
    if isinstance(expected, list) and isinstance(got, list):
        return len(got) == len(expected) and all(values_equal(a, b, tolerance) for a, b in zip(got, expected))
    if isinstance(expected, dict) and isinstance(got, dict):
        return got.keys() == expected.keys() and all(values_equal(got[k], expected[k], tolerance) for k in expected)
    return type(got) is type(expected) and got == expected
