"""Shared fixtures. Entry-point plugins never load implicitly in tests."""

from __future__ import annotations

import os

import pytest

os.environ["RFT_LOAD_PLUGINS"] = ""  # set before any registry is built

from rft_core.plugins import make_plugin_manager  # noqa: E402
from rft_core.registry import Registry  # noqa: E402


@pytest.fixture
def pm():
    """A fresh plugin manager holding only the default (built-in) plugins."""
    return make_plugin_manager(load_entry_points=False)


@pytest.fixture
def registry(pm):
    """A fresh registry built from the default plugins."""
    return Registry.from_plugin_manager(pm)
