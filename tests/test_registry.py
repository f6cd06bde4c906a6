"""rft_core.kernel.registry: grader types by name; refuses duplicates and non-graders, naming the plugin."""

from __future__ import annotations

import pytest

from rft_core import Grader, GraderConfig, Result, hookimpl
from rft_core.kernel.errors import PluginError
from rft_core.kernel.registry import Registry, default_registry

BUILT_IN = {
    "string_check": "graders.text.string_check",
    "fuzzy_match": "graders.text.fuzzy_match",
    "text_similarity": "graders.text.text_similarity",
    "multi": "graders.multi.multi",
}

# --- throwaway grader classes -----------------------------------------------------


class Echo(Grader):
    """Always 1.0."""

    type = "echo"

    def evaluate(self, sample, item):
        return Result(1.0)


class AsyncEcho(Grader):
    """Always 1.0, asynchronously."""

    type = "async_echo"

    async def evaluate(self, sample, item):
        return Result(1.0)


class DuplicateStringCheck(Grader):
    """A second string_check."""

    type = "string_check"

    def evaluate(self, sample, item):
        return Result(0.0)


class NoType(Grader):
    def evaluate(self, sample, item):
        return Result(1.0)


class EmptyType(Grader):
    type = ""

    def evaluate(self, sample, item):
        return Result(1.0)


class NotStringType(Grader):
    type = 3  # type: ignore[assignment]

    def evaluate(self, sample, item):
        return Result(1.0)


class Neither(Grader):
    type = "neither"


class BadConfig(Grader):
    type = "bad_config"
    Config = dict  # type: ignore[assignment]

    def evaluate(self, sample, item):
        return Result(1.0)


class NotAGrader:
    type = "not_a_grader"

    def evaluate(self, sample, item):
        return Result(1.0)


def a_function():
    return Result(1.0)


# --- the built-in types -----------------------------------------------------------


def test_default_plugins_register_the_built_in_types(registry):
    for type_name, plugin in BUILT_IN.items():
        entry = registry.get(type_name)
        assert entry is not None, type_name
        assert (entry.cls.type, entry.plugin) == (type_name, plugin)
        assert issubclass(entry.cls, Grader) and issubclass(entry.cls.Config, GraderConfig)


def test_names_iteration_and_length_agree(registry):
    names = registry.names()
    assert names == sorted(names)
    assert [name for name, _ in registry] == names
    assert len(registry) == len(names)
    assert registry.get("no_such_type") is None


@pytest.mark.parametrize(
    ("misspelt", "suggestion"),
    [
        # one letter off
        ("string_chek", "string_check"),
        ("fuzy_match", "fuzzy_match"),
        # OpenAI's camel-less spelling
        ("textsimilarity", "text_similarity"),
        # nothing close
        ("javascript", None),
    ],
    ids=["string_check", "fuzzy_match", "text_similarity", "none"],
)
def test_suggest(registry, misspelt, suggestion):
    assert registry.suggest(misspelt) == suggestion


def test_default_registry_is_built_once():
    registry = default_registry()
    assert registry is default_registry()
    assert set(BUILT_IN) <= set(registry.names())


# --- registering ------------------------------------------------------------------


@pytest.mark.parametrize("cls", [Echo, AsyncEcho], ids=["evaluate", "async-evaluate"])
def test_register_accepts_a_grader_implementing_either_method(cls):
    registry = Registry()
    registry.register(cls, plugin="p")
    assert registry.get(cls.type).cls is cls
    assert registry.get(cls.type).plugin == "p"


def test_register_without_a_plugin_name():
    registry = Registry()
    registry.register(Echo)
    assert registry.get("echo").plugin == "<direct>"


@pytest.mark.parametrize(
    ("candidate", "problem"),
    [
        # not a class at all
        (3, "which is not a subclass of rft_core.Grader"),
        (a_function, "which is not a subclass of rft_core.Grader"),
        # a class that looks like a grader but does not extend Grader
        (NotAGrader, "which is not a subclass of rft_core.Grader"),
        (Result, "which is not a subclass of rft_core.Grader"),
        # a grader without a type name, an empty one, or a non-string one
        (NoType, "which has no `type` name (set the class attribute type = '...')"),
        (EmptyType, "which has no `type` name (set the class attribute type = '...')"),
        (NotStringType, "which has no `type` name (set the class attribute type = '...')"),
        # a Config that is not a GraderConfig
        (BadConfig, "whose Config is not a subclass of rft_core.GraderConfig"),
        # nothing to call
        (Neither, "which does not implement evaluate()"),
    ],
    ids=["int", "function", "look-alike", "other-class", "no-type", "empty-type", "int-type", "bad-config", "neither"],
)
def test_register_refuses(candidate, problem):
    with pytest.raises(PluginError) as excinfo:
        Registry().register(candidate, plugin="rft-bad")
    assert str(excinfo.value) == f"plugin 'rft-bad' registered {candidate!r}, {problem}"


def test_a_duplicate_type_names_both_plugins(pm):
    class DuplicatePlugin:
        @hookimpl
        def register_graders(self, register):
            register(DuplicateStringCheck)

    pm.register(DuplicatePlugin(), name="rft-duplicate")
    with pytest.raises(PluginError) as excinfo:
        Registry.from_plugin_manager(pm)
    assert str(excinfo.value) == (
        "grader type 'string_check' is registered twice: "
        "by plugin 'graders.text.string_check' (graders.text.string_check.StringCheck) and "
        f"by plugin 'rft-duplicate' ({__name__}.DuplicateStringCheck); "
        "uninstall one or limit RFT_LOAD_PLUGINS"
    )


def test_registering_the_same_class_twice_is_a_duplicate_too():
    registry = Registry()
    registry.register(Echo, plugin="first")
    with pytest.raises(PluginError, match="^grader type 'echo' is registered twice: by plugin 'first'"):
        registry.register(Echo, plugin="second")


def test_a_plugin_registering_a_non_grader_is_named(pm):
    class BadPlugin:
        @hookimpl
        def register_graders(self, register):
            register(NotAGrader)

    pm.register(BadPlugin(), name="rft-bad-plugin")
    with pytest.raises(PluginError) as excinfo:
        Registry.from_plugin_manager(pm)
    assert str(excinfo.value) == (
        f"plugin 'rft-bad-plugin' registered {NotAGrader!r}, which is not a subclass of rft_core.Grader"
    )


def test_a_plugin_adds_types_beside_the_built_ins(pm):
    class GoodPlugin:
        @hookimpl
        def register_graders(self, register):
            register(Echo)
            register(AsyncEcho)

    pm.register(GoodPlugin(), name="rft-echo")
    registry = Registry.from_plugin_manager(pm)
    assert registry.get("echo").plugin == "rft-echo"
    assert registry.get("async_echo").plugin == "rft-echo"
    assert set(BUILT_IN) <= set(registry.names())
