"""Render a spec's templates against data rows, to catch a key the data lacks before scoring.

``rft validate SPEC --data DATA`` uses it: every template of every grader in the spec (found in
the graders' configs) is rendered against the first rows of the data. Only ``item.*`` variables
can fail here for the spec's sake: a ``sample.*`` path that a given output does not have is the
model's business, and grading reports it as that sample's status.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel

from .data import Task
from ..kernel.errors import TemplateError
from ..kernel.grader import Grader
from ..kernel.template import Template
from ..kernel.types import Sample

__all__ = ["template_problems", "templates"]


def templates(grader: Grader, prefix: str = "") -> Iterator[tuple[str, Template]]:
    """Every (dotted path in the spec, template) of ``grader`` and its sub-graders, in spec order."""
    yield from _walk(grader.config, prefix)


def _walk(value: Any, path: str) -> Iterator[tuple[str, Template]]:
    if isinstance(value, Template):
        yield path, value
    elif isinstance(value, Grader):
        yield from templates(value, path)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from _walk(child, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for position, child in enumerate(value):
            yield from _walk(child, f"{path}.{position}" if path else str(position))


def template_problems(grader: Grader, tasks: Iterable[Task]) -> list[str]:
    """One line per (template, variable) that cannot render against an item of ``tasks``, naming
    the template's path in the spec, the first data line where it fails and the item's keys;
    rows that cannot be read are reported too."""
    found = list(templates(grader))
    problems: dict[tuple[str, str], str] = {}
    for task in tasks:
        if task.error is not None:
            problems[("", task.error)] = f"data {task.error}"
            continue
        sample = task.sample if task.sample is not None else Sample("")
        for path, template in found:
            try:
                template.render(sample, task.item)
            except TemplateError as exc:
                if exc.path.startswith("item") and (path, exc.path) not in problems:
                    where = f"line {task.line}" if task.line is not None else f"row {task.index}"
                    problems[(path, exc.path)] = f"{path}: {exc} (first at data {where})"
    return list(problems.values())
