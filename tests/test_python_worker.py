"""graders/_python_worker: the pure helpers (importing the module installs nothing; only main() sandboxes)."""

from __future__ import annotations

import math

import pytest

from graders import _python_worker as worker


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
