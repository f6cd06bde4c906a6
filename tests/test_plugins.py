"""rft_core.kernel.plugins: default plugins, entry points and RFT_LOAD_PLUGINS."""

from __future__ import annotations

import json
import types
import warnings
from importlib import metadata

import pytest

from rft_core import Grader, Result, SpecError, hookimpl, load_spec
from rft_core.kernel import plugins
from rft_core.kernel import spec as spec_module
from rft_core.kernel.errors import PluginError
from rft_core.kernel.plugins import DEFAULT_PLUGINS, ENTRY_POINT_GROUP, make_plugin_manager, plugin_info
from rft_core.kernel.registry import Registry

# --- throwaway entry-point plugins ------------------------------------------------


def _grader_class(type_name: str) -> type[Grader]:
    def evaluate(self, sample, item):
        return Result(1.0)

    return type(f"Grader_{type_name}", (Grader,), {"type": type_name, "evaluate": evaluate, "__doc__": "Test."})


def _plugin_module(name: str, *type_names: str) -> types.ModuleType:
    module = types.ModuleType(name)

    @hookimpl
    def register_graders(register):
        for type_name in type_names:
            register(_grader_class(type_name))

    module.register_graders = register_graders  # type: ignore[attr-defined]
    return module


class _Dist:
    def __init__(self, name: str) -> None:
        self.name = name


class FakeEntryPoint:
    """What _load_entry_points reads of an importlib.metadata.EntryPoint: name, dist, load()."""

    def __init__(self, distribution: str | None, name: str, target: object) -> None:
        self.name = name
        self.dist = _Dist(distribution) if distribution else None
        self.target = target

    def load(self):
        if isinstance(self.target, Exception):
            raise self.target
        return self.target


ALPHA = _plugin_module("rft_alpha", "alpha_grader")
BETA = _plugin_module("rft_beta", "beta_grader")
BETA_EXTRA = _plugin_module("rft_beta.extra", "beta_extra_grader")


@pytest.fixture
def entry_points(monkeypatch):
    """Installed plugins: rft-alpha, rft-beta (two entry points) and rft-broken (fails to import)."""
    installed = [
        FakeEntryPoint("rft-alpha", "alpha", ALPHA),
        FakeEntryPoint("rft-beta", "beta", BETA),
        FakeEntryPoint("rft-beta", "extra", BETA_EXTRA),
        FakeEntryPoint("rft-broken", "broken", RuntimeError("nope")),
    ]

    def fake_entry_points(*, group):
        assert group == ENTRY_POINT_GROUP
        return list(installed)

    monkeypatch.setattr(plugins.metadata, "entry_points", fake_entry_points)
    return installed


def _third_party(manager) -> list[str]:
    return sorted(name for name, _ in manager.list_name_plugin() if name not in DEFAULT_PLUGINS)


# --- default plugins --------------------------------------------------------------


def test_default_plugins_load(pm):
    assert sorted(name for name, _ in pm.list_name_plugin()) == sorted(DEFAULT_PLUGINS)
    for name in DEFAULT_PLUGINS:
        assert [caller.name for caller in pm.get_hookcallers(pm.get_plugin(name))] == ["register_graders"]


def test_defaults_give_the_built_in_graders(registry):
    assert {"string_check", "text_similarity", "fuzzy_match", "multi"} <= set(registry.names())


def test_no_entry_points_when_told_not_to(monkeypatch):
    def forbidden(**kwargs):
        raise AssertionError("entry points must not be read")

    monkeypatch.setattr(plugins.metadata, "entry_points", forbidden)
    monkeypatch.delenv("RFT_LOAD_PLUGINS", raising=False)
    make_plugin_manager(load_entry_points=False)


# --- RFT_LOAD_PLUGINS -------------------------------------------------------------


BROKEN = "plugin 'rft-broken' failed to import and was skipped: RuntimeError: nope"


@pytest.mark.parametrize(
    ("env", "loaded", "warned"),
    [
        # unset: every installed plugin; the broken one is skipped with a warning
        (None, ["rft-alpha", "rft-beta", "rft-beta:extra"], [BROKEN]),
        # empty: none, and nothing to warn about
        ("", [], []),
        # one distribution: its entry points only
        ("rft-alpha", ["rft-alpha"], []),
        ("rft-beta", ["rft-beta", "rft-beta:extra"], []),
        # spaces and empty entries are ignored
        (" rft-alpha , , rft-beta ", ["rft-alpha", "rft-beta", "rft-beta:extra"], []),
        # just commas: none
        (",", [], []),
    ],
    ids=["unset", "empty", "one", "two-entry-points", "spaces", "commas"],
)
def test_rft_load_plugins_limits_what_loads(monkeypatch, entry_points, env, loaded, warned):
    if env is None:
        monkeypatch.delenv("RFT_LOAD_PLUGINS", raising=False)
    else:
        monkeypatch.setenv("RFT_LOAD_PLUGINS", env)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manager = make_plugin_manager()
    assert _third_party(manager) == loaded
    assert [str(warning.message) for warning in caught] == warned


