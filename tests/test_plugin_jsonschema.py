"""Tests for the rft-jsonschema plugin distribution (plugins/rft-jsonschema)."""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from rft_core import SpecError, Status, load_spec
from rft_core.kernel.registry import Registry
from rft_core.kernel.schema import spec_schema

from plugin_install import pip_install

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_DIR = ROOT / "plugins" / "rft-jsonschema"
if importlib.util.find_spec("rft_jsonschema") is None:  # not installed: import it from the checkout
    sys.path.insert(0, str(PLUGIN_DIR))

import rft_jsonschema  # noqa: E402
from rft_jsonschema import JsonSchemaGrader  # noqa: E402

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
}


@pytest.fixture
def plugin_registry(registry):
    """The built-in graders plus json_schema, registered as the plugin would be."""
    registry.register(JsonSchemaGrader, plugin="rft-jsonschema")
    return registry


@pytest.fixture
def build(plugin_registry):
    """Build a json_schema grader from spec fields through load_spec."""

    def build(**fields):
        return load_spec({"type": "json_schema", **fields}, registry=plugin_registry)

    return build


def spec_problems(registry, spec: dict) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(spec, registry=registry)
    return [str(issue) for issue in caught.value.issues]


# --- registration -------------------------------------------------------------------------------


def test_hook_registers_json_schema_under_the_plugin_name(pm):
    pm.register(rft_jsonschema, name="rft-jsonschema")
    entry = Registry.from_plugin_manager(pm).get("json_schema")
    assert entry is not None
    assert entry.cls is JsonSchemaGrader
    assert entry.plugin == "rft-jsonschema"


def test_not_registered_without_the_plugin(registry):
    assert registry.get("json_schema") is None


# --- the schema ---------------------------------------------------------------------------------

SCHEMA_CASES = [
    # a document that satisfies the schema gets 1.0 when there are no fields
    (PERSON, '{"name": "Ada", "age": 36}', 1.0, None),
    # a missing required property: 0.0, status ok, the error named with its path
    (PERSON, '{"name": "Ada"}', 0.0, "does not match the schema: $: 'age' is a required property"),
    # a nested type error is reported at its JSON path
    (PERSON, '{"name": "Ada", "age": "36"}', 0.0, "does not match the schema: $.age: '36' is not of type 'integer'"),
    # JSON that is not an object is graded, not a crash
    (PERSON, "[1, 2]", 0.0, "does not match the schema: $: [1, 2] is not of type 'object'"),
    ({"type": "integer"}, "42", 1.0, None),
    ({"type": "object"}, '"text"', 0.0, "does not match the schema: $: 'text' is not of type 'object'"),
    # the boolean schema false rejects everything
    (False, "{}", 0.0, "does not match the schema: $: False schema does not allow {}"),
    # at most three errors are listed, then "..."
    (
        {"type": "object", "properties": {key: {"type": "string"} for key in "abcd"}},
        '{"a": 1, "b": 2, "c": 3, "d": 4}',
        0.0,
        "does not match the schema: $.a: 1 is not of type 'string'; $.b: 2 is not of type 'string'; "
        "$.c: 3 is not of type 'string'; ...",
    ),
    # uniqueItems compares JSON values: key order does not matter, 1 equals 1.0, true is not 1
    ({"uniqueItems": True}, '[{"a": 1, "b": 2}, {"b": 2, "a": 1}]', 0.0, "non-unique elements"),
    ({"uniqueItems": True}, "[1, 1.0]", 0.0, "non-unique elements"),
    ({"uniqueItems": True}, "[1, true, [1], [true], {}]", 1.0, None),
    # pattern is a search, like jsonschema's
    ({"properties": {"id": {"pattern": "^[A-Z]{3}-\\d+$"}}}, '{"id": "ABC-12"}', 1.0, None),
    ({"properties": {"id": {"pattern": "^[A-Z]{3}-\\d+$"}}}, '{"id": "abc-12"}', 0.0, "$.id: 'abc-12' does not match"),
    # $schema selects the draft: in draft-04 exclusiveMaximum is a boolean
    (
        {"$schema": "http://json-schema.org/draft-04/schema#", "maximum": 5, "exclusiveMaximum": True},
        "5",
        0.0,
        "does not match the schema: $: 5 is greater than or equal to the maximum of 5",
    ),
]
SCHEMA_IDS = [
    "valid", "missing_required", "nested_type", "array_output", "scalar_output", "string_output", "false_schema",
    "three_errors_then_more", "unique_key_order", "unique_int_float", "unique_bool_not_int", "pattern_ok",
    "pattern_fails", "draft04",
]  # fmt: skip


