"""OpenAI-style templates: ``{{ item.answer }}``, ``{{ sample.output_json.a[0].b }}``.

Only the ``item`` and ``sample`` namespaces exist. Strings render as they are,
other values as compact JSON. A missing variable raises TemplateError
(``invalid_variable``) naming the template and the path; it never renders empty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from operator import attrgetter, itemgetter
from typing import Annotated, Any, cast

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from .errors import TemplateError
from .types import Item, Sample

__all__ = ["Template", "TemplateField"]

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.S)
_SEGMENT = re.compile(r"""\.\s*([^.\[\]\s]+)|\[\s*(-?\d+)\s*\]|\[\s*"([^"]*)"\s*\]|\[\s*'([^']*)'\s*\]""")
_HEAD = re.compile(r"\s*(item|sample)\b")
_SAMPLE_FIELDS = ("output_text", "output_json", "output_tools", "choices")


class _Variable:
    __slots__ = ("namespace", "steps", "path")

    def __init__(self, namespace: str, steps: tuple[str | int, ...], path: str) -> None:
        self.namespace = namespace
        self.steps = steps
        self.path = path


class Template:
    """A compiled template; build with ``Template(text)``, render with ``render(sample, item)``."""

    __slots__ = ("text", "_parts", "_single", "render")

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"a template must be a string, not {type(text).__name__}")
        self.text = text
        parts: list[str | _Variable] = []
        position = 0
        for match in _PLACEHOLDER.finditer(text):
            if match.start() > position:
                parts.append(text[position : match.start()])
            parts.append(_compile_variable(match.group(1)))
            position = match.end()
        if position < len(text):
            parts.append(text[position:])
        for part in parts:
            if isinstance(part, str) and "{{" in part:
                raise ValueError(f"template {text!r} has a '{{{{' that is never closed with '}}}}'")
        self._parts = tuple(parts)
        self._single = parts[0] if len(parts) == 1 and isinstance(parts[0], _Variable) else None
        self.render = self._choose_renderer()

    @property
    def variables(self) -> list[str]:
        """The paths this template reads, e.g. ``["item.answer"]``."""
        return [part.path for part in self._parts if isinstance(part, _Variable)]

    @property
    def item_fields(self) -> list[str]:
        """The top-level item fields this template reads, e.g. ``["answer"]`` for ``{{ item.answer[0] }}``."""
        return [
            str(part.steps[0])
            for part in self._parts
            if isinstance(part, _Variable) and part.namespace == "item" and part.steps
        ]

    def resolve(self, sample: Sample, item: Item) -> Any:
        """The raw value when the template is exactly one variable, else the rendered string."""
        if self._single is not None:
            return self._lookup(self._single, sample, item)
        return self.render(sample, item)

    def _choose_renderer(self) -> Callable[[Sample, Item], str]:
        """The fastest correct ``render(sample, item) -> str`` for this template's shape."""
        if not self._parts:
            return lambda sample, item: ""
        if self._single is not None:
            single = self._single
            return lambda sample, item: _to_text(self._lookup(single, sample, item))
        if len(self._parts) == 1:
            constant = cast(str, self._parts[0])  # a lone variable is `_single`, so this part is text
            return lambda sample, item: constant
        return self._render_parts

    def render_batch(self, samples: Sequence[Sample], items: Sequence[Item]) -> list[str]:
        """``render`` for many rows; a plain one-step variable is read with a C-level getter.

        Raises on the first row that cannot render (TemplateError, or KeyError/TypeError
        from the fast path); callers then render row by row to attribute the failure.
        """
        if self._single is not None:
            values = self.resolve_batch(samples, items)
            if set(map(type, values)) == {str}:
                return values
            return [value if type(value) is str else _to_text(value) for value in values]
        render = self.render
        return [render(sample, item) for sample, item in zip(samples, items)]

    def resolve_batch(self, samples: Sequence[Sample], items: Sequence[Item]) -> list[Any]:
        """``resolve`` for many rows; a plain one-step variable is read with a C-level getter.

        Raises like ``render_batch`` on the first row that cannot resolve.
        """
        single = self._single
        if single is not None and len(single.steps) == 1 and isinstance(single.steps[0], str):
            if single.namespace == "sample":
                return list(map(attrgetter(single.steps[0]), samples))
            return list(map(itemgetter(single.steps[0]), items))
        resolve = self.resolve
        return [resolve(sample, item) for sample, item in zip(samples, items)]

    def render_marked(self, sample: Sample, item: Item, mark_sample: Callable[[str], str]) -> str:
        """``render``, with the text of every ``sample.*`` variable passed through ``mark_sample``
        (e.g. to delimit untrusted model output inside a judge prompt); item values render as usual."""
        return "".join(
            part
            if isinstance(part, str)
            else mark_sample(_to_text(self._lookup(part, sample, item)))
            if part.namespace == "sample"
            else _to_text(self._lookup(part, sample, item))
            for part in self._parts
        )

    def _render_parts(self, sample: Sample, item: Item) -> str:
        return "".join(
            part if isinstance(part, str) else _to_text(self._lookup(part, sample, item)) for part in self._parts
        )

    def _lookup(self, variable: _Variable, sample: Sample, item: Item) -> Any:
        if variable.namespace == "item":
            value: Any = item
            steps = variable.steps
        else:
            value = getattr(sample, cast(str, variable.steps[0]))  # a sample variable starts with a field name
            steps = variable.steps[1:]
        for step in steps:
            value = _step(value, step, self.text, variable.path)
        return value

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Template({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Template) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __reduce__(self) -> tuple[type[Template], tuple[str]]:
        return (Template, (self.text,))  # the compiled renderer is a closure: rebuild, don't pickle it


def _compile_variable(source: str) -> _Variable:
    head = _HEAD.match(source)
    if head is None:
        raise ValueError(
            f"template variable {{{{{source}}}}} must start with 'item' or 'sample' "
            "(e.g. {{ item.answer }} or {{ sample.output_text }})"
        )
    steps: list[str | int] = []
    position = head.end()
    rest = source.rstrip()
    while position < len(rest):
        match = _SEGMENT.match(rest, position)
        if match is None:
            raise ValueError(f"cannot read template variable {{{{{source}}}}} at {rest[position:]!r}")
        name, index, double_quoted, single_quoted = match.groups()
        if index is not None:
            steps.append(int(index))
        else:
            steps.append(next(part for part in (name, double_quoted, single_quoted) if part is not None))
        position = match.end()
    namespace = head.group(1)
    if namespace == "sample":
        if not steps or steps[0] not in _SAMPLE_FIELDS:
            raise ValueError(
                f"template variable {{{{{source}}}}}: a sample has {', '.join(_SAMPLE_FIELDS)}"
            )
    return _Variable(namespace, tuple(steps), source.strip())


def _step(value: Any, step: str | int, template: str, path: str) -> Any:
    if type(value) is dict and step in value:  # the common case, without ABC checks
        return value[step]
    if isinstance(value, Mapping):
        key: Any = step if step in value else str(step)
        if key not in value:
            raise TemplateError(template, path, f"no key {step!r} (keys: {_preview(list(value))})")
        return value[key]
    if isinstance(value, Sequence) and not isinstance(value, str):
        if not isinstance(step, int):
            raise TemplateError(template, path, f"{step!r} is not a list index (the value is a list)")
        if not -len(value) <= step < len(value):
            raise TemplateError(template, path, f"index {step} out of range (list has {len(value)} items)")
        return value[step]
    kind = "null" if value is None else type(value).__name__
    raise TemplateError(template, path, f"cannot look up {step!r} in a {kind}")


def _preview(keys: list[Any]) -> str:
    shown = ", ".join(map(str, keys[:10]))
    return shown + (", ..." if len(keys) > 10 else "") if keys else "none"


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _as_template(value: Any) -> Template:
    if isinstance(value, Template):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a template string, got {type(value).__name__}")
    return Template(value)


TemplateField = Annotated[
    Template,
    BeforeValidator(_as_template),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "description": "Template, e.g. {{ item.answer }}"}),
]
"""A config field holding a template: validated and compiled when the spec loads."""
