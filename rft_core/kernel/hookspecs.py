"""The hooks a plugin can implement. Mark implementations with ``rft_core.hookimpl``."""

from __future__ import annotations

from collections.abc import Callable

import pluggy

__all__ = ["hookimpl", "hookspec"]

hookspec = pluggy.HookspecMarker("rft")
hookimpl = pluggy.HookimplMarker("rft")
"""Marks a plugin's hook implementation: ``@hookimpl`` above ``def register_graders(register)``."""


@hookspec
def register_graders(register: Callable[[type], None]) -> None:
    """Register grader classes by calling ``register(GraderClass)`` once for each."""
