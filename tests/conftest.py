"""Shared fixtures. Entry-point plugins never load implicitly in tests."""

from __future__ import annotations

import os
import signal

import pytest

os.environ["RFT_LOAD_PLUGINS"] = ""  # set before any registry is built

from rft_core.kernel.plugins import make_plugin_manager
from rft_core.kernel.registry import Registry


@pytest.fixture(autouse=True, scope="session")
def ctrl_c_reaches_subprocesses():
    """A suite started in the background (``cmd &`` in a script) inherits SIGINT ignored, and so would
    every ``rft`` subprocess a test interrupts with Ctrl-C; give them Python's usual handling."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield


@pytest.fixture
def pm():
    """A fresh plugin manager holding only the default (built-in) plugins."""
    return make_plugin_manager(load_entry_points=False)


@pytest.fixture
def registry(pm):
    """A fresh registry built from the default plugins."""
    return Registry.from_plugin_manager(pm)