@pytest.mark.parametrize(("schema", "output", "reward", "reason"), SCHEMA_CASES, ids=SCHEMA_IDS)
def test_schema(build, schema, output, reward, reason):
    result = build(schema=schema).grade(output)
    assert result.status is Status.OK
    assert result.reward == reward
    if reason is None:
        assert result.reason is None
    else:
        assert reason in result.reason


def test_schema_file_is_read_relative_to_the_spec_files_folder(plugin_registry, tmp_path, monkeypatch):
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "person.json").write_text(json.dumps(PERSON))
    (folder / "spec.yaml").write_text("type: json_schema\nschema_file: person.json\n")
    monkeypatch.chdir(tmp_path)  # elsewhere: the spec's own folder still wins
    grader = load_spec(folder / "spec.yaml", registry=plugin_registry)
    assert grader.grade('{"name": "Ada", "age": -1}').reward == 0.0
    assert grader.grade('{"name": "Ada", "age": 36}').reward == 1.0


def test_schema_file_of_a_python_spec_is_read_relative_to_the_working_directory(build, tmp_path, monkeypatch):
    (tmp_path / "person.json").write_text(json.dumps(PERSON))
    monkeypatch.chdir(tmp_path)
    grader = build(schema_file="person.json")
    assert grader.grade('{"name": "Ada", "age": 36}').reward == 1.0
    assert grader.grade('{"name": "Ada", "age": -1}').reason == (
        "does not match the schema: $.age: -1 is less than the minimum of 0"
    )


def test_no_schema_and_no_fields_accepts_any_json(build):
    grader = build()
    assert grader.grade("[]").reward == 1.0
    assert grader.grade("not json").status is Status.PARSE_ERROR


def test_slow_pattern_times_out(build):
    grader = build(schema={"properties": {"code": {"pattern": "^(a+)+$"}}}, regex_timeout=0.01)
    result = grader.grade(json.dumps({"code": "a" * 20_000 + "!"}))
    assert result.status is Status.TIMEOUT
    assert result.reason == "schema pattern '^(a+)+$' ran over regex_timeout=0.01s"
    assert result.error_code == "timeout_error"


SLOW_KEY = "a" * 20_000 + "!"  # ^(a+)+$ backtracks on it for seconds without a timeout
KEY_REGEX_SCHEMAS = {
    "patternProperties": {"patternProperties": {"^(a+)+$": {"type": "string"}}},
    "additionalProperties": {"patternProperties": {"^(a+)+$": {}}, "additionalProperties": False},
    "unevaluatedProperties": {"allOf": [{"patternProperties": {"^(a+)+$": {}}}], "unevaluatedProperties": False},
    "propertyNames": {"propertyNames": {"pattern": "^(a+)+$"}},
    "draft3": {"$schema": "http://json-schema.org/draft-03/schema#", "patternProperties": {"^(a+)+$": {}},
               "additionalProperties": False},
}


@pytest.mark.parametrize("schema", KEY_REGEX_SCHEMAS.values(), ids=KEY_REGEX_SCHEMAS)
def test_regexes_matched_against_object_keys_time_out(build, schema):
    grader = build(schema=schema, regex_timeout=0.01)
    result = grader.grade(json.dumps({SLOW_KEY: "x"}))
    assert result.status is Status.TIMEOUT
    assert result.reason == "schema pattern '^(a+)+$' ran over regex_timeout=0.01s"
    assert grader.grade(json.dumps({"aaa": "x"})).reward == 1.0  # the keyword still works


