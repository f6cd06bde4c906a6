"""The ``json_schema`` grader's config: every field checked when the spec loads."""

from __future__ import annotations

import warnings
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema, field_validator, model_validator

from rft_core import GraderConfig, TemplateField

from ._fields import PATH_EXAMPLES, FieldCheck, parse_path
from ._validator import SchemaFile, check_schema, load_schema_file

__all__ = ["JsonSchemaConfig", "SchemaFileField"]

SchemaFileField = Annotated[
    SchemaFile,
    BeforeValidator(load_schema_file),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "description": "Path to a JSON Schema file, relative to the spec file's folder."}),
]
"""A config field naming a schema file: read and checked when the spec loads."""

with warnings.catch_warnings():
    # `schema` is the key users expect; it shadows pydantic v1's deprecated BaseModel.schema().
    warnings.filterwarnings("ignore", message='Field name "schema"', category=UserWarning)

    class JsonSchemaConfig(GraderConfig):
        """Config of ``json_schema``."""

        input: TemplateField | None = Field(
            default=None,
            description="Template for the JSON to grade; a string value is parsed as JSON. Default: the sample's "
            "output_text parsed as JSON, or the row's output_json when output_text is empty.",
        )
        schema: dict[str, Any] | bool | None = Field(
            default=None, description="Inline JSON Schema the output must satisfy (draft 2020-12 unless $schema says)."
        )
        schema_file: SchemaFileField | None = Field(
            default=None, description="Path to a JSON file holding the schema, instead of `schema`."
        )
        fields: dict[str, FieldCheck] = Field(
            default_factory=dict,
            description="Output fields to compare with the item, by JSON path (name, address.city, items[0].id). "
            "The reward is the weighted fraction that match.",
        )
        max_input_chars: int = Field(
            default=1_000_000, gt=0, description="Longer output text gets status parse_error instead of being parsed."
        )
        max_depth: int = Field(
            default=64,
            gt=0,
            le=128,
            description="Output nesting arrays/objects deeper than this gets status parse_error.",
        )
        regex_timeout: float = Field(
            default=1.0,
            gt=0,
            description="Seconds a schema `pattern` may run on one string before the grade times out.",
        )

        @field_validator("schema", mode="before")
        @classmethod
        def _schema_is_valid(cls, schema: Any) -> dict[str, Any] | bool | None:
            return None if schema is None else check_schema(schema)

        @field_validator("fields")
        @classmethod
        def _fields_are_valid(cls, fields: dict[str, FieldCheck]) -> dict[str, FieldCheck]:
            problems = []
            for path in fields:
                try:
                    parse_path(path)
                except ValueError as exc:
                    problems.append(str(exc))
            if problems:
                problems[-1] += f" (paths look like {PATH_EXAMPLES})"
            if fields and sum(check.weight for check in fields.values()) <= 0:
                problems.append("the fields' weights add up to 0; give at least one field a positive weight")
            if problems:
                raise ValueError("; ".join(problems))
            return fields

        @model_validator(mode="after")
        def _one_schema(self) -> JsonSchemaConfig:
            if self.schema is not None and self.schema_file is not None:
                raise ValueError("give either `schema` or `schema_file`, not both")
            return self

        def schema_document(self) -> dict[str, Any] | bool | None:
            """The schema to validate against, inline or from the file; None when neither is given."""
            return self.schema_file.schema if self.schema_file is not None else self.schema
