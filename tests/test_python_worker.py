"""graders/python/_worker: the pure helpers (importing the module installs nothing; only main() supervises)."""

from __future__ import annotations

import math

import pytest

from graders.python import _worker as worker


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.5, {"reward": 0.5}),  # a float passes through
        (1, {"reward": 1.0}),  # an int becomes a float
        (2.5, {"reward": 2.5}),  # outside [0, 1] is kept: OpenAI documents no clamp
    ],
    ids=["float", "int", "above-one"],
)
def test_numbers_are_rewards(value, expected):
    assert worker._check_reward(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "grade() returned bool True, not a float"),  # bool is an int subclass, but not a score
        ("1.0", "grade() returned str '1.0', not a float"),  # no parsing of strings
        (math.nan, "grade() returned nan, not a finite float"),
        (math.inf, "grade() returned inf, not a finite float"),
    ],
    ids=["bool", "string", "nan", "inf"],
)
def test_other_values_are_invalid(value, message):
    assert worker._check_reward(value) == {"error": message, "kind": "invalid"}


def test_within_matches_whole_path_components():
    roots = ("/tmp/work",)
    assert worker._within("/tmp/work", roots)
    assert worker._within("/tmp/work/a/b.txt", roots)
    assert not worker._within("/tmp/workshop/x", roots)  # a shared prefix is not containment
    assert not worker._within("/etc/passwd", roots)


def test_short_never_raises_and_caps_length():
    class Unprintable:
        def __repr__(self):
            raise RuntimeError("no")

    assert worker._short(Unprintable()) == "<unprintable>"
    assert len(worker._short("x" * 1000)) == 200


CONFIG = {"timeout": 2.0, "limits": {"cpu_seconds": 3}}
EXITED = 0  # a wait status: exit code 0


@pytest.mark.parametrize(
    ("data", "verdict"),
    [
        (b'{"reward": 0.5}\n', {"reward": 0.5}),
        (b'{"ready": true}\n', {"ready": True}),
        (b'{"error": "boom", "kind": "exception"}\n', {"error": "boom", "kind": "exception"}),
    ],
    ids=["reward", "ready", "error"],
)
def test_one_well_formed_result_is_accepted(data, verdict):
    assert worker._verdict(data, EXITED, 0.0, False, CONFIG) == verdict


@pytest.mark.parametrize(
    "data",
    [
        b'{"reward": NaN}\n', b'{"reward": Infinity}\n', b'{"reward": -Infinity}\n', b'{"reward": 1e999}\n',
        b'{"reward": "0.5"}\n', b'{"reward": true}\n', b'{"reward": 1}\n', b'{"reward": 0.5, "id": 3}\n',
        b'{"reward": 0.5}\n{"reward": 1.0}\n', b'{"reward": 0.5}', b'[0.5]\n', b'{"error": 1, "kind": "x"}\n',
    ],
    ids=["nan", "inf", "-inf", "overflow", "string", "bool", "int", "extra-key", "two-lines", "no-newline", "list",
         "error-not-str"],
)
def test_anything_else_the_sample_wrote_is_an_error(data):
    verdict = worker._verdict(data, EXITED, 0.0, False, CONFIG)
    assert verdict["kind"] == "protocol"
    assert verdict["error"].startswith("the grader's process wrote something other than one result: ")


def test_time_and_cpu_limits_and_deaths_are_told_apart():
    import signal

    assert worker._verdict(b"", EXITED, 0.0, True, CONFIG) == {"error": "did not return within 2s", "kind": "timeout"}
    assert worker._verdict(b"", signal.SIGXCPU, 3.0, False, CONFIG) == {"error": "used more than its CPU limit", "kind": "cpu"}
    assert worker._verdict(b"", signal.SIGKILL, 0.1, False, CONFIG) == {
        "error": "the grader's process was killed by SIGKILL", "kind": "died"}
    assert worker._verdict(b"", 3 << 8, 0.1, False, CONFIG) == {
        "error": "the grader's process exited (status 3) without a result", "kind": "died"}




def test_a_result_nested_past_the_parser_is_an_error_not_a_crash():
    verdict = worker._verdict(b"[" * 100_000 + b"\n", EXITED, 0.0, False, CONFIG)
    assert verdict["kind"] == "protocol"