def test_regex_timeout_is_one_budget_for_all_of_an_outputs_regexes(build):
    # each key alone stays under the budget; all of them together do not
    grader = build(schema=KEY_REGEX_SCHEMAS["patternProperties"], regex_timeout=0.05)
    keys = {"a" * 1_000 + "!" * (1 + n): n for n in range(400)}
    result = grader.grade(json.dumps(keys))
    assert result.status is Status.TIMEOUT


def test_key_regexes_without_a_grade_in_progress_run_as_re_would():
    # jsonschema used directly (outside a grade) still validates, with no timeout to raise
    validator = jsonschema.Draft202012Validator(KEY_REGEX_SCHEMAS["additionalProperties"])
    assert validator.is_valid({"aaa": 1}) and not validator.is_valid({"b": 1})


# --- what is graded: parse errors and hostile input ---------------------------------------------

PARSE_ERROR_CASES = [
    ("not json", "output is not JSON: Expecting value: line 1 column 1 (char 0)"),
    # a markdown code fence is not JSON
    ('```json\n{"a": 1}\n```', "output is not JSON: Expecting value: line 1 column 1 (char 0)"),
    ("", "the sample has no output: output_text is empty and output_json is null"),
    ("null", "the output is JSON null, not a document to grade"),
    # strict JSON: NaN and Infinity are Python extensions
    ('{"a": NaN}', "output is not JSON: NaN is not valid JSON"),
    ("[Infinity]", "output is not JSON: Infinity is not valid JSON"),
    # 10,000 levels: the JSON parser gives up, the grade does not crash
    ("[" * 10_000 + "]" * 10_000, "output is not JSON that can be read: nested too deeply"),
    ('{"a":' * 10_000 + "1" + "}" * 10_000, "output is not JSON that can be read: nested too deeply"),
    # parseable, but deeper than max_depth
    ("[" * 65 + "]" * 65, "output nests arrays/objects deeper than max_depth=64"),
    # over max_input_chars (1,000,000 by default)
    (json.dumps({"name": "x" * 1_000_000}), "output has 1,000,012 characters, over max_input_chars=1,000,000"),
]
PARSE_ERROR_IDS = [
    "prose", "code_fence", "empty", "null", "nan", "infinity", "deep_arrays_10000", "deep_objects_10000",
    "over_max_depth", "over_max_input_chars",
]  # fmt: skip


@pytest.mark.parametrize(("output", "reason"), PARSE_ERROR_CASES, ids=PARSE_ERROR_IDS)
def test_output_that_cannot_be_graded_is_a_parse_error(build, output, reason):
    result = build(schema=PERSON, fields={"name": "{{ item.name }}"}).grade(output, {"name": "Ada"})
    assert result.status is Status.PARSE_ERROR
    assert result.reward == 0.0
    assert result.reason == reason
    assert result.error_code == "sample_parse_error"


def test_nesting_at_max_depth_is_graded(build):
    assert build(schema={"type": "array"}).grade("[" * 64 + "]" * 64).reward == 1.0
    assert build(max_depth=3).grade('{"a": [{"b": 1}]}').reward == 1.0
    assert build(max_depth=2).grade('{"a": [{"b": 1}]}').status is Status.PARSE_ERROR


def test_megabyte_string_under_the_cap_is_graded_and_the_reason_stays_short(build):
    grader = build(schema={"properties": {"name": {"type": "string", "maxLength": 10}}})
    result = grader.grade(json.dumps({"name": "x" * 999_000}))
    assert result.status is Status.OK
    assert result.reward == 0.0
    assert result.reason.startswith("does not match the schema: $.name: 'xxxx")
    assert len(result.reason) < 250


def test_deep_python_value_is_checked_without_recursion(build):
    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    result = build(input="{{ item.payload }}").grade("", {"payload": deep})
    assert result.status is Status.PARSE_ERROR
    assert result.reason == "output nests arrays/objects deeper than max_depth=64"


# --- where the JSON comes from ------------------------------------------------------------------

