"""Whether a spec means the same on OpenAI's graders, read from what each grader type declares
(``openai``, ``openai_problems``, ``openai_hint``), never from its name.

The spec loader runs the check for ``openai_strict: true``; ``rft validate --openai`` and
``rft export-openai`` (``rft_core.integrations.openai_compat``) run it too, the export building
on the checked document.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .declarations import OPENAI_TYPES
from .errors import SpecIssue
from .grader import Grader, child_fields
from .registry import Registry

__all__ = ["GRADER_TIMEOUT", "TARGETS", "PortabilityCheck"]

GRADER_TIMEOUT = "grader_timeout"
"""The runner's time budget, a field of every grader: how long a grade may take, never what it is."""

TARGETS = ("fine-tuning", "evals")
"""Where the spec would run on OpenAI: a fine-tuning job (and /graders/run) or an eval's testing
criteria, which also take a label_model at the top level."""

Path_ = tuple[str | int, ...]


class PortabilityCheck:
    """Why a spec (already valid for rft) would not run on OpenAI's graders with the same meaning.

    Args:
        root: the spec's root grader object (without the spec-level keys).
        defaults: the spec's ``defaults``, counted as set on every grader they reach.
        lines: the line of each path in the spec file ({} for a mapping).
        registry: the grader types the spec was built with.
        any_root: any OpenAI grader may be the root (an eval's testing criteria); else a
            ``label_model`` must be inside a ``multi`` (a fine-tuning job).
    """

    def __init__(
        self, root: Mapping[str, Any], defaults: Mapping[str, Any], lines: Mapping[Path_, int], registry: Registry,
        any_root: bool = False,
    ) -> None:
        self.root = dict(root)
        self.defaults = defaults
        self.lines = lines
        self.registry = registry
        self.any_root = any_root
        self.issues: list[SpecIssue] = []

    def grader_class(self, type_name: str) -> type[Grader]:
        """The class of a type the spec uses (it was built with this registry, so the type is known)."""
        entry = self.registry.get(type_name)
        assert entry is not None, type_name
        return entry.cls

    def report(self, path: Path_, message: str) -> None:
        line = next((self.lines[path[:end]] for end in range(len(path), -1, -1) if path[:end] in self.lines), None)
        self.issues.append(SpecIssue(path, message, line))

    def check(self) -> list[SpecIssue]:
        """Every issue, with its path and line."""
        self.check_node(self.root, (), nested=False)
        return self.issues

    def fields(self, node: dict[str, Any]) -> dict[str, tuple[Any, Path_ | None]]:
        """The node's fields with where each was set: None for the node itself, else the defaults key."""
        config_fields = self.grader_class(node["type"]).Config.model_fields
        merged: dict[str, tuple[Any, Path_ | None]] = {
            key: (value, ("defaults", key)) for key, value in self.defaults.items() if key in config_fields
        }
        merged.update({key: (value, None) for key, value in node.items()})
        return merged

    def check_node(self, node: dict[str, Any], path: Path_, nested: bool) -> None:
        type_name = node["type"]
        grader_class = self.grader_class(type_name)
        mapping = grader_class.openai
        if mapping is None:
            self.report((*path, "type"), f"{type_name!r} is not an OpenAI grader type "
                        f"(OpenAI's: {', '.join(OPENAI_TYPES)}){_declared_hint(grader_class)}")
            return
        if not (mapping.root or self.any_root or path):
            self.report(("type",), f"OpenAI's fine-tuning runs {type_name} only inside a multi: write "
                        f"{{type: multi, graders: {{{type_name}: ...}}, calculate_output: {type_name}}} "
                        "(an eval's testing criteria take it as it is: --target evals)")
        explained = set()
        for problem_path, message in grader_class.openai_problems(node, nested):
            self.report((*path, *problem_path), message)
            explained.add(problem_path[:1])
        config_fields = grader_class.Config.model_fields
        operational = (*mapping.operational, GRADER_TIMEOUT)
        for key, (value, where) in self.fields(node).items():
            if key == "type" or (key,) in explained:  # the type maps to mapping.type
                continue
            field_path = where or (*path, key)
            # a value from the spec's defaults is reported there, naming the grader it reaches
            reached = f"(given to {'.'.join(map(str, path)) or 'the root grader'}) " if where else ""
            if key in mapping.fields:
                allowed = mapping.values.get(key)
                if allowed is not None and value not in allowed:
                    self.report(field_path, f"{reached}OpenAI's {mapping.type} has no {key} {value!r} "
                                f"(OpenAI's: {', '.join(allowed)})")
            elif key not in operational and not _at_default(value, config_fields[key].default):
                self.report(field_path, reached + _extra_field_message(mapping.type, key, config_fields[key].default))
        for field_name in child_fields(grader_class.Config):
            for key, child in node.get(field_name, {}).items():
                self.check_node(child, (*path, field_name, key), nested=True)


def _declared_hint(grader_class: type[Grader]) -> str:
    """The reason a grader type gives for having no OpenAI counterpart, as a message suffix."""
    hint = grader_class.openai_hint
    return f"; {hint}" if hint else ""


def _at_default(value: Any, default: Any) -> bool:
    return value == default or (isinstance(default, tuple) and isinstance(value, list) and tuple(value) == default)


def _extra_field_message(openai_type: str, key: str, default: Any) -> str:
    shown = json.dumps(list(default) if isinstance(default, tuple) else default)
    return f"OpenAI's {openai_type} has no field {key!r}: leave it out or at its default ({shown})"
