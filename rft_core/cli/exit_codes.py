"""The ``rft`` exit codes, and when a scoring run that finished still failed (exit 2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["EPILOG", "FAILED", "INTERRUPTED", "OK", "UNGRADABLE", "UNGRADABLE_STATUSES", "ungradable"]

OK = 0
"""Every row was graded (or, for commands that grade nothing, the command did its job)."""
FAILED = 1
"""A usage, spec or data error: the command could not do its job; or `rft audit` found a probe that pays."""
UNGRADABLE = 2
"""The run finished but samples could not be graded beyond ``--max-error-rate``."""
INTERRUPTED = 130
"""Ctrl-C (128 + SIGINT, as shells report it)."""

UNGRADABLE_STATUSES = ("error", "timeout", "parse_error")
"""Statuses of a sample its grader could not grade (``not_applicable`` is a grade: the grader does not apply)."""

_SPEC_ERROR_CODES = {"invalid_variable_error": "a template names a key the data does not have"}

EPILOG = f"""\
exit codes:
  {OK}    every row graded (rft audit: no probe earns reward)
  {FAILED}    usage, spec or data error, nothing trustworthy written (rft audit: a probe earns reward)
  {UNGRADABLE}    rft score: samples could not be graded (error, timeout, parse_error) beyond
       --max-error-rate; by default: a grader that graded none of its samples, or a
       template naming a key the data lacks. rft sample: every request failed (or more
       than --max-error-rate of them)
  {INTERRUPTED}  interrupted (Ctrl-C); rft score -o prints the --resume command that continues

Run with --debug (or RFT_DEBUG=1) to see the traceback of an unexpected error.
"""


def ungradable(graders: Mapping[str, Mapping[str, Any]], max_error_rate: float | None) -> list[str]:
    """Why a scoring run fails with exit code 2: one line per grader path, empty when it does not.

    ``graders`` is ``Summary.to_dict()["graders"]``. With ``max_error_rate`` (a share in [0, 1]),
    a grader fails when more of its samples than that are error, timeout or parse_error. Without
    it, a grader fails when none of its samples could be graded, or when any of its errors is a
    spec-level one (a template naming a key the data does not have).
    """
    problems = []
    for path, stats in graders.items():
        if not stats["samples"]:
            continue
        rates = stats["status_rates"]
        share = sum(rates[status] or 0.0 for status in UNGRADABLE_STATUSES)
        failing = ", ".join(f"{status} {rates[status]:.1%}" for status in UNGRADABLE_STATUSES if rates[status])
        if max_error_rate is not None:
            if share > max_error_rate:
                problems.append(
                    f"{path}: {share:.1%} of its samples could not be graded ({failing}), "
                    f"more than --max-error-rate {max_error_rate:g}"
                )
            continue
        if share >= 1.0 - 1e-9:
            problems.append(f"{path}: none of its {stats['samples']} samples could be graded ({failing})")
            continue
        for code, what in _SPEC_ERROR_CODES.items():
            count = stats.get("error_codes", {}).get(code)
            if count:
                problems.append(f"{path}: {count} of its samples failed because {what} (a spec or data error)")
    return problems