INPUT_CASES = [
    # default: output_text parsed as JSON
    (None, {"output_text": '{"name": "Ada", "age": 36}'}, {}, 1.0),
    # default: the row's output_json when output_text is empty
    (None, {"output_json": {"name": "Ada", "age": 36}}, {}, 1.0),
    (None, {"output_json": {"name": "Ada"}}, {}, 0.0),
    # a template giving a string parses it
    ("{{ sample.output_text }}", {"output_text": '{"name": "Ada", "age": 36}'}, {}, 1.0),
    # a template giving a value grades it as it is
    ("{{ item.payload }}", {"output_text": "ignored"}, {"payload": {"name": "Ada", "age": 36}}, 1.0),
    ("{{ sample.output_json.person }}", {"output_text": '{"person": {"name": "Ada", "age": 1}}'}, {}, 1.0),
]
INPUT_IDS = [
    "default_text", "default_output_json", "default_output_json_invalid", "template_string", "template_value",
    "template_nested",
]  # fmt: skip


@pytest.mark.parametrize(("template", "sample", "item", "reward"), INPUT_CASES, ids=INPUT_IDS)
def test_input(build, template, sample, item, reward):
    fields = {"schema": PERSON} if template is None else {"schema": PERSON, "input": template}
    result = build(**fields).grade(sample, item)
    assert result.status is Status.OK
    assert result.reward == reward


def test_output_json_template_on_prose_is_a_parse_error(build):
    result = build(input="{{ sample.output_json }}").grade("The answer is 4")
    assert result.status is Status.PARSE_ERROR
    assert result.reason == (
        "input '{{ sample.output_json }}' is null, not a JSON document "
        "(sample.output_json is null when the output is not a JSON object or array)"
    )


# --- fields -------------------------------------------------------------------------------------

FIELD_CASES = [
    # exact: equal JSON values
    ({"name": "{{ item.name }}"}, {"name": "Ada"}, {"name": "Ada"}, 1.0),
    ({"name": "{{ item.name }}"}, {"name": "ada"}, {"name": "Ada"}, 0.0),
    ({"n": "{{ item.n }}"}, {"n": 1.0}, {"n": 1}, 1.0),
    ({"n": "{{ item.n }}"}, {"n": True}, {"n": 1}, 0.0),
    ({"obj": "{{ item.obj }}"}, {"obj": {"b": [1, 2], "a": None}}, {"obj": {"a": None, "b": [1, 2]}}, 1.0),
    ({"obj": "{{ item.obj }}"}, {"obj": {"b": [2, 1], "a": None}}, {"obj": {"a": None, "b": [1, 2]}}, 0.0),
    # exact: a string reference is compared with the value's JSON text (templates render that way)
    ({"id": "ID-{{ item.n }}"}, {"id": "ID-7"}, {"n": 7}, 1.0),
    ({"n": "{{ item.n }}"}, {"n": 7}, {"n": "7"}, 1.0),
    ({"n": "{{ item.n }}"}, {"n": "7"}, {"n": 7}, 0.0),
    # casefold: text ignoring case and surrounding whitespace
    ({"city": {"reference": "{{ item.city }}", "match": "casefold"}}, {"city": " PARIS "}, {"city": "Paris"}, 1.0),
    ({"city": {"reference": "{{ item.city }}", "match": "casefold"}}, {"city": "Pariss"}, {"city": "Paris"}, 0.0),
    # number: within tolerance; numeric strings count, booleans and words do not
    ({"x": {"reference": "{{ item.x }}", "match": "number", "tolerance": 0.5}}, {"x": 10.4}, {"x": 10}, 1.0),
    ({"x": {"reference": "{{ item.x }}", "match": "number", "tolerance": 0.5}}, {"x": 10.6}, {"x": 10}, 0.0),
    ({"x": {"reference": "{{ item.x }}", "match": "number"}}, {"x": "10.0"}, {"x": 10}, 1.0),
    ({"x": {"reference": "{{ item.x }}", "match": "number"}}, {"x": 10}, {"x": "1e1"}, 1.0),
    ({"x": {"reference": "{{ item.x }}", "match": "number"}}, {"x": True}, {"x": 1}, 0.0),
    ({"x": {"reference": "{{ item.x }}", "match": "number"}}, {"x": "ten"}, {"x": 10}, 0.0),
    # paths: nested keys, list indexes, quoted keys
    ({"address.city": "{{ item.city }}"}, {"address": {"city": "Oslo"}}, {"city": "Oslo"}, 1.0),
    ({"items[1].id": "{{ item.id }}"}, {"items": [{"id": 1}, {"id": 2}]}, {"id": 2}, 1.0),
    ({'meta["a.b"]': "{{ item.v }}"}, {"meta": {"a.b": "x"}}, {"v": "x"}, 1.0),
    # a missing field does not match
    ({"address.city": "{{ item.city }}"}, {"address": {}}, {"city": "Oslo"}, 0.0),
    ({"items[1].id": "{{ item.id }}"}, {"items": [{"id": 1}]}, {"id": 1}, 0.0),
    ({"items[0]": "{{ item.id }}"}, {"items": {"0": 1}}, {"id": 1}, 0.0),
    ({"name.first": "{{ item.v }}"}, {"name": "Ada"}, {"v": "Ada"}, 0.0),
]
FIELD_IDS = [
    "exact_equal", "exact_case", "exact_int_float", "exact_bool_not_int", "exact_object_key_order",
    "exact_list_order", "exact_string_template", "exact_value_vs_string_ref", "exact_string_vs_number_ref",
    "casefold_match", "casefold_mismatch", "number_within", "number_outside", "number_string", "number_ref_string",
    "number_bool", "number_word", "path_nested", "path_index", "path_quoted", "missing_nested", "missing_index",
    "index_into_object", "key_into_string",
]  # fmt: skip


