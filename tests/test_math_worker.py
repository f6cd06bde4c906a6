"""Tests for graders/math/_worker.py: one request in, one JSON-ready answer out."""

from __future__ import annotations

import pytest

from graders.math._parse import Caps
from graders.math._worker import handle

CAPS = list(Caps().key())
OPTIONS = [1e-6, 1e-9, True, True, 6]

CASES = [
    # equal to one of several references
    ("any_reference", "x^2-1", ["x+1", "(x-1)(x+1)"], {"equal": True}),
    # equal to none
    ("none", "x^2", ["x+1"], {"equal": False}),
    # the worker re-parses with the caps it is sent: a refusal is a parse_error, not a crash
    ("capped", "x^{10^{10}}", ["1"], {"error": "an exponent is over max_exponent=1000", "status": "parse_error"}),
]


@pytest.mark.parametrize(("answer", "references", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_handle(answer, references, expected):
    assert handle({"answer": answer, "references": references, "caps": CAPS, "options": OPTIONS}) == expected
