"""JSON Schema loading, checking and validation, hardened for untrusted instances.

Every schema regex (``pattern``, ``patternProperties`` and the keywords that use it) runs
with the ``regex`` module under the grader's timeout (see ``_timed_re``), and ``uniqueItems``
hashes elements instead of jsonschema's quadratic fallback for arrays of objects.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from jsonschema.validators import extend, validator_for

from pydantic import ValidationInfo

from rft_core import read_named_file

from ._json import json_key, preview
from ._timed_re import install, regex_timeout

__all__ = ["ERRORS_SHOWN", "SchemaFile", "check_schema", "compile_validator", "describe_errors", "load_schema_file"]

ERRORS_SHOWN = 3
_MESSAGE_CHARS = 160

install()


class SchemaFile:
    """A schema read from a JSON file at load time; ``path`` is as the spec gave it."""

    __slots__ = ("path", "schema")

    def __init__(self, path: str, schema: dict[str, Any] | bool) -> None:
        self.path = path
        self.schema = schema

    def __str__(self) -> str:
        return self.path


def load_schema_file(value: Any, info: ValidationInfo | None) -> SchemaFile:
    """Read and check a schema file (a relative path starts from the spec file's folder, which the
    validation's ``info`` carries)."""
    if isinstance(value, SchemaFile):
        return value
    if not isinstance(value, str) or not value:
        raise ValueError("schema_file must be a path to a JSON file")
    text, where = read_named_file(value, "schema file", info)
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    try:
        check_schema(schema)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return SchemaFile(value, schema)


def check_schema(schema: Any) -> dict[str, Any] | bool:
    """Check a schema against its draft's metaschema; raise ValueError saying where it is wrong."""
    if not isinstance(schema, (dict, bool)):
        raise ValueError(f"a JSON Schema is an object or a boolean, not {type(schema).__name__}")
    validator_class = _validator_class(schema)
    if validator_class is None:
        raise ValueError(f"unsupported $schema {schema['$schema']!r}; omit it to use draft 2020-12")
    try:
        validator_class.check_schema(schema)
    except SchemaError as exc:
        raise ValueError(f"invalid JSON Schema at {exc.json_path}: {_shorten(exc.message)}") from None
    return schema


def compile_validator(schema: dict[str, Any] | bool) -> Validator:
    """A validator for a checked schema, reused for every grade."""

    def unique_items(validator: Any, unique: bool, instance: Any, _schema: Any):
        if not (unique and validator.is_type(instance, "array")):
            return
        seen = set()
        for element in instance:
            key = json_key(element)
            if key in seen:
                yield ValidationError(f"{preview(instance)} has non-unique elements")
                return
            seen.add(key)

    return extend(_validator_class(schema), {"uniqueItems": unique_items})(schema)


def describe_errors(validator: Validator, document: Any, timeout: float) -> list[str]:
    """Up to ERRORS_SHOWN errors as ``$.path: message``, plus ``...`` when there are more; a schema
    regex running over ``timeout`` seconds raises GradeError(timeout)."""
    with regex_timeout(timeout):
        errors = list(itertools.islice(validator.iter_errors(document), ERRORS_SHOWN + 1))
    described = [f"{error.json_path}: {_shorten(error.message)}" for error in errors[:ERRORS_SHOWN]]
    return described + ["..."] if len(errors) > ERRORS_SHOWN else described


def _validator_class(schema: dict[str, Any] | bool) -> Any:
    """The draft named by ``$schema`` (None if unknown), else draft 2020-12."""
    if isinstance(schema, dict) and isinstance(schema.get("$schema"), str):
        return validator_for(schema, default=None)
    return Draft202012Validator


def _shorten(message: str) -> str:
    return message if len(message) <= _MESSAGE_CHARS else message[: _MESSAGE_CHARS - 3] + "..."