@pytest.mark.parametrize(("fields", "output", "item", "reward"), FIELD_CASES, ids=FIELD_IDS)
def test_field(build, fields, output, item, reward):
    result = build(fields=fields).grade(json.dumps(output), item)
    assert result.status is Status.OK
    assert result.reward == reward
    [(path, sub)] = result.sub_rewards.items()
    assert path == next(iter(fields))
    assert sub.reward == reward


def test_weighted_fields_and_their_sub_rewards(build):
    grader = build(
        schema=PERSON,
        fields={
            "name": {"reference": "{{ item.name }}", "weight": 3},
            "age": {"reference": "{{ item.age }}", "match": "number"},
            "email": {"reference": "{{ item.email }}", "weight": 0},
        },
    )
    result = grader.grade('{"name": "Ada", "age": 35}', {"name": "Ada", "age": 36, "email": "a@b.c"})
    assert result.status is Status.OK
    assert result.reward == 0.75
    assert result.reason == "1/3 fields match; not matching: age, email"
    assert {path: sub.reward for path, sub in result.sub_rewards.items()} == {"name": 1.0, "age": 0.0, "email": 0.0}
    assert result.sub_rewards["age"].reason == "got 35, expected 36"
    assert result.sub_rewards["email"].reason == "missing in the output"
    assert grader.grade('{"name": "Ada", "age": 36}', {"name": "Ada", "age": 36, "email": ""}).reward == 1.0


def test_output_failing_the_schema_scores_zero_without_comparing_fields(build):
    grader = build(schema=PERSON, fields={"name": "{{ item.name }}"})
    result = grader.grade('{"name": "Ada"}', {"name": "Ada"})
    assert (result.reward, result.status, result.sub_rewards) == (0.0, Status.OK, {})
    assert result.reason == "does not match the schema: $: 'age' is a required property"


def test_fields_on_non_object_output_are_missing(build):
    result = build(fields={"name": "{{ item.name }}"}).grade("[1, 2, 3]", {"name": "Ada"})
    assert (result.reward, result.status) == (0.0, Status.OK)
    assert result.sub_rewards["name"].reason == "missing in the output"


def test_reference_that_is_not_a_number_is_an_error(build):
    grader = build(fields={"x": {"reference": "{{ item.x }}", "match": "number"}})
    result = grader.grade('{"x": 1}', {"x": "one"})
    assert result.status is Status.ERROR
    assert result.reason == "reference 'one' of a match: number field is not a number"


