"""How many cores this process should use, on Linux and on macOS."""

from __future__ import annotations

import os

__all__ = ["CPUS_VARIABLE", "available_cpus"]

CPUS_VARIABLE = "RFT_CPUS"


def available_cpus() -> int:
    """The cores this process should use: $RFT_CPUS when set (``rft score --workers N`` gives each of
    its worker processes its share), else the CPUs the process may run on (its affinity mask where
    the system has one; macOS has none, so all the machine's CPUs). Graders that start worker pools
    of their own size them by it."""
    share = os.environ.get(CPUS_VARIABLE, "")
    if share.isdigit() and int(share) > 0:
        return int(share)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