def test_loaded_plugins_register_their_graders(monkeypatch, entry_points):
    monkeypatch.setenv("RFT_LOAD_PLUGINS", "rft-alpha,rft-beta")
    registry = Registry.from_plugin_manager(make_plugin_manager())
    assert registry.get("alpha_grader").plugin == "rft-alpha"
    assert registry.get("beta_extra_grader").plugin == "rft-beta:extra"


def test_a_named_but_missing_distribution_warns(monkeypatch, entry_points):
    monkeypatch.setenv("RFT_LOAD_PLUGINS", "rft-alpha,rft-missing")
    with pytest.warns(UserWarning) as caught:
        manager = make_plugin_manager()
    assert [str(warning.message) for warning in caught] == [
        "RFT_LOAD_PLUGINS names 'rft-missing', which is not installed"
    ]
    assert _third_party(manager) == ["rft-alpha"]


def test_a_plugin_that_fails_to_import_is_skipped_with_a_warning(monkeypatch, entry_points):
    monkeypatch.setenv("RFT_LOAD_PLUGINS", "rft-broken,rft-alpha")
    with pytest.warns(UserWarning) as caught:
        manager = make_plugin_manager()
    assert [str(warning.message) for warning in caught] == [BROKEN]
    assert _third_party(manager) == ["rft-alpha"]


@pytest.mark.parametrize(
    ("env", "hint"),
    [
        (None, "'rft-broken' is installed but failed to import (RuntimeError: nope): fix or reinstall it"),
        ("rft-broken", "'rft-broken' is installed but failed to import (RuntimeError: nope): fix or reinstall it"),
        ("rft-alpha", "'rft-broken' is installed but RFT_LOAD_PLUGINS leaves it out: add it to RFT_LOAD_PLUGINS"),
    ],
    ids=["unset", "named", "left_out"],
)
def test_the_unknown_type_hint_names_the_real_cause(monkeypatch, entry_points, env, hint):
    if env is None:
        monkeypatch.delenv("RFT_LOAD_PLUGINS", raising=False)
    else:
        monkeypatch.setenv("RFT_LOAD_PLUGINS", env)
    monkeypatch.setattr(plugins, "_IMPORT_FAILURES", {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        registry = Registry.from_plugin_manager(make_plugin_manager())
    monkeypatch.setattr(spec_module, "_installed", lambda distribution: True)  # the fakes have no metadata
    with pytest.raises(SpecError) as caught:
        load_spec({"requires": ["rft-broken"], "type": "broken_grader"}, registry)
    assert str(caught.value.issues[0]).endswith(hint)


def test_entry_point_without_distribution_is_named_after_itself(monkeypatch):
    monkeypatch.setattr(plugins.metadata, "entry_points", lambda *, group: [FakeEntryPoint(None, "loose", ALPHA)])
    monkeypatch.setenv("RFT_LOAD_PLUGINS", "loose")
    assert _third_party(make_plugin_manager()) == ["loose"]


# --- plugin_info ------------------------------------------------------------------


def test_plugin_info_of_the_defaults(pm):
    info = plugin_info(pm)
    version = metadata.version("rft-graders")
    assert info == [
        {"name": name, "hooks": ["register_graders"], "version": version} for name in sorted(DEFAULT_PLUGINS)
    ]
    json.dumps(info)


def test_plugin_info_lists_third_party_plugins_after_the_defaults(monkeypatch, entry_points):
    monkeypatch.setenv("RFT_LOAD_PLUGINS", "rft-beta,rft-alpha")
    info = plugin_info(make_plugin_manager())
    assert [entry["name"] for entry in info] == sorted(DEFAULT_PLUGINS) + ["rft-alpha", "rft-beta", "rft-beta:extra"]
    for entry in info:
        assert set(entry) == {"name", "hooks", "version"}
        assert entry["hooks"] == ["register_graders"]
    # the fake distributions are not really installed: no version to report
    assert [entry["version"] for entry in info[len(DEFAULT_PLUGINS) :]] == [None, None, None]


def test_a_misspelt_hook_is_refused_naming_the_plugin(monkeypatch):
    typo = types.ModuleType("rft_typo")

    @hookimpl
    def register_grader(register):  # one letter short of register_graders
        register(_grader_class("typo_grader"))

    typo.register_grader = register_grader  # type: ignore[attr-defined]
    monkeypatch.setattr(
        plugins.metadata, "entry_points", lambda *, group: [FakeEntryPoint("rft-typo", "typo", typo)]
    )
    monkeypatch.delenv("RFT_LOAD_PLUGINS", raising=False)
    with pytest.raises(PluginError) as excinfo:
        make_plugin_manager()
    message = str(excinfo.value)
    assert message.startswith("plugin 'rft-typo': unknown hook 'register_grader' in plugin")
    assert message.endswith("fix the hook name or leave the plugin out of RFT_LOAD_PLUGINS")