def test_reference_naming_a_missing_item_key_is_an_invalid_variable_error(build):
    result = build(fields={"name": "{{ item.name }}"}).grade('{"name": "Ada"}', {"nome": "Ada"})
    assert result.status is Status.ERROR
    assert result.error_code == "invalid_variable_error"
    assert "item.name" in result.reason


def test_inside_multi_each_field_shows_in_the_report(plugin_registry):
    grader = load_spec(
        {
            "type": "multi",
            "calculate_output": "0.5 * structure + 0.5 * exact",
            "graders": {
                "structure": {"type": "json_schema", "schema": PERSON, "fields": {"name": "{{ item.name }}"}},
                "exact": {"type": "string_check", "reference": "{{ item.raw }}"},
            },
        },
        registry=plugin_registry,
    )
    result = grader.grade('{"name": "Ada", "age": 1}', {"name": "Ada", "raw": "nope"})
    assert result.reward == 0.5
    assert result.sub_rewards["structure"].sub_rewards["name"].reward == 1.0


# --- config errors at load time -----------------------------------------------------------------


def test_schema_file_problems_name_the_file(plugin_registry, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.json").write_text('{"type": ')
    (tmp_path / "wrong.json").write_text('{"type": "objekt"}')
    problems = spec_problems(
        plugin_registry,
        {
            "type": "multi",
            "graders": {
                "missing": {"type": "json_schema", "schema_file": "missing.json"},
                "broken": {"type": "json_schema", "schema_file": "broken.json"},
                "wrong": {"type": "json_schema", "schema_file": str(tmp_path / "wrong.json")},
            },
        },
    )
    assert problems == [
        f"graders.missing.schema_file: schema file 'missing.json' (resolved to {tmp_path / 'missing.json'}) not "
        "found; relative paths start from the spec file's folder",
        f"graders.broken.schema_file: schema file 'broken.json' (resolved to {tmp_path / 'broken.json'}) is not "
        "valid JSON: Expecting value (line 1, column 10)",
        f"graders.wrong.schema_file: schema file '{tmp_path / 'wrong.json'}': invalid JSON Schema at $.type: "
        "'objekt' is not valid under any of the given schemas",
    ]


def test_bad_schema_file_fails_load_spec_of_a_yaml_file_with_its_line(plugin_registry, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.yaml").write_text("type: json_schema\nrequires: [rft-jsonschema]\nschema_file: nope.json\n")
    with pytest.raises(SpecError) as caught:
        load_spec(tmp_path / "spec.yaml", registry=plugin_registry)
    assert str(caught.value).splitlines() == [
        f"{tmp_path / 'spec.yaml'}: 1 problem",
        f"  schema_file (line 3): schema file 'nope.json' (resolved to {tmp_path / 'nope.json'}) not found; "
        "relative paths start from the spec file's folder",
    ]


CONFIG_ERROR_CASES = [
    ({"schema": {"type": "objekt"}}, "schema: invalid JSON Schema at $.type: 'objekt' is not valid under any of the given schemas"),
    ({"schema": {"properties": {"a": {"pattern": "(open"}}}}, "schema: invalid JSON Schema at $.properties.a.pattern: '(open' is not a 'regex'"),
    ({"schema": {"$schema": "http://example.com/mine"}}, "schema: unsupported $schema 'http://example.com/mine'; omit it to use draft 2020-12"),
    ({"schema": [1]}, "schema: a JSON Schema is an object or a boolean, not list"),
    ({"schema": {}, "schema_file": "x.json"}, "schema_file: schema file 'x.json' (resolved to {cwd}/x.json) not found; relative paths start from the spec file's folder"),
    ({"fields": {"a..b": "{{ item.x }}", "c[x]": "{{ item.x }}"}}, "fields: field path 'a..b' does not read at '..b'; field path 'c[x]' does not read at '[x]' (paths look like name, address.city, items[0].id, [\"key.with.dots\"])"),
    ({"fields": {"a": {"reference": "{{ item.x }}", "weight": 0}}}, "fields: the fields' weights add up to 0; give at least one field a positive weight"),
    ({"fields": {"a": {"reference": "{{ item.x }}", "tolerance": 0.1}}}, "fields.a: tolerance applies only to match: number (this field has match: exact)"),
    ({"fields": {"a": {"reference": "{{ item.x }}", "match": "fuzzy"}}}, "fields.a.match: Input should be 'exact', 'casefold' or 'number'"),
    ({"fields": {"a": {"reference": "{{ answer }}"}}}, "fields.a.reference: template variable {{ answer }} must start with 'item' or 'sample' (e.g. {{ item.answer }} or {{ sample.output_text }})"),
    ({"fields": {"a": {"reference": "{{ item.x }}", "wieght": 2}}}, "fields.a.wieght: Extra inputs are not permitted"),
    ({"max_depth": 1000}, "max_depth: Input should be less than or equal to 128"),
    ({"schemas": {}}, "schemas: unknown field 'schemas' (did you mean 'schema'?); fields: type, name, grader_timeout, input, schema, schema_file, fields, max_input_chars, max_depth, regex_timeout"),
]  # fmt: skip
CONFIG_ERROR_IDS = [
    "invalid_schema", "invalid_pattern", "unknown_draft", "schema_not_object", "missing_file_beside_schema",
    "bad_paths", "zero_weights", "tolerance_without_number", "unknown_match", "bad_reference_template",
    "unknown_field_key", "max_depth_cap", "unknown_grader_field",
]  # fmt: skip


@pytest.mark.parametrize(("fields", "problem"), CONFIG_ERROR_CASES, ids=CONFIG_ERROR_IDS)
def test_config_error_at_load_time(plugin_registry, tmp_path, monkeypatch, fields, problem):
    monkeypatch.chdir(tmp_path)
    problems = spec_problems(plugin_registry, {"type": "json_schema", **fields})
    assert problems == [problem.replace("{cwd}", str(tmp_path))]


def test_schema_and_schema_file_together_is_an_error(plugin_registry, tmp_path):
    (tmp_path / "s.json").write_text("{}")
    spec = {"type": "json_schema", "schema": {}, "schema_file": str(tmp_path / "s.json")}
    problems = spec_problems(plugin_registry, spec)
    assert problems == ["(root): give either `schema` or `schema_file`, not both"]


# --- pickling, editor schema, docs --------------------------------------------------------------


def test_grader_pickles_with_its_compiled_validator(build, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "person.json").write_text(json.dumps(PERSON))
    grader = build(schema_file="person.json", fields={"name": {"reference": "{{ item.name }}", "match": "casefold"}})
    copy = pickle.loads(pickle.dumps(grader))
    assert copy.grade('{"name": "ADA", "age": 36}', {"name": "ada"}).reward == 1.0
    assert copy.grade('{"name": "ADA"}', {"name": "ada"}).reason == (
        "does not match the schema: $: 'age' is a required property"
    )


def test_editor_schema_describes_json_schema_specs(plugin_registry):
    schema = spec_schema(plugin_registry)
    spec = {
        "type": "json_schema",
        "requires": ["rft-jsonschema"],
        "schema": PERSON,
        "fields": {"name": "{{ item.name }}", "age": {"reference": "{{ item.age }}", "match": "number", "weight": 2}},
    }
    jsonschema.validate(spec, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**spec, "fields": {"name": {"match": "number", "weight": "heavy"}}}, schema)


def test_every_field_is_documented():
    page = (ROOT / "docs" / "graders" / "json_schema.md").read_text()
    field_check = JsonSchemaGrader.Config.model_fields["fields"].annotation.__args__[1]
    names = [*JsonSchemaGrader.Config.model_fields, *field_check.model_fields, "exact", "casefold", "number"]
    assert [name for name in names if f"`{name}`" not in page] == []


# --- the installed distribution (pip, entry point, CLI) -----------------------------------------

CLI_TIMEOUT = 120


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The plugin pip-installed (a copy of the checkout's directory) into its own site dir."""
    return pip_install(PLUGIN_DIR, tmp_path_factory.mktemp("rft-jsonschema"))


def run_cli(site: Path, load: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site), "RFT_LOAD_PLUGINS": load}
    command = [sys.executable, "-m", "rft_core.cli", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT)


def pyproject_version() -> str:
    return re.search(r'^version = "([^"]+)"', (PLUGIN_DIR / "pyproject.toml").read_text(), re.M).group(1)


@pytest.mark.integration
def test_installed_plugin_is_imported_from_the_site_dir(installed, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(installed)}
    completed = subprocess.run(
        [sys.executable, "-c", "import rft_jsonschema; print(rft_jsonschema.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert Path(completed.stdout.strip()).is_relative_to(installed)


@pytest.mark.integration
def test_installed_plugin_lists_its_grader(installed, tmp_path):
    completed = run_cli(installed, "rft-jsonschema", "graders", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    rows = {line.split()[0]: line.split()[1] for line in completed.stdout.splitlines()[1:]}
    assert rows["json_schema"] == "rft-jsonschema"
    assert rows["string_check"] == "graders.text.string_check"


@pytest.mark.integration
def test_installed_plugin_shows_in_rft_plugins(installed, tmp_path):
    completed = run_cli(installed, "rft-jsonschema", "plugins", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    plugins = {info["name"]: info for info in json.loads(completed.stdout)}
    assert plugins["rft-jsonschema"] == {
        "name": "rft-jsonschema",
        "hooks": ["register_graders"],
        "version": pyproject_version(),
    }


@pytest.fixture
def project(tmp_path):
    """A spec (schema from a file, two fields) and four rows: full match, half match, schema failure, prose."""
    (tmp_path / "person.schema.json").write_text(json.dumps(PERSON))
    (tmp_path / "spec.yaml").write_text(
        "requires: [rft-jsonschema]\n"
        "type: json_schema\n"
        "schema_file: person.schema.json\n"
        "fields:\n"
        "  name: {reference: '{{ item.name }}', match: casefold}\n"
        "  age: {reference: '{{ item.age }}', match: number}\n"
    )
    rows = [
        {"output_text": '{"name": "ada", "age": 36}', "name": "Ada", "age": 36},
        {"output_text": '{"name": "Ada", "age": 37}', "name": "Ada", "age": 36},
        {"output_text": '{"name": "Ada"}', "name": "Ada", "age": 36},
        {"output_text": "Ada is 36.", "name": "Ada", "age": 36},
    ]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return tmp_path


@pytest.mark.integration
def test_installed_plugin_scores_a_spec(installed, project):
    completed = run_cli(installed, "rft-jsonschema", "score", "spec.yaml", "data.jsonl", "-o", "out.jsonl",
                        "--no-progress", cwd=project)  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    rows = [json.loads(line) for line in (project / "out.jsonl").read_text().splitlines()]
    assert [(row["reward"], row["status"]) for row in rows] == [
        (1.0, "ok"), (0.5, "ok"), (0.0, "ok"), (0.0, "parse_error")
    ]  # fmt: skip
    assert rows[1]["sub_rewards"]["age"] == {"reward": 0.0, "status": "ok", "reason": "got 37, expected 36"}
    assert rows[2]["reason"] == "does not match the schema: $: 'age' is a required property"
    assert rows[3]["errors"] == {".": "sample_parse_error"}


@pytest.mark.integration
def test_installed_but_not_loaded_plugin_is_named_in_the_error(installed, project):
    completed = run_cli(installed, "", "validate", "spec.yaml", cwd=project)
    assert completed.returncode == 1
    assert "type (line 2): unknown grader type 'json_schema'; known types: " in completed.stderr
    assert "'rft-jsonschema' is installed but RFT_LOAD_PLUGINS leaves it out: add it to RFT_LOAD_PLUGINS" in completed.stderr
    loaded = run_cli(installed, "rft-jsonschema", "validate", "spec.yaml", cwd=project)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout == "spec.yaml: ok (json_schema)\n"
