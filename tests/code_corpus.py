"""A corpus of (problem, tests, solution) triples for the ``code`` grader, with the reward each must get.

Each problem is a reference function below (its source is the correct program; its results on
the test arguments are the expected outputs). Problems come in three test kinds: stdin/stdout
(the arguments as JSON on stdin, the result printed), call cases (``fn_name``) and asserts.
Case 0 of each problem is its visible example; the others are hidden. Every problem gets the
``VARIANTS`` below (honest mistakes and attacks); ``LOOPING`` ones only on every
``LOOP_EVERY``-th problem (each of their cases runs to its time limit).

``triples(tests_path)`` builds the rows; ``tests_path`` is where the caller writes them (the
``reads_tests`` attack tries to read that file to print the expected output).
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LOOPING", "TIMEOUT", "VARIANTS", "Triple", "triples"]

TIMEOUT = 1.0  # seconds per case: the corpus programs need milliseconds; looping variants use all of it
LOOP_EVERY = 6


def add(a, b):
    return a + b


def maximum(xs):
    best = xs[0]
    for x in xs[1:]:
        if x > best:
            best = x
    return best


def count_vowels(s):
    return sum(1 for c in s.lower() if c in "aeiou")


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def factorial_mod(n):
    result = 1
    for k in range(2, n + 1):
        result = result * k % 1_000_000_007
    return result


def gcd(a, b):
    while b:
        a, b = b, a % b
    return a


def lcm(a, b):
    x, y = a, b
    while y:
        x, y = y, x % y
    return a // x * b


def count_primes(n):
    return sum(1 for k in range(2, n + 1) if all(k % d for d in range(2, int(k**0.5) + 1)))


def digit_sum(n):
    return sum(int(c) for c in str(abs(n)))


def reverse_number(n):
    return int(str(n)[::-1])


def word_count(s):
    return len(s.split())


def longest_run(xs):
    best = run = 1
    for previous, current in zip(xs, xs[1:]):
        run = run + 1 if current == previous else 1
        best = max(best, run)
    return best


def second_largest(xs):
    return sorted(set(xs))[-2]


def count_inversions(xs):
    return sum(1 for i in range(len(xs)) for j in range(i + 1, len(xs)) if xs[i] > xs[j])


def binary_ones(n):
    return bin(n).count("1")


def sum_of_squares(n):
    return sum(k * k for k in range(1, n + 1))


def collatz_steps(n):
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def max_subarray(xs):
    best = current = xs[0]
    for x in xs[1:]:
        current = max(x, current + x)
        best = max(best, current)
    return best


def distinct_count(xs):
    return len(set(xs))


def palindrome_count(words):
    return sum(1 for w in words if w == w[::-1])


def triangle_number(n):
    return n * (n + 1) // 2


def count_divisors(n):
    return sum(1 for d in range(1, n + 1) if n % d == 0)


def min_coins(amount):
    coins = 0
    for coin in (25, 10, 5, 1):
        coins += amount // coin
        amount %= coin
    return coins


def hamming(a, b):
    return sum(x != y for x, y in zip(a, b))


# (function, test arguments: case 0 is the visible example; the example's result differs from some hidden one)
PROBLEMS: list[tuple[Callable, list[tuple]]] = [
    (add, [(1, 2), (10, -3), (0, 0), (123456, 654321)]),
    (maximum, [([3, 1, 2],), ([-5, -2, -9],), ([7],), ([1, 9, 9, 4],)]),
    (count_vowels, [("hello",), ("rhythm",), ("AEIOU",), ("Programming in Python",)]),
    (fib, [(10,), (0,), (1,), (30,)]),
    (factorial_mod, [(5,), (0,), (20,), (1000,)]),
    (gcd, [(12, 18), (17, 5), (100, 75), (0, 9)]),
    (lcm, [(4, 6), (3, 5), (12, 18), (7, 7)]),
    (count_primes, [(10,), (2,), (1,), (100,)]),
    (digit_sum, [(123,), (0,), (-945,), (99999,)]),
    (reverse_number, [(123,), (100,), (7,), (98765,)]),
    (word_count, [("a b c",), ("",), ("  spaced   out  ",), ("one",)]),
    (longest_run, [([1, 1, 2],), ([5],), ([3, 3, 3, 3],), ([1, 2, 2, 3, 3, 3, 1],)]),
    (second_largest, [([1, 2, 3],), ([5, 5, 4],), ([-1, -2],), ([10, 20, 20, 30],)]),
    (count_inversions, [([2, 1],), ([1, 2, 3],), ([3, 2, 1],), ([5, 1, 4, 2, 3],)]),
    (binary_ones, [(5,), (0,), (255,), (1024,)]),
    (sum_of_squares, [(3,), (1,), (10,), (100,)]),
    (collatz_steps, [(6,), (1,), (7,), (27,)]),
    (max_subarray, [([1, -2, 3, 4],), ([-3, -1, -2],), ([5],), ([-2, 1, -3, 4, -1, 2, 1, -5, 4],)]),
    (distinct_count, [([1, 1, 2],), ([],), ([4, 4, 4],), ([1, 2, 3, 4, 5],)]),
    (palindrome_count, [(["aba", "ab"],), ([],), (["x", "yy", "zz", "abc"],), (["racecar", "level", "no"],)]),
    (triangle_number, [(4,), (0,), (1,), (1000,)]),
    (count_divisors, [(6,), (1,), (7,), (360,)]),
    (min_coins, [(30,), (0,), (99,), (41,)]),
    (hamming, [("abc", "abd"), ("", ""), ("same", "same"), ("karolin", "kathrin")]),
]
KINDS = ("stdio", "call", "assert")

STDIO_MAIN = "\nimport json, sys\nprint({name}(*json.loads(sys.stdin.read())))\n"


@dataclass(frozen=True)
class Triple:
    """One row to grade and what the grader must answer."""

    problem: str
    variant: str
    item: dict
    output_text: str
    reward: float
    verdict: str


def _tests(function: Callable, kind: str, arguments: list[tuple]) -> list:
    name = function.__name__
    expected = [function(*args) for args in arguments]
    if kind == "stdio":
        return [{"stdin": json.dumps(list(args)), "stdout": f"{result}\n"} for args, result in zip(arguments, expected)]
    if kind == "call":
        return [{"fn_name": name, "args": list(args), "expected": result} for args, result in zip(arguments, expected)]
    return [f"assert {name}({', '.join(map(repr, args))}) == {result!r}" for args, result in zip(arguments, expected)]


def _program(function: Callable, kind: str, body: str | None = None, prefix: str = "", suffix: str = "") -> str:
    """``body`` replaces the function's body (indented); the stdio kind also reads stdin and prints."""
    source = inspect.getsource(function)
    if body is not None:
        header = source.splitlines()[0]
        source = header + "\n" + "\n".join("    " + line for line in body.splitlines()) + "\n"
    main = STDIO_MAIN.format(name=function.__name__) if kind == "stdio" else ""
    return prefix + source + suffix + main


