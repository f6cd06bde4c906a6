"""JSON Schema of specs, built from the registered graders, for editor autocompletion."""

from __future__ import annotations

import copy
from typing import Any

from pydantic.json_schema import models_json_schema

from .registry import Registry

__all__ = ["spec_schema"]

_SPEC_KEYS_SCHEMA = {
    "rft": {"const": 1, "description": "Spec format version."},
    "description": {"type": "string", "description": "What this spec grades."},
    "requires": {"type": "array", "items": {"type": "string"}, "description": "Plugin distributions this spec needs."},
    "defaults": {"type": "object", "description": "Field values for every grader that has the field and omits it."},
    "openai_strict": {"type": "boolean", "description": "Refuse to load unless OpenAI's graders would run the spec."},
}


def spec_schema(registry: Registry) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) accepting every spec the registry can build."""
    entries = list(registry)
    refs, top = models_json_schema(
        [(entry.cls.Config, "validation") for _, entry in entries], ref_template="#/$defs/{model}"
    )
    definitions: dict[str, Any] = top.get("$defs", {})
    # Every grader's class is called Config, so pydantic names their definitions by
    # module path; look each one up through the ref pydantic returned for it.
    config_keys = [refs[(entry.cls.Config, "validation")]["$ref"].rsplit("/", 1)[-1] for _, entry in entries]
    grader_refs = []
    root_variants = []
    for (type_name, entry), config_key in zip(entries, config_keys):
        key = f"grader_{type_name}"
        schema = copy.deepcopy(definitions[config_key])
        schema["title"] = type_name
        schema["description"] = entry.cls.summary()
        schema["properties"]["type"] = {"const": type_name, "description": "The grader type."}
        schema["required"] = sorted(set(schema.get("required", [])) | {"type"})
        definitions[key] = schema
        grader_refs.append({"$ref": f"#/$defs/{key}"})
        root = copy.deepcopy(schema)
        root["properties"].update(_SPEC_KEYS_SCHEMA)
        root_variants.append(root)
    for config_key in config_keys:
        definitions.pop(config_key, None)
    definitions["Grader"] = {"oneOf": grader_refs}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "rft-graders spec",
        "oneOf": root_variants,
        "$defs": definitions,
    }
