"""The plugin manager: built-in graders as default plugins, third-party ones from entry points.

Third-party distributions declare ``[project.entry-points.rft] name = "module"``.
``RFT_LOAD_PLUGINS`` limits which distributions load: unset loads all, a comma
separated list loads those, an empty value loads none.
"""

from __future__ import annotations

import importlib
import os
import warnings
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError

__all__ = ["DEFAULT_PLUGINS", "ENTRY_POINT_GROUP", "import_failure", "make_plugin_manager", "plugin_info"]

ENTRY_POINT_GROUP = "rft"
DEFAULT_PLUGINS = (
    "graders.text.string_check",
    "graders.text.fuzzy_match",
    "graders.text.text_similarity",
    "graders.multi.multi",
    "graders.math",
    "graders.judge.llm_judge",
    "graders.judge.rubric_model",
    "graders.judge.pairwise_model",
    "graders.judge.group_model",
    "graders.multi.fallback",
    "graders.ranked_list.ranked_list",
    "graders.reward_model.reward_model",
    "graders.python.python_grader",
    "graders.shaping.format_grader",
    "graders.shaping.length",
    "graders.shaping.repetition",
    "graders.tool_call.tool_call",
    "graders.python.code",
)

_IMPORT_FAILURES: dict[str, str] = {}
"""Distribution name -> why its entry point failed to import (the last load's)."""


def make_plugin_manager(load_entry_points: bool = True) -> pluggy.PluginManager:
    """A plugin manager holding the default plugins and, unless told not to, installed ones."""
    manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
    manager.add_hookspecs(hookspecs)
    for module_name in DEFAULT_PLUGINS:
        manager.register(importlib.import_module(module_name), name=module_name)
    if load_entry_points:
        _load_entry_points(manager)
    _check_hook_names(manager)
    return manager


def _check_hook_names(manager: pluggy.PluginManager) -> None:
    """A misspelt hook (``register_grader``) would silently register nothing: refuse it."""
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(
            f"plugin {manager.get_name(exc.plugin)!r}: {exc}; "
            "fix the hook name or leave the plugin out of RFT_LOAD_PLUGINS"
        ) from None


def _load_entry_points(manager: pluggy.PluginManager) -> None:
    wanted = _wanted_distributions()
    found: set[str] = set()
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        distribution = entry_point.dist.name if entry_point.dist else entry_point.name
        found.add(distribution)
        if wanted is not None and distribution not in wanted:
            continue
        name = distribution if manager.get_plugin(distribution) is None else f"{distribution}:{entry_point.name}"
        try:
            plugin = entry_point.load()
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not take the others down
            cause = f"{type(exc).__name__}: {exc}"
            _IMPORT_FAILURES[distribution] = cause
            warnings.warn(f"plugin {name!r} failed to import and was skipped: {cause}", stacklevel=2)
            continue
        manager.register(plugin, name=name)
    for missing in sorted((wanted or set()) - found):
        warnings.warn(f"RFT_LOAD_PLUGINS names {missing!r}, which is not installed", stacklevel=2)


def import_failure(distribution: str) -> str | None:
    """Why an installed plugin's entry point failed to import (``"ImportError: ..."``), or None."""
    return _IMPORT_FAILURES.get(distribution)


def wanted(distribution: str) -> bool:
    """Whether ``RFT_LOAD_PLUGINS`` lets an installed distribution load."""
    names = _wanted_distributions()
    return names is None or distribution in names


def _wanted_distributions() -> set[str] | None:
    value = os.environ.get("RFT_LOAD_PLUGINS")
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def plugin_info(manager: pluggy.PluginManager) -> list[dict[str, Any]]:
    """Name, hooks and version of each loaded plugin, as `rft plugins` prints them."""
    own_version = metadata.version("rft-graders")
    infos = []
    for name, plugin in manager.list_name_plugin():
        hooks = sorted(caller.name for caller in manager.get_hookcallers(plugin) or [])
        distribution = name.split(":", 1)[0]
        if name in DEFAULT_PLUGINS:
            version = own_version
        else:
            try:
                version = metadata.version(distribution)
            except metadata.PackageNotFoundError:
                version = None
        infos.append({"name": name, "hooks": hooks, "version": version})
    return sorted(infos, key=lambda info: (info["name"] not in DEFAULT_PLUGINS, info["name"]))
