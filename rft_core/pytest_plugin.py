"""pytest fixtures for plugin authors: ``pytest_plugins = ["rft_core.pytest_plugin"]`` in conftest.py."""

from __future__ import annotations

import pytest

from .kernel.registry import Registry
from .testing import make_registry

__all__ = ["rft_registry"]


@pytest.fixture
def rft_registry() -> Registry:
    """A fresh registry of the built-in graders only; add yours with ``rft_registry.register(MyGrader,
    plugin="rft-my-plugin")``, or build one from your hook module with ``rft_core.testing.make_registry``."""
    return make_registry()
