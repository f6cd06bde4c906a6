"""``json_schema``: grade structured output against a JSON Schema and, field by field, against the item."""

from __future__ import annotations

from typing import Any

from rft_core import Grader, Item, Result, Sample

from ._config import JsonSchemaConfig
from ._fields import lookup, parse_path
from ._json import check_depth, parse_document, parse_error
from ._validator import compile_validator, describe_errors

__all__ = ["JsonSchemaGrader"]


class JsonSchemaGrader(Grader):
    """Structured output: valid against a JSON Schema, then compared field by field with the item.

    Output that is not JSON (or is null, too long or too deeply nested) gets
    status parse_error. Output that fails the schema gets reward 0.0 and the
    first validation errors as its reason. Valid output gets the weighted
    fraction of ``fields`` that match, with one sub-reward per field; with no
    ``fields`` it gets 1.0.

    >>> grader = JsonSchemaGrader(schema={"type": "object", "required": ["city"]},
    ...                           fields={"city": {"reference": "{{ item.city }}", "match": "casefold"}})
    >>> grader.grade('{"city": "paris"}', {"city": "Paris"}).reward
    1.0
    """

    type = "json_schema"
    Config = JsonSchemaConfig
    config: JsonSchemaConfig
    transient = {"_validator": lambda grader: grader._compile()}  # a class built at run time: not picklable

    def __init__(self, config: JsonSchemaConfig | None = None, /, **fields: Any) -> None:
        super().__init__(config, **fields)
        self._paths = {path: parse_path(path) for path in self.config.fields}
        self._validator = self._compile()

    def evaluate(self, sample: Sample, item: Item) -> Result:
        document = self.document(sample, item)
        if self._validator is not None:
            errors = describe_errors(self._validator, document, self.config.regex_timeout)
            if errors:
                return Result(0.0, reason="does not match the schema: " + "; ".join(errors))
        if not self.config.fields:
            return Result(1.0)
        return self.compare_fields(document, sample, item)

    def document(self, sample: Sample, item: Item) -> Any:
        """The JSON value to grade, parsed and checked for depth; raises GradeError(parse_error)."""
        source = self.config.input
        if source is None and not sample.output_text.strip():
            value = sample.output_json
            if value is None:
                raise parse_error("the sample has no output: output_text is empty and output_json is null")
        elif source is None:
            value = sample.output_text
        else:
            value = source.resolve(sample, item)
            if value is None:
                raise parse_error(
                    f"input {source.text!r} is null, not a JSON document "
                    "(sample.output_json is null when the output is not a JSON object or array)"
                )
        if isinstance(value, str):
            value = parse_document(value, self.config.max_input_chars)
            if value is None:
                raise parse_error("the output is JSON null, not a document to grade")
        check_depth(value, self.config.max_depth)
        return value

    def compare_fields(self, document: Any, sample: Sample, item: Item) -> Result:
        """The weighted fraction of fields matching their references, one sub-reward each."""
        checks = self.config.fields
        results = {
            path: check.grade(lookup(document, self._paths[path]), check.reference.resolve(sample, item))
            for path, check in checks.items()
        }
        total = sum(check.weight for check in checks.values())
        reward = sum(check.weight * results[path].reward for path, check in checks.items()) / total
        failed = [path for path, result in results.items() if result.reward < 1.0]
        reason = f"{len(results) - len(failed)}/{len(results)} fields match"
        if failed:
            reason += "; not matching: " + ", ".join(failed)
        return Result(reward, reason=reason, sub_rewards=results)

    def _compile(self) -> Any:
        schema = self.config.schema_document()
        return None if schema is None else compile_validator(schema)

