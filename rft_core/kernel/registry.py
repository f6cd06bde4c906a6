"""The registry of grader types, filled through the ``register_graders`` hook."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from functools import partial

import pluggy

from .errors import PluginError
from .grader import Grader, GraderConfig

__all__ = ["GraderType", "Registry", "default_registry"]


class GraderType:
    """A registered grader class and the plugin that registered it."""

    __slots__ = ("cls", "plugin")

    def __init__(self, cls: type[Grader], plugin: str) -> None:
        self.cls = cls
        self.plugin = plugin


class Registry:
    """Grader types by name. Refuses duplicates and anything that is not a Grader."""

    def __init__(self) -> None:
        self._types: dict[str, GraderType] = {}

    @classmethod
    def from_plugin_manager(cls, manager: pluggy.PluginManager) -> Registry:
        registry = cls()
        for implementation in manager.hook.register_graders.get_hookimpls():
            implementation.function(register=partial(registry.register, plugin=implementation.plugin_name))
        return registry

    def register(self, grader_class: object, plugin: str = "<direct>") -> None:
        """Add a grader class; ``plugin`` names who registered it, for error messages."""
        _check_grader_class(grader_class, plugin)
        assert isinstance(grader_class, type)
        type_name: str = grader_class.type  # type: ignore[attr-defined]
        existing = self._types.get(type_name)
        if existing is not None:
            raise PluginError(
                f"grader type {type_name!r} is registered twice: by plugin {existing.plugin!r} "
                f"({existing.cls.__module__}.{existing.cls.__qualname__}) and by plugin {plugin!r} "
                f"({grader_class.__module__}.{grader_class.__qualname__}); uninstall one or limit "
                "RFT_LOAD_PLUGINS"
            )
        self._types[type_name] = GraderType(grader_class, plugin)

    def get(self, type_name: str) -> GraderType | None:
        return self._types.get(type_name)

    def names(self) -> list[str]:
        return sorted(self._types)

    def suggest(self, type_name: str) -> str | None:
        """The registered type closest to a misspelled one."""
        matches = difflib.get_close_matches(type_name, self._types, n=1)
        return matches[0] if matches else None

    def __iter__(self) -> Iterator[tuple[str, GraderType]]:
        return iter(sorted(self._types.items()))

    def __len__(self) -> int:
        return len(self._types)


def _check_grader_class(candidate: object, plugin: str) -> None:
    problem = None
    if not (isinstance(candidate, type) and issubclass(candidate, Grader)):
        problem = "which is not a subclass of rft_core.Grader"
    elif not isinstance(getattr(candidate, "type", None), str) or not candidate.type:
        problem = "which has no `type` name (set the class attribute type = '...')"
    elif not (isinstance(candidate.Config, type) and issubclass(candidate.Config, GraderConfig)):
        problem = "whose Config is not a subclass of rft_core.GraderConfig"
    elif candidate.evaluate is Grader.evaluate:
        problem = "which does not implement evaluate()"
    if problem is not None:
        raise PluginError(f"plugin {plugin!r} registered {candidate!r}, {problem}")


_default: Registry | None = None


def default_registry() -> Registry:
    """The process-wide registry: default plugins plus installed ones (see RFT_LOAD_PLUGINS)."""
    global _default
    if _default is None:
        from .plugins import make_plugin_manager

        _default = Registry.from_plugin_manager(make_plugin_manager())
    return _default
