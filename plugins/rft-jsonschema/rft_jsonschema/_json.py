"""Untrusted JSON: parsing with caps, a depth check that does not recurse, and JSON equality."""

from __future__ import annotations

import json
from typing import Any

from rft_core import GradeError, Status

__all__ = ["check_depth", "json_key", "parse_document", "parse_error", "preview", "to_text"]


def parse_document(text: str, max_chars: int) -> Any:
    """Parse model output as strict JSON (no NaN/Infinity); anything else is a parse_error."""
    if len(text) > max_chars:
        raise parse_error(f"output has {len(text):,} characters, over max_input_chars={max_chars:,}")
    if not text.strip():
        raise parse_error("output is empty, not JSON")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise parse_error("output is not JSON that can be read: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity, integers over Python's digit limit
        raise parse_error(f"output is not JSON: {exc}") from None


def check_depth(value: Any, max_depth: int) -> None:
    """Raise parse_error when arrays/objects nest deeper than ``max_depth`` (iterative, any size)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > max_depth:
            raise parse_error(f"output nests arrays/objects deeper than max_depth={max_depth}")
        stack.extend((child, depth + 1) for child in children)


def json_key(value: Any) -> Any:
    """A hashable key equal for equal JSON values: 1 == 1.0, true != 1, object key order ignored."""
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, (int, float)):
        return ("number", value)
    if isinstance(value, str):
        return ("string", value)
    if value is None:
        return ("null",)
    if isinstance(value, list):
        return ("array", tuple(json_key(element) for element in value))
    if isinstance(value, dict):
        return ("object", frozenset((key, json_key(element)) for key, element in value.items()))
    return ("other", repr(value))


def to_text(value: Any) -> str:
    """Strings as they are, anything else as compact JSON (how templates render values)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def preview(value: Any, limit: int = 80) -> str:
    """A short, quoted view of a value for reasons."""
    text = repr(value[:limit]) if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_error(message: str) -> GradeError:
    """A GradeError with status parse_error and OpenAI's sample_parse_error code."""
    return GradeError(message, status=Status.PARSE_ERROR, code="sample_parse_error")
