"""rft_core.kernel.hookspecs: the one hook, register_graders(register), and pluggy's checks of implementations."""

from __future__ import annotations

import inspect

import pluggy
import pytest

import rft_core
from rft_core import Grader, Result, hookimpl
from rft_core.kernel import hookspecs


class Hello(Grader):
    """Always 1.0."""

    type = "hello"

    def evaluate(self, sample, item):
        return Result(1.0)


def test_the_hooks_are_register_graders_only():
    specs = [name for name, value in vars(hookspecs).items() if hasattr(value, "rft_spec")]
    assert specs == ["register_graders"]
    assert list(inspect.signature(hookspecs.register_graders).parameters) == ["register"]


def test_hookimpl_is_the_public_marker_for_project_rft():
    assert rft_core.hookimpl is hookspecs.hookimpl
    assert isinstance(hookimpl, pluggy.HookimplMarker)
    assert hookimpl.project_name == hookspecs.hookspec.project_name == "rft"


def test_register_graders_calls_every_plugin_with_register(pm):
    class Plugin:
        @hookimpl
        def register_graders(self, register):
            register(Hello)

    pm.register(Plugin(), name="hello-plugin")
    registered: list[type] = []
    pm.hook.register_graders(register=registered.append)
    # the built-in graders register through the same hook
    assert Hello in registered
    assert {cls.type for cls in registered} >= {"string_check", "fuzzy_match", "text_similarity", "multi", "hello"}


def test_a_hookimpl_may_take_fewer_arguments(pm):
    called = []

    class Plugin:
        @hookimpl
        def register_graders(self):
            called.append(True)

    pm.register(Plugin(), name="no-args")
    pm.hook.register_graders(register=lambda cls: None)
    assert called == [True]


def test_a_hookimpl_with_a_wrong_argument_name_is_rejected(pm):
    class Plugin:
        @hookimpl
        def register_graders(self, registr):  # typo: pluggy must refuse it, not call it with nothing
            pass

    with pytest.raises(pluggy.PluginValidationError) as excinfo:
        pm.register(Plugin(), name="typo-plugin")
    message = str(excinfo.value)
    # the error names the plugin, the hook and prints the bad signature
    assert "Plugin 'typo-plugin' for hook 'register_graders'" in message
    assert "register_graders(registr)" in message
    assert excinfo.value.plugin is not None


def test_a_hookimpl_for_an_unknown_hook_is_caught_by_check_pending(pm):
    class Plugin:
        @hookimpl
        def register_grader(self, register):  # misspelt hook name
            pass

    pm.register(Plugin(), name="misspelt-hook")
    with pytest.raises(pluggy.PluginValidationError, match="unknown hook 'register_grader'"):
        pm.check_pending()
