"""Helpers for the worker processes graders start (math comparisons, python grader sandboxes)."""

from __future__ import annotations

import os
import threading
import time

__all__ = ["exit_with_parent"]


def exit_with_parent(name: str = "rft-parent-watch") -> None:
    """Exit this process when its parent dies, even while it is busy in a runaway computation (a
    worker that reads requests from stdin only sees EOF between requests). Portable: polls the
    parent pid once a second from a daemon thread instead of Linux's PR_SET_PDEATHSIG."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name=name, daemon=True).start()