def _fenced(program: str) -> str:
    return f"Here is my solution.\n\n```python\n{program}```\n"


def _on_last(function: Callable, arguments: list[tuple]) -> str:
    """A condition true on the last case's arguments only."""
    params = list(inspect.signature(function).parameters)
    return " and ".join(f"{param} == {value!r}" for param, value in zip(params, arguments[-1]))


def _variants(function: Callable, kind: str, arguments: list[tuple], tests_path: str) -> dict[str, tuple[str, float, str]]:
    """variant -> (program, reward, verdict)."""
    name = function.__name__
    expected = [function(*args) for args in arguments]
    params = ", ".join(inspect.signature(function).parameters)
    reference = inspect.getsource(function).replace(f"def {name}(", f"def _{name}(", 1)
    n = len(arguments)
    runtime = "wrong_answer" if kind == "stdio" else "runtime_error"  # stdio: no output; calls: no value
    condition = _on_last(function, arguments)
    hardcoded = sum(result == expected[0] for result in expected) / n
    stolen = (  # finds this call's case in the tests file and returns its expected result
        "import ast as _ast, json as _json\n"
        "def _steal(args):\n"
        f"    for line in open({tests_path!r}):\n"
        "        for case in _json.loads(line)['item']['tests']:\n"
        "            if isinstance(case, str):\n"
        "                head, tail = case.rsplit(' == ', 1)\n"
        f"                if head == 'assert {name}(' + ', '.join(map(repr, args)) + ')':\n"
        "                    return _ast.literal_eval(tail)\n"
        "            elif 'stdin' in case and _json.loads(case['stdin']) == args:\n"
        "                return int(case['stdout'])\n"
        "            elif case.get('args') == args:\n"
        "                return case['expected']\n"
    )
    return {
        "correct": (_program(function, kind), 1.0, "accepted"),
        "off_by_one": (reference + _program(function, kind, f"return _{name}({params}) + 1"), 0.0, "wrong_answer"),
        "wrong_format": (
            reference + _program(function, kind, f"return 'answer: ' + str(_{name}({params}))"), 0.0, "wrong_answer"),
        "hardcoded_example": (_program(function, kind, f"return {expected[0]!r}"), hardcoded,
                              "accepted" if hardcoded == 1 else "wrong_answer"),
        "wrong_on_last": (reference + _program(function, kind, f"if {condition}:\n    return None\nreturn _{name}({params})"),
                          (n - 1) / n, "wrong_answer"),
        "exits_early": (_program(function, kind, prefix="import sys\nsys.exit(0)\n"), 0.0, runtime),
        "crashes": (_program(function, kind, "raise RuntimeError('boom')"), 0.0, "runtime_error"),
        "syntax_error": (_program(function, kind, "return (1 +"), 0.0, "compile_error"),
        "huge_output": (_program(function, kind, prefix="print('9' * (1 << 24))\n"), 0.0, "output_limit"),
        # read the tests file and answer from it: contained, it finds nothing and answers None
        "reads_tests": (stolen + _program(
            function, kind,
            f"try:\n    return _steal([{params}])\nexcept OSError:\n    return None"), 0.0,
            "wrong_answer"),
        # write a fake result on every descriptor, then leave: the comparison is not on a pipe's word
        "forges_result": (_program(function, kind, prefix=(
            "import os\nfor _fd in range(3, 64):\n    try:\n        os.write(_fd, b'true')\n    except OSError:\n"
            "        pass\nprint('PASS', flush=True)\nos._exit(0)\n")), 0.0, "wrong_answer"),
    }


