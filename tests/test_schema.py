"""rft_core.kernel.schema: the JSON Schema of specs, built from the registered graders, for editors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import Field

from rft_core import Grader, GraderConfig, Result, SubGraders
from rft_core.kernel.registry import Registry
from rft_core.kernel.schema import spec_schema
from rft_core.kernel.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SPECS = sorted([*ROOT.glob("examples/*.yaml"), *ROOT.glob("examples/*.yml"), *ROOT.glob("examples/*.json")])


@pytest.fixture
def schema(registry):
    return spec_schema(registry)


@pytest.fixture
def validator(schema):
    return Draft202012Validator(schema)


def test_the_schema_is_valid_json_schema(schema):
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    # it survives a round trip through JSON (what `rft schema` prints)
    assert json.loads(json.dumps(schema)) == schema


def test_every_registered_type_has_a_definition(schema, registry):
    definitions = schema["$defs"]
    for type_name, entry in registry:
        definition = definitions[f"grader_{type_name}"]
        assert definition["properties"]["type"] == {"const": type_name, "description": "The grader type."}
        assert "type" in definition["required"]
        assert definition["title"] == type_name
        assert definition["description"] == entry.cls.summary()
        # extra="forbid" carries over, so editors flag typos
        assert definition["additionalProperties"] is False
    assert definitions["Grader"] == {"oneOf": [{"$ref": f"#/$defs/grader_{name}"} for name in registry.names()]}
    assert len(schema["oneOf"]) == len(registry)


def test_sub_graders_under_multi_reference_the_grader_union(schema):
    graders = schema["$defs"]["grader_multi"]["properties"]["graders"]
    assert graders["type"] == "object"
    assert graders["additionalProperties"] == {"$ref": "#/$defs/Grader"}


def test_spec_level_keys_are_allowed_at_the_root_only(schema):
    for variant in schema["oneOf"]:
        assert {"rft", "description", "requires", "defaults"} <= set(variant["properties"])
    for name, definition in schema["$defs"].items():
        if name.startswith("grader_"):
            assert "rft" not in definition["properties"]


@pytest.mark.parametrize(
    "spec",
    [
        # OpenAI's string_check as the API takes it
        {
            "type": "string_check",
            "name": "x",
            "input": "{{sample.output_text}}",
            "reference": "{{item.answer}}",
            "operation": "eq",
        },
        # text_similarity with OpenAI's fields
        {
            "type": "text_similarity",
            "reference": "{{ item.answer }}",
            "evaluation_metric": "fuzzy_match",
            "pass_threshold": 0.8,
        },
        # fuzzy_match with its own fields
        {"type": "fuzzy_match", "reference": "{{ item.answer }}", "metric": "token_sort_ratio", "pass_threshold": 0.9},
        # multi with calculate_output
        {
            "type": "multi",
            "graders": {
                "a": {"type": "string_check", "reference": "x"},
                "b": {"type": "fuzzy_match", "reference": "x"},
            },
            "calculate_output": "0.5 * a + 0.5 * b",
        },
        # nested multi with weights
        {
            "type": "multi",
            "graders": {
                "inner": {"type": "multi", "graders": {"c": {"type": "string_check", "reference": "x"}}},
                "d": {"type": "string_check", "reference": "y"},
            },
            "weights": {"inner": 2, "d": 1},
        },
        # every spec-level key
        {
            "rft": 1,
            "description": "trivia",
            "requires": ["rft-graders"],
            "defaults": {"casefold": True},
            "type": "string_check",
            "reference": "{{ item.answer }}",
        },
        # fallback: stages as a list, until as a status
        {"type": "fallback", "graders": [{"type": "math"}, {"type": "string_check", "reference": "x"}], "until": "ok"},
        # fallback: stages by key, until with a reward bound
        {"type": "fallback", "graders": {"a": {"type": "math"}, "b": {"type": "math"}},
         "until": {"status": "ok", "reward_at_least": 1}},
    ],
    ids=["openai-string_check", "text_similarity", "fuzzy_match", "multi", "nested-multi", "spec-keys",
         "fallback-list", "fallback-dict"],
)
def test_accepts_specs_the_loader_accepts(registry, validator, spec):
    load_spec(spec, registry)  # the loader takes it...
    assert [error.message for error in validator.iter_errors(spec)] == []  # ...and so does the schema


@pytest.mark.parametrize(
    "spec",
    [
        # an unknown field at the root
        {"type": "string_check", "reference": "x", "refrence": "y"},
        # an unknown field in a sub-grader
        {"type": "multi", "graders": {"a": {"type": "string_check", "reference": "x", "bogus": 1}}},
        # an unknown type
        {"type": "nosuch"},
        # a sub-grader of an unknown type
        {"type": "multi", "graders": {"a": {"type": "nosuch"}}},
        # a required field missing
        {"type": "string_check"},
        # a value outside an enum
        {"type": "string_check", "reference": "x", "operation": "equals"},
        # a format version other than 1
        {"rft": 2, "type": "string_check", "reference": "x"},
        # spec-level keys belong at the root, not in sub-graders
        {"type": "multi", "graders": {"a": {"type": "string_check", "reference": "x", "rft": 1}}},
        # fallback: a stage of an unknown type, an until that is no status
        {"type": "fallback", "graders": [{"type": "math"}, {"type": "nosuch"}]},
        {"type": "fallback", "graders": [{"type": "math"}, {"type": "math"}], "until": "done"},
    ],
    ids=["root-field", "sub-field", "type", "sub-type", "missing", "enum", "rft-2", "nested-spec-key",
         "fallback-stage-type", "fallback-until"],
)
def test_rejects_specs_the_loader_rejects(registry, validator, spec):
    assert list(validator.iter_errors(spec)) != []
    with pytest.raises(Exception):  # noqa: B017 - the loader's errors are tested in test_spec
        load_spec(spec, registry)


@pytest.mark.parametrize("path", EXAMPLE_SPECS, ids=[path.name for path in EXAMPLE_SPECS])
def test_accepts_the_example_specs(registry, validator, path):
    spec = json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(path.read_text())
    load_spec(path, registry)
    assert [error.message for error in validator.iter_errors(spec)] == []


# --- third-party graders ----------------------------------------------------------


class Plain(Grader):
    """Uses GraderConfig as is."""

    type = "plain"

    def evaluate(self, sample, item):
        return Result(1.0)


class AlsoPlain(Plain):
    """Shares Plain's config class."""

    type = "also_plain"


