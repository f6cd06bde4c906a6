"""Every regex jsonschema runs for a schema, under a timeout.

jsonschema matches ``pattern``, ``patternProperties`` (and the ``additionalProperties`` and
``unevaluatedProperties`` that depend on it) with ``re.search`` in three of its modules. Their
``re`` is replaced here by a stand-in whose ``search`` runs the ``regex`` module under the
time left to the grade in progress (a context variable, so threads do not mix; the budget is
for all of one output's regexes together) and raises GradeError(timeout) when it runs out.
Outside a grade it searches without a timeout, as ``re`` would; everything else is ``re``'s own.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import time
from collections.abc import Iterator
from contextvars import ContextVar
from types import ModuleType
from typing import Any

import regex

from rft_core import GradeError, Status

__all__ = ["PATCHED_MODULES", "install", "regex_timeout", "search"]

PATCHED_MODULES = ("jsonschema._keywords", "jsonschema._legacy_keywords", "jsonschema._utils")

# (the budget in seconds, the time.monotonic() it runs out at) of the grade in progress
_BUDGET: ContextVar[tuple[float, float] | None] = ContextVar("rft_jsonschema_regex_budget", default=None)


def search(pattern: str, string: str, flags: int = 0) -> Any:
    """``re.search`` run by ``regex`` within the current grade's budget."""
    budget = _BUDGET.get()
    if budget is None:
        return regex.search(pattern, string, flags)
    timeout, deadline = budget
    try:
        return regex.search(pattern, string, flags, timeout=max(deadline - time.monotonic(), 1e-6))
    except TimeoutError:
        raise GradeError(
            f"schema pattern {pattern!r} ran over regex_timeout={timeout}s", status=Status.TIMEOUT, code="timeout_error"
        ) from None


@contextlib.contextmanager
def regex_timeout(seconds: float) -> Iterator[None]:
    """Within the block, the schema regexes together may run ``seconds`` (then status timeout)."""
    token = _BUDGET.set((seconds, time.monotonic() + seconds))
    try:
        yield
    finally:
        _BUDGET.reset(token)


class _TimedRe(ModuleType):
    """``re`` with a timed ``search``."""

    search = staticmethod(search)

    def __getattr__(self, name: str) -> Any:
        return getattr(re, name)


def install() -> None:
    """Point jsonschema's modules at the timed ``re`` (idempotent)."""
    stand_in = _TimedRe("re")
    for name in PATCHED_MODULES:
        module = importlib.import_module(name)
        if not isinstance(getattr(module, "re", None), ModuleType):
            raise RuntimeError(f"{name} no longer matches with `re`; rft-jsonschema needs updating")
        module.re = stand_in