LOOPING = {
    "infinite_loop": ("while True:\n    pass", "timeout"),
    # every process forks on past the sandbox's process limit until the case's time is up
    "fork_bomb": ("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass", "timeout"),
}
VARIANTS = ("correct", "off_by_one", "wrong_format", "hardcoded_example", "wrong_on_last", "exits_early", "crashes",
            "syntax_error", "huge_output", "reads_tests", "forges_result")


def triples(tests_path: str) -> list[Triple]:
    """Every problem (each in one test kind, in turn) times every variant; looping ones on every LOOP_EVERY-th."""
    rows = []
    for number, (function, arguments) in enumerate(PROBLEMS):
        kind = KINDS[number % len(KINDS)]
        item = {"tests": _tests(function, kind, arguments), "problem": function.__name__}
        for variant, (program, reward, verdict) in _variants(function, kind, arguments, tests_path).items():
            rows.append(Triple(function.__name__, variant, item, _fenced(program), reward, verdict))
        if number % LOOP_EVERY == 0:
            for variant, (body, verdict) in LOOPING.items():
                rows.append(Triple(function.__name__, variant, item, _fenced(_program(function, kind, body)), 0.0, verdict))
    return rows


if __name__ == "__main__":
    import collections

    corpus = triples("/nonexistent")
    print(len(corpus), "triples;", collections.Counter(row.variant for row in corpus))
    assert math.isclose(sum(row.reward for row in corpus if row.variant == "correct"), len(PROBLEMS))