class Wrapper(Grader):
    """A third-party composite."""

    type = "wrapper"

    class Config(GraderConfig):
        inner: SubGraders = Field(description="Wrapped graders.")
        scale: float = Field(default=1.0, gt=0, description="Multiplier.")

    def evaluate(self, sample, item):
        return Result(1.0)


def test_third_party_graders_get_definitions_too():
    registry = Registry()
    for cls in (Plain, AlsoPlain, Wrapper):
        registry.register(cls, plugin="rft-test")
    schema = spec_schema(registry)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    # two types sharing one config class each get their own definition
    assert schema["$defs"]["grader_plain"]["properties"]["type"] == {
        "const": "plain",
        "description": "The grader type.",
    }
    assert schema["$defs"]["grader_also_plain"]["properties"]["type"]["const"] == "also_plain"
    assert schema["$defs"]["grader_wrapper"]["properties"]["inner"]["additionalProperties"] == {
        "$ref": "#/$defs/Grader"
    }
    good = {"type": "wrapper", "inner": {"x": {"type": "plain"}, "y": {"type": "also_plain", "name": "y"}}}
    assert list(validator.iter_errors(good)) == []
    assert list(validator.iter_errors({"type": "wrapper", "inner": {}, "scale": 0})) != []
    assert list(validator.iter_errors({"type": "plain", "extra": 1})) != []
