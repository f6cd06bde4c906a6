"""Load a YAML or JSON spec into a Grader, reporting every problem at once with path and line.

A spec's root is one grader object (OpenAI grader JSON is valid as-is). Optional
spec-level keys beside it: ``rft`` (format version, 1), ``description``,
``requires`` (plugin distributions the spec needs), ``defaults`` (field
values given to every grader that has the field and does not set it) and
``openai_strict`` (true: the spec must also run on OpenAI's graders with the same meaning).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .errors import RftError, SpecError, SpecIssue
from .grader import Grader, child_fields
from .paths import spec_context
from .portability import PortabilityCheck
from .registry import Registry, default_registry
from .runtime import Runtime

__all__ = ["OPENAI_FIDELITY_DEFAULTS", "SPEC_KEYS", "load_spec", "load_spec_in", "portability_check", "read_spec_file"]

SPEC_KEYS = ("rft", "description", "requires", "defaults", "openai_strict")
OPENAI_FIDELITY_DEFAULTS = {"instructions": False, "delimit_sample": False, "sampling_defaults": False}
"""What ``openai_strict: true`` (and ``rft run``'s OpenAI response) gives every grader that has these
fields and does not set them: judges send OpenAI's prompt verbatim, with only the sampling
parameters the config sets."""
FORMAT_VERSION = 1

Path_ = tuple[str | int, ...]

def load_spec(
    source: str | Path | Mapping[str, Any],
    registry: Registry | None = None,
    *,
    openai_fidelity: bool = False,
    runtime: Runtime | None = None,
) -> Grader:
    """Build the grader a spec describes.

    Args:
        source: a path to a ``.yaml``/``.yml``/``.json`` file, or the spec as a mapping.
        registry: grader types to use; the default one loads the installed plugins.
        openai_fidelity: apply ``OPENAI_FIDELITY_DEFAULTS`` as ``openai_strict: true`` does, without
            its portability check.
        runtime: the runtime to bind the graders to (see ``Grader.bind``); a spec given as a mapping
            resolves relative paths from its ``base_folder``.

    Returns:
        The root Grader. Raises SpecError listing every problem found.

    >>> load_spec({"type": "string_check", "input": "{{ sample.output_text }}",
    ...            "reference": "{{ item.answer }}", "operation": "eq"}).grade("4", {"answer": "4"}).reward
    1.0
    """
    if isinstance(source, Mapping):
        lines: dict[Path_, int] = {}
        document, name = dict(source), None
        folder = runtime.base_folder if runtime is not None else None
    else:
        document, lines = read_spec_file(source)
        name, folder = str(source), Path(source).parent
    builder = _Builder(registry or default_registry(), lines, name, openai_fidelity, folder)
    grader = builder.build_document(document)
    return grader if runtime is None else grader.bind(runtime)


def load_spec_in(source: Mapping[str, Any], folder: Path | None) -> Grader:
    """``load_spec`` of a mapping whose relative paths start from ``folder`` (None: the working
    directory): a composite's sub-grader given as a mapping, inside a config validated there."""
    return _Builder(default_registry(), {}, None, folder=folder).build_document(dict(source))


def portability_check(
    document: Mapping[str, Any], lines: Mapping[Path_, int], registry: Registry, any_root: bool = False
) -> PortabilityCheck:
    """The OpenAI portability check of a spec document (``openai_strict``, ``rft validate --openai``):
    its root grader and ``defaults``, the other spec-level keys left out."""
    root = {key: value for key, value in document.items() if key not in SPEC_KEYS}
    return PortabilityCheck(root, document.get("defaults") or {}, lines, registry, any_root)


def read_spec_file(path: str | Path) -> tuple[Any, dict[Path_, int]]:
    """Parse a spec file; returns its value and the line of every key and list entry."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([SpecIssue((), "file not found")], str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([SpecIssue((), f"cannot read the file: {exc}")], str(path)) from None
    try:
        if path.suffix.lower() == ".json":
            value = json.loads(text)
        else:
            value = yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise SpecError([SpecIssue((), f"JSON syntax error: {exc.msg}", exc.lineno)], str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark is not None else None
        raise SpecError([SpecIssue((), f"YAML syntax error: {problem}", line)], str(path)) from None
    return value, _line_map(text)


def _line_map(text: str) -> dict[Path_, int]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:  # valid JSON that YAML 1.1 rejects: no line numbers, nothing lost
        return {}
    lines: dict[Path_, int] = {}
    stack: list[tuple[Path_, yaml.Node]] = [((), root)] if root is not None else []
    while stack:
        path, node = stack.pop()
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                child = (*path, key_node.value)
                lines[child] = key_node.start_mark.line + 1
                stack.append((child, value_node))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(((*path, index), item) for index, item in enumerate(node.value))
    return lines


class _Builder:
    """Walks a spec document, building graders and collecting every issue."""

    def __init__(
        self, registry: Registry, lines: dict[Path_, int], source: str | None, fidelity: bool = False,
        folder: Path | None = None,
    ) -> None:
        self.fidelity = fidelity
        self.context = spec_context(folder)  # where the configs' relative paths start (rft_core.SpecPath)
        self.registry = registry
        self.lines = lines
        self.source = source
        self.issues: list[SpecIssue] = []
        self.defaults: dict[str, Any] = {}
        self.requires: list[str] = []

    def report(self, path: Path_, message: str) -> None:
        line = None
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                break
        self.issues.append(SpecIssue(path, message, line))

    def build_document(self, document: Any) -> Grader:
        if document is None or document == {}:
            self.report((), "the spec is empty: it needs a grader, e.g. `type: string_check`")
        elif not isinstance(document, dict):
            self.report((), f"the spec must be a mapping (a grader object), not {_kind(document)}")
        else:
            grader = self.build_root(dict(document))
            if not self.issues and document.get("openai_strict") is True:
                self.issues.extend(portability_check(document, self.lines, self.registry).check())
            if not self.issues:
                assert grader is not None
                return grader
        raise SpecError(self.issues, self.source)

    def build_root(self, document: dict[str, Any]) -> Grader | None:
        version = document.pop("rft", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            self.report(("rft",), f"unsupported format version {version!r}: this rft-graders reads rft: 1")
        description = document.pop("description", None)
        if description is not None and not isinstance(description, str):
            self.report(("description",), "description must be a string")
        self.requires = self.check_requires(document.pop("requires", []))
        self.defaults = self.check_defaults(document.pop("defaults", {}))
        strict = document.pop("openai_strict", False)
        if not isinstance(strict, bool):
            self.report(("openai_strict",), "openai_strict must be true or false")
        if strict is True or self.fidelity:
            self.defaults = {**OPENAI_FIDELITY_DEFAULTS, **self.defaults}
        return self.build(document, ())

    def check_requires(self, requires: Any) -> list[str]:
        if isinstance(requires, str):
            requires = [requires]
        if not isinstance(requires, list) or not all(isinstance(name, str) for name in requires):
            self.report(("requires",), "requires must be a list of plugin distribution names")
            return []
        return requires

    def check_defaults(self, defaults: Any) -> dict[str, Any]:
        if not isinstance(defaults, dict):
            self.report(("defaults",), "defaults must be a mapping of field name to value")
            return {}
        known = {name for _, entry in self.registry for name in entry.cls.Config.model_fields}
        for key in defaults:
            if key not in known:
                self.report(("defaults", key), f"no grader type has a field {key!r}{_did_you_mean(key, known)}")
        return defaults

    def build(self, node: Any, path: Path_) -> Grader | None:
        if not isinstance(node, dict):
            self.report(path, f"a grader must be a mapping with a `type`, not {_kind(node)}")
            return None
        type_name = node.get("type")
        if type_name is None:
            self.report(path, f"missing `type`; known types: {', '.join(self.registry.names())}")
            return None
        entry = self.registry.get(type_name) if isinstance(type_name, str) else None
        if entry is None:
            self.report((*path, "type"), self.unknown_type_message(type_name))
            return None
        config_class = entry.cls.Config
        fields = {key: value for key, value in self.defaults.items() if key in config_class.model_fields}
        fields.update(node)
        issues_before = len(self.issues)
        composite_fields = child_fields(config_class)
        for field_name in composite_fields:
            if field_name in fields:
                fields[field_name] = self.build_children(fields[field_name], (*path, field_name))
        try:
            config = config_class.model_validate(fields, context=self.context)
        except ValidationError as exc:
            errors = exc.errors()
            errors += _cross_field_errors(config_class, fields, errors, self.context)
            for error in errors:
                self.report((*path, *_error_location(error, config_class)), _explain(error, config_class))
            return None
        except RftError as exc:  # a validator's own error (a missing optional package), as __init__'s below
            self.report(path, f"{type_name}: {exc}")
            return None
        if len(self.issues) > issues_before:  # a sub-grader failed to build
            return None
        try:
            return entry.cls(config)
        except Exception as exc:  # noqa: BLE001 - a grader's own check becomes a spec issue
            self.report(path, f"{type_name}: {exc}")
            return None

    def build_children(self, children: Any, path: Path_) -> Any:
        if isinstance(children, list):  # an ordered list of graders (fallback's stages)
            return [self.build(child, (*path, index)) or _UNBUILT for index, child in enumerate(children)]
        if not isinstance(children, dict):
            return children  # the config's own validation reports the wrong type
        built = {}
        for key, child in children.items():
            if isinstance(child, dict) and "name" not in child:
                child = {**child, "name": str(key)}
            grader = self.build(child, (*path, key))
            built[key] = grader if grader is not None else _UNBUILT
        return built

    def unknown_type_message(self, type_name: Any) -> str:
        message = f"unknown grader type {type_name!r}{_did_you_mean(str(type_name), self.registry.names())}"
        message += f"; known types: {', '.join(self.registry.names())}"
        for distribution in self.requires:
            if not _installed(distribution):
                message += f"; this spec requires {distribution!r}, which is not installed: pip install {distribution}"
            else:
                message += "; " + _installed_but_unknown(distribution)
        return message


class _Unbuilt(Grader):
    """Stands in for a sub-grader that failed to build, so checks on its siblings still run."""

    type = "unbuilt"

    def evaluate(self, sample: Any, item: Any) -> Any:
        raise AssertionError("an unbuilt sub-grader is never graded: its spec had errors")


_UNBUILT = object.__new__(_Unbuilt)


def _cross_field_errors(
    config_class: type, fields: dict[str, Any], errors: list[Any], context: dict[str, Any]
) -> list[Any]:
    """The config's own (model-level) checks, which pydantic skips once a field is invalid.

    They run on the fields that are valid, the invalid ones left to their defaults; nothing is
    checked when an invalid field has no default (the checks would only repeat "missing"), and a
    check whose message names an invalid field is dropped (it judged the default, not the spec).
    """
    invalid = {error["loc"][0] for error in errors if error["loc"]}
    model_fields = config_class.model_fields  # type: ignore[attr-defined]
    if not invalid or any(name in model_fields and model_fields[name].is_required() for name in invalid):
        return []
    try:
        valid = {key: value for key, value in fields.items() if key not in invalid}
        config_class.model_validate(valid, context=context)  # type: ignore[attr-defined]
    except RftError:  # reported once the invalid fields are fixed
        return []
    except ValidationError as exc:
        mentions_invalid = re.compile(r"\b(?:" + "|".join(map(re.escape, map(str, invalid))) + r")\b")
        return [error for error in exc.errors() if not error["loc"] and not mentions_invalid.search(error["msg"])]
    return []


def _error_location(error: Mapping[str, Any], config_class: type) -> tuple[Any, ...]:
    """Where an error belongs: a model-level check whose message starts with a field's name
    ("min_words (9) is above max_words (5)") belongs to that field."""
    if error["loc"]:
        return tuple(error["loc"])
    first_word = _explain(error, config_class).split(" ", 1)[0].strip(":,.'`")
    return (first_word,) if first_word in config_class.model_fields else ()  # type: ignore[attr-defined]


def _explain(error: Mapping[str, Any], config_class: type[BaseModel]) -> str:
    kind = error["type"]
    loc = error["loc"]
    field_name = str(loc[-1]) if loc else ""
    fields = config_class.model_fields
    if kind == "extra_forbidden" and len(loc) == 1:
        return f"unknown field {field_name!r}{_did_you_mean(field_name, fields)}; fields: {', '.join(fields)}"
    if kind == "missing" and len(loc) == 1 and field_name in fields:
        description = fields[field_name].description
        return f"missing required field {field_name!r}" + (f" ({description})" if description else "")
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return message


def _did_you_mean(name: str, choices: Any) -> str:
    matches = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def _kind(value: Any) -> str:
    return "null" if value is None else f"a {type(value).__name__}"


def _installed_but_unknown(distribution: str) -> str:
    """Why an installed plugin the spec requires registered no such type: the real cause."""
    from .plugins import import_failure, wanted

    if not wanted(distribution):
        return f"{distribution!r} is installed but RFT_LOAD_PLUGINS leaves it out: add it to RFT_LOAD_PLUGINS"
    failure = import_failure(distribution)
    if failure is not None:
        return f"{distribution!r} is installed but failed to import ({failure}): fix or reinstall it"
    return f"{distribution!r} is installed and loaded but registers no such type: check the type name"


def _installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True
