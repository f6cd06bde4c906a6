"""How many cores this process may use, on Linux and on macOS."""

from __future__ import annotations

import os

__all__ = ["available_cpus"]


def available_cpus() -> int:
    """The CPUs this process may run on: its affinity mask where the system has one (macOS has none,
    so all the machine's CPUs there). A run's budget (its share with ``rft score --workers N``) is
    ``Grader.runtime.cpus``."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
