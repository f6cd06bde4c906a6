"""rft_core.cli.exit_codes: when a finished scoring run still fails (exit 2)."""

from __future__ import annotations

import pytest

from rft_core.cli.exit_codes import ungradable


def _grader(samples=10, error=0.0, timeout=0.0, parse_error=0.0, codes=None):
    rates = {"ok": 1 - error - timeout - parse_error, "not_applicable": 0.0, "error": error, "timeout": timeout,
             "parse_error": parse_error}
    return {"samples": samples, "status_rates": rates, "error_codes": codes or {}}


@pytest.mark.parametrize(
    "graders, rate, expected",
    [
        # the default rule: a grader that graded none of its samples, or a spec-level error
        ({"(root)": _grader()}, None, []),
        ({"(root)": _grader(error=0.9)}, None, []),
        ({"(root)": _grader(), "judge": _grader(error=1.0)}, None,
         ["judge: none of its 10 samples could be graded (error 100.0%)"]),
        ({"x": _grader(error=0.4, timeout=0.3, parse_error=0.3)}, None,
         ["x: none of its 10 samples could be graded (error 40.0%, timeout 30.0%, parse_error 30.0%)"]),
        ({"x": _grader(error=0.1, codes={"invalid_variable_error": 1})}, None,
         ["x: 1 of its samples failed because a template names a key the data does not have (a spec or data error)"]),
        ({"x": _grader(samples=0)}, None, []),
        # an explicit limit replaces it
        ({"x": _grader(parse_error=0.3)}, 0.25,
         ["x: 30.0% of its samples could not be graded (parse_error 30.0%), more than --max-error-rate 0.25"]),
        ({"x": _grader(parse_error=0.25)}, 0.25, []),
        ({"x": _grader(error=1.0, codes={"invalid_variable_error": 10})}, 1.0, []),
        ({"x": _grader(error=0.01)}, 0.0,
         ["x: 1.0% of its samples could not be graded (error 1.0%), more than --max-error-rate 0"]),
    ],
)
def test_ungradable(graders, rate, expected):
    assert ungradable(graders, rate) == expected
