"""rft_core.kernel.spec: YAML/JSON specs to graders, every problem reported at once with its path and line."""

from __future__ import annotations

import json
import textwrap

import pytest
from pydantic import Field

from rft_core import Grader, GraderConfig, Result, hookimpl
from rft_core.kernel.errors import SpecError, SpecIssue
from rft_core.kernel.registry import Registry
from rft_core.kernel.spec import load_spec, read_spec_file
from rft_core.kernel.types import Status

STRING_CHECK = {"type": "string_check", "reference": "{{ item.answer }}"}


def _write(tmp_path, text: str, name: str = "spec.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def _issues(excinfo) -> list[str]:
    return [str(issue) for issue in excinfo.value.issues]


def _known(registry: Registry) -> str:
    return ", ".join(registry.names())


def _fields(registry: Registry, type_name: str) -> str:
    return ", ".join(registry.get(type_name).cls.Config.model_fields)


def _description(registry: Registry, type_name: str, field: str) -> str:
    return registry.get(type_name).cls.Config.model_fields[field].description


# --- throwaway plugin -------------------------------------------------------------


class Picky(Grader):
    """Refuses a threshold above its limit when constructed."""

    type = "picky"

    class Config(GraderConfig):
        limit: float = Field(default=1.0, description="The largest threshold.")
        threshold: float = Field(default=0.5, gt=0, description="Pass mark.")

    def __init__(self, config=None, /, **fields):
        super().__init__(config, **fields)
        if self.config.threshold > self.config.limit:
            raise ValueError(f"threshold {self.config.threshold} is above limit {self.config.limit}")

    def evaluate(self, sample, item):
        return Result(1.0)


@pytest.fixture
def picky_registry(pm):
    class PickyPlugin:
        @hookimpl
        def register_graders(self, register):
            register(Picky)

    pm.register(PickyPlugin(), name="rft-picky")
    return Registry.from_plugin_manager(pm)


# --- building ---------------------------------------------------------------------


def test_a_mapping_spec_builds_a_grader(registry):
    grader = load_spec(STRING_CHECK, registry)
    assert (grader.type, grader.name) == ("string_check", "string_check")
    assert grader.grade("Paris", {"answer": "Paris"}).reward == 1.0


def test_the_default_registry_is_used_when_none_is_given():
    assert load_spec(STRING_CHECK).type == "string_check"


def test_load_spec_does_not_change_the_mapping(registry):
    spec = {"rft": 1, "requires": [], "defaults": {"casefold": True}, **STRING_CHECK}
    copy = json.loads(json.dumps(spec))
    load_spec(spec, registry)
    assert spec == copy


@pytest.mark.parametrize(
    "spec",
    [
        # OpenAI's string_check, exactly as the API takes it
        {
            "type": "string_check",
            "name": "x",
            "input": "{{sample.output_text}}",
            "reference": "{{item.answer}}",
            "operation": "eq",
        },
        # OpenAI's text_similarity
        {
            "type": "text_similarity",
            "name": "sim",
            "input": "{{ sample.output_text }}",
            "reference": "{{ item.answer }}",
            "evaluation_metric": "fuzzy_match",
            "pass_threshold": 0.8,
        },
        # OpenAI's multi with calculate_output
        {
            "type": "multi",
            "name": "combined",
            "graders": {
                "exact": {
                    "type": "string_check",
                    "name": "exact",
                    "input": "{{ sample.output_text }}",
                    "reference": "{{ item.answer }}",
                    "operation": "eq",
                },
                "close": {
                    "type": "text_similarity",
                    "name": "close",
                    "input": "{{ sample.output_text }}",
                    "reference": "{{ item.answer }}",
                    "evaluation_metric": "fuzzy_match",
                },
            },
            "calculate_output": "0.5 * exact + 0.5 * close",
        },
    ],
    ids=["string_check", "text_similarity", "multi"],
)
def test_openai_grader_json_is_valid_as_is(registry, spec):
    grader = load_spec(spec, registry)
    assert (grader.type, grader.name) == (spec["type"], spec["name"])
    result = grader.grade("Paris", {"answer": "Paris"})
    assert (result.reward, result.status) == (1.0, Status.OK)
    assert grader.grade("London", {"answer": "Paris"}).reward < 1.0


def test_openai_multi_means_what_openai_means(registry):
    grader = load_spec(
        {
            "type": "multi",
            "graders": {
                "a": {"type": "string_check", "reference": "{{ item.answer }}", "operation": "eq"},
                "b": {"type": "string_check", "reference": "Par", "operation": "like"},
            },
            "calculate_output": "0.25 * a + 0.75 * b",
        },
        registry,
    )
    result = grader.grade("Parma", {"answer": "Paris"})
    assert result.reward == 0.75
    assert {key: sub.reward for key, sub in result.sub_rewards.items()} == {"a": 0.0, "b": 1.0}


def test_sub_grader_name_defaults_to_its_key(registry):
    grader = load_spec(
        {
            "type": "multi",
            "graders": {
                "exact": {"type": "string_check", "reference": "x"},
                "named": {"type": "string_check", "reference": "x", "name": "custom"},
            },
        },
        registry,
    )
    assert {key: child.name for key, child in grader.children().items()} == {"exact": "exact", "named": "custom"}


def test_multi_may_nest(registry):
    grader = load_spec(
        {
            "type": "multi",
            "graders": {
                "inner": {
                    "type": "multi",
                    "graders": {
                        "x": {"type": "string_check", "reference": "a"},
                        "y": {"type": "string_check", "reference": "b"},
                    },
                    "calculate_output": "max(x, y)",
                },
                "z": {"type": "string_check", "reference": "b"},
            },
            "calculate_output": "0.5 * inner + 0.5 * z",
        },
        registry,
    )
    inner = grader.children()["inner"]
    assert (inner.type, inner.name, list(inner.children())) == ("multi", "inner", ["x", "y"])
    result = grader.grade("a")
    assert result.reward == 0.5
    assert result.sub_rewards["inner"].sub_rewards["x"].reward == 1.0


def test_a_grader_s_own_check_becomes_a_spec_issue(picky_registry):
    with pytest.raises(SpecError) as excinfo:
        load_spec({"type": "multi", "graders": {"p": {"type": "picky", "threshold": 2}}}, picky_registry)
    assert _issues(excinfo) == ["graders.p: picky: threshold 2.0 is above limit 1.0"]


# --- spec-level keys ---------------------------------------------------------------


def test_rft_1_description_and_requires_are_accepted(registry):
    grader = load_spec(
        {"rft": 1, "description": "trivia", "requires": ["rft-graders"], "name": "trivia", **STRING_CHECK}, registry
    )
    assert grader.name == "trivia"


def test_requires_may_be_one_string(registry):
    assert load_spec({"requires": "rft-graders", **STRING_CHECK}, registry).type == "string_check"


@pytest.mark.parametrize(
    ("extra", "issues"),
    [
        # a future format version
        ({"rft": 2}, ["rft: unsupported format version 2: this rft-graders reads rft: 1"]),
        ({"rft": "1"}, ["rft: unsupported format version '1': this rft-graders reads rft: 1"]),
        # description must be text
        ({"description": 3}, ["description: description must be a string"]),
        # requires names distributions
        ({"requires": {"a": 1}}, ["requires: requires must be a list of plugin distribution names"]),
        ({"requires": [1]}, ["requires: requires must be a list of plugin distribution names"]),
        # defaults is a mapping
        ({"defaults": ["casefold"]}, ["defaults: defaults must be a mapping of field name to value"]),
        # a default no grader has, with a suggestion
        (
            {"defaults": {"casefolde": True}},
            ["defaults.casefolde: no grader type has a field 'casefolde' (did you mean 'casefold'?)"],
        ),
        ({"defaults": {"zzz": 1}}, ["defaults.zzz: no grader type has a field 'zzz'"]),
    ],
    ids=[
        "rft-2",
        "rft-string",
        "description",
        "requires-mapping",
        "requires-int",
        "defaults-list",
        "defaults-typo",
        "defaults-unknown",
    ],
)
def test_bad_spec_level_keys(registry, extra, issues):
    with pytest.raises(SpecError) as excinfo:
        load_spec({**STRING_CHECK, **extra}, registry)
    assert _issues(excinfo) == issues


def test_defaults_apply_to_every_grader_that_has_the_field(registry):
    spec = {
        "defaults": {"casefold": True, "metric": "token_sort_ratio"},
        "type": "multi",
        "graders": {
            "exact": {"type": "string_check", "reference": "{{ item.answer }}"},
            "strict": {"type": "string_check", "reference": "{{ item.answer }}", "casefold": False},
            "fuzzy": {"type": "fuzzy_match", "reference": "{{ item.answer }}"},
        },
    }
    grader = load_spec(spec, registry)
    children = grader.children()
    # given where the field exists and the spec omits it...
    assert children["exact"].config.casefold is True
    assert children["fuzzy"].config.casefold is True
    assert children["fuzzy"].config.metric == "token_sort_ratio"
    # ...but a grader's own value wins
    assert children["strict"].config.casefold is False
    result = grader.grade("PARIS", {"answer": "paris"})
    assert {key: sub.reward for key, sub in result.sub_rewards.items()} == {"exact": 1.0, "strict": 0.0, "fuzzy": 1.0}


def test_a_bad_default_value_is_reported_where_it_is_used(registry):
    with pytest.raises(SpecError) as excinfo:
        load_spec({"defaults": {"metric": "nope"}, "type": "fuzzy_match", "reference": "x"}, registry)
    [issue] = excinfo.value.issues
    assert issue.path == ("metric",)
    assert issue.message.startswith("Input should be 'ratio'")


# --- bad input --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # an empty file
        "",
        # only comments
        "# nothing here yet\n",
        # an explicit null document
        "null\n",
        # an empty mapping
        "{}\n",
    ],
    ids=["empty", "comments", "null", "empty-mapping"],
)
def test_an_empty_spec_file(tmp_path, text):
    path = _write(tmp_path, text)
    with pytest.raises(SpecError) as excinfo:
        load_spec(path)
    assert excinfo.value.source == str(path)
    assert [issue.message for issue in excinfo.value.issues] == [
        "the spec is empty: it needs a grader, e.g. `type: string_check`"
    ]


def test_an_empty_mapping_spec(registry):
    with pytest.raises(SpecError) as excinfo:
        load_spec({}, registry)
    assert (
        str(excinfo.value)
        == "spec: 1 problem\n  (root): the spec is empty: it needs a grader, e.g. `type: string_check`"
    )


def test_a_spec_that_is_not_a_mapping(tmp_path, registry):
    path = _write(tmp_path, "- type: string_check\n")
    with pytest.raises(SpecError) as excinfo:
        load_spec(path, registry)
    assert _issues(excinfo) == ["(root) (line 1): the spec must be a mapping (a grader object), not a list"]


def test_unknown_type_lists_known_types_and_suggests(registry):
    with pytest.raises(SpecError) as excinfo:
        load_spec({"type": "strng_check", "reference": "x"}, registry)
    assert _issues(excinfo) == [
        f"type: unknown grader type 'strng_check' (did you mean 'string_check'?); known types: {_known(registry)}"
    ]


def test_unknown_type_without_a_close_match(registry):
    with pytest.raises(SpecError) as excinfo:
        load_spec({"type": "javascript", "source": "function grade(sample, item) { return 1 }"}, registry)
    assert _issues(excinfo) == [f"type: unknown grader type 'javascript'; known types: {_known(registry)}"]


def test_unknown_type_with_requires_gives_pip_install_advice(registry):
    with pytest.raises(SpecError) as excinfo:
        load_spec({"requires": ["rft-no-such-plugin"], "type": "judge", "model": "m"}, registry)
    assert _issues(excinfo) == [
        f"type: unknown grader type 'judge'; known types: {_known(registry)}; "
        "this spec requires 'rft-no-such-plugin', which is not installed: pip install rft-no-such-plugin"
    ]


def test_unknown_type_from_an_installed_but_unloaded_distribution(registry):
    # rft-graders itself is installed; the tests' empty RFT_LOAD_PLUGINS leaves it out
    with pytest.raises(SpecError) as excinfo:
        load_spec({"requires": ["rft-graders"], "type": "judge"}, registry)
    assert _issues(excinfo) == [
        f"type: unknown grader type 'judge'; known types: {_known(registry)}; "
        "'rft-graders' is installed but RFT_LOAD_PLUGINS leaves it out: add it to RFT_LOAD_PLUGINS"
    ]


@pytest.mark.parametrize(
    ("spec", "issues"),
    [
        # no type at all
        ({"reference": "x"}, ["(root): missing `type`; known types: {known}"]),
        # a type that is not a string
        ({"type": 3}, ["type: unknown grader type 3; known types: {known}"]),
        # a sub-grader that is not a mapping
        ({"type": "multi", "graders": {"a": 3}}, ["graders.a: a grader must be a mapping with a `type`, not a int"]),
        ({"type": "multi", "graders": {"a": None}}, ["graders.a: a grader must be a mapping with a `type`, not null"]),
        # graders must be a mapping of key to grader
        ({"type": "multi", "graders": [STRING_CHECK]}, ["graders: Input should be a valid dictionary"]),
        # a multi with no sub-graders
        ({"type": "multi", "graders": {}}, ["graders: graders is empty: a multi needs at least one sub-grader"]),
        # a bad template is caught when the spec loads, not per row
        (
            {"type": "string_check", "reference": "{{ answer }}"},
            [
                "reference: template variable {{ answer }} must start with 'item' or 'sample' "
                "(e.g. {{ item.answer }} or {{ sample.output_text }})"
            ],
        ),
        # a sub-grader's unknown type has the full path
        (
            {"type": "multi", "graders": {"outer": {"type": "multi", "graders": {"inner": {"type": "string_chek"}}}}},
            [
                "graders.outer.graders.inner.type: unknown grader type 'string_chek' (did you mean 'string_check'?); "
                "known types: {known}"
            ],
        ),
    ],
    ids=[
        "no-type",
        "int-type",
        "int-grader",
        "null-grader",
        "list-graders",
        "no-graders",
        "bad-template",
        "nested-unknown",
    ],
)
def test_bad_graders(registry, spec, issues):
    with pytest.raises(SpecError) as excinfo:
        load_spec(spec, registry)
    assert _issues(excinfo) == [issue.replace("{known}", _known(registry)) for issue in issues]


def test_misspelt_field_suggests_the_right_one(registry):
    with pytest.raises(SpecError) as excinfo:
        load_spec({"type": "string_check", "reference": "x", "operaton": "eq"}, registry)
    assert _issues(excinfo) == [
        f"operaton: unknown field 'operaton' (did you mean 'operation'?); fields: {_fields(registry, 'string_check')}"
    ]


def test_missing_required_field_says_what_it_is(registry):
    with pytest.raises(SpecError) as excinfo:
        load_spec({"type": "string_check"}, registry)
    assert _issues(excinfo) == [
        f"reference: missing required field 'reference' ({_description(registry, 'string_check', 'reference')})"
    ]


def test_formula_naming_a_missing_grader(tmp_path, registry):
    path = _write(
        tmp_path,
        """
        type: multi
        graders:
          exact: {type: string_check, reference: x}
        calculate_output: 0.5 * exact + 0.5 * fuzzy
        """,
    )
    with pytest.raises(SpecError) as excinfo:
        load_spec(path, registry)
    assert _issues(excinfo) == [
        "calculate_output (line 4): formula_parse_error at position 20: unknown variable 'fuzzy' (graders: exact)\n"
        "  0.5 * exact + 0.5 * fuzzy\n"
        "                      ^"
    ]


def test_formula_syntax_error(registry):
    with pytest.raises(SpecError) as excinfo:
        load_spec({"type": "multi", "graders": {"a": STRING_CHECK}, "calculate_output": "a +"}, registry)
    assert _issues(excinfo) == [
        "calculate_output: formula_parse_error at position 3: the formula ends too early\n  a +\n     ^"
    ]


def test_yaml_syntax_error_reports_the_line(tmp_path, registry):
    path = _write(
        tmp_path,
        """
        type: string_check
        reference: "{{ item.answer }}"
        operation: [eq
        """,
    )
    with pytest.raises(SpecError) as excinfo:
        load_spec(path, registry)
    [issue] = excinfo.value.issues
    assert (issue.path, issue.line) == ((), 4)
    assert issue.message.startswith("YAML syntax error: ")


def test_every_error_is_reported_at_once_with_path_and_line(tmp_path, registry):
    path = _write(
        tmp_path,
        """
        rft: 1
        type: multi
        graders:
          a:
            type: strng_check
          b:
            refrence: "{{ item.answer }}"
            type: fuzzy_match
            metric: nope
          c:
            type: string_check
            reference: "{{ bad.answer }}"
        calculate_output: a + b + c
        defaults:
          casefolde: true
        """,
    )
    with pytest.raises(SpecError) as excinfo:
        load_spec(path, registry)
    issues = {str(issue).split(": ", 1)[0]: str(issue) for issue in excinfo.value.issues}
    assert sorted(issues) == [
        "defaults.casefolde (line 15)",
        "graders.a.type (line 5)",
        "graders.b.metric (line 9)",
        # a missing field is reported at its grader's line
        "graders.b.reference (line 6)",
        "graders.b.refrence (line 7)",
        "graders.c.reference (line 12)",
    ]
    assert issues["graders.b.refrence (line 7)"] == (
        "graders.b.refrence (line 7): unknown field 'refrence' (did you mean 'reference'?); "
        f"fields: {_fields(registry, 'fuzzy_match')}"
    )
    assert issues["graders.a.type (line 5)"] == (
        "graders.a.type (line 5): unknown grader type 'strng_check' (did you mean 'string_check'?); "
        f"known types: {_known(registry)}"
    )
    assert issues["defaults.casefolde (line 15)"] == (
        "defaults.casefolde (line 15): no grader type has a field 'casefolde' (did you mean 'casefold'?)"
    )
    assert issues["graders.c.reference (line 12)"] == (
        "graders.c.reference (line 12): template variable {{ bad.answer }} must start with 'item' or 'sample' "
        "(e.g. {{ item.answer }} or {{ sample.output_text }})"
    )
    # the message names the file and counts the problems
    assert str(excinfo.value).splitlines()[0] == f"{path}: 6 problems"
    assert excinfo.value.source == str(path)


def test_spec_issue_locations():
    assert str(SpecIssue(("graders", "genes", "max_items"), "Input should be greater than 0", 12)) == (
        "graders.genes.max_items (line 12): Input should be greater than 0"
    )
    assert str(SpecIssue((), "file not found")) == "(root): file not found"
    assert str(SpecIssue(("items", 0), "bad", None)) == "items.0: bad"


# --- files ------------------------------------------------------------------------


def test_yaml_spec_file(tmp_path, registry):
    path = _write(
        tmp_path,
        """
        rft: 1
        name: trivia
        description: Reward the exact answer.
        type: string_check
        reference: "{{ item.answer }}"
        casefold: true
        """,
    )
    grader = load_spec(path, registry)
    assert grader.name == "trivia"
    assert grader.grade("paris", {"answer": "Paris"}).reward == 1.0
    # a str path works as well as a Path
    assert load_spec(str(path), registry).name == "trivia"


@pytest.mark.parametrize("suffix", [".yml", ".YAML"], ids=["yml", "upper-case"])
def test_other_yaml_suffixes(tmp_path, registry, suffix):
    path = _write(tmp_path, "type: string_check\nreference: x\n", f"spec{suffix}")
    assert load_spec(path, registry).type == "string_check"


def test_json_spec_file(tmp_path, registry):
    spec = {
        "type": "multi",
        "graders": {"exact": STRING_CHECK, "close": {"type": "fuzzy_match", "reference": "{{ item.answer }}"}},
        "calculate_output": "0.5 * exact + 0.5 * close",
    }
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec, indent=2), encoding="utf-8")
    grader = load_spec(path, registry)
    assert list(grader.children()) == ["exact", "close"]
    assert grader.grade("Paris", {"answer": "Paris"}).reward == 1.0


def test_json_spec_errors_have_lines(tmp_path, registry):
    path = tmp_path / "spec.json"
    path.write_text('{\n  "type": "string_check",\n  "reference": "x",\n  "operaton": "eq"\n}\n', encoding="utf-8")
    with pytest.raises(SpecError) as excinfo:
        load_spec(path, registry)
    assert _issues(excinfo) == [
        "operaton (line 4): unknown field 'operaton' (did you mean 'operation'?); "
        f"fields: {_fields(registry, 'string_check')}"
    ]


def test_json_syntax_error_reports_the_line(tmp_path, registry):
    path = tmp_path / "spec.json"
    path.write_text('{\n  "type": "string_check",\n  "reference": \n}\n', encoding="utf-8")
    with pytest.raises(SpecError) as excinfo:
        load_spec(path, registry)
    assert _issues(excinfo) == ["(root) (line 4): JSON syntax error: Expecting value"]


def test_json_that_yaml_cannot_read_still_loads(tmp_path, registry):
    # a tab before a value is valid JSON but not valid YAML: no line numbers, nothing else lost
    path = tmp_path / "spec.json"
    path.write_text('{"type":\t"string_check", "reference": "x"}', encoding="utf-8")
    assert load_spec(path, registry).type == "string_check"


def test_missing_spec_file(tmp_path, registry):
    path = tmp_path / "nope.yaml"
    with pytest.raises(SpecError) as excinfo:
        load_spec(path, registry)
    assert str(excinfo.value) == f"{path}: 1 problem\n  (root): file not found"


def test_spec_file_that_is_not_utf8(tmp_path, registry):
    path = tmp_path / "spec.yaml"
    path.write_bytes(b"type: string_check\nreference: \xff\xfe\n")
    with pytest.raises(SpecError) as excinfo:
        load_spec(path, registry)
    [issue] = excinfo.value.issues
    assert issue.message.startswith("cannot read the file: ")


def test_read_spec_file_maps_paths_to_lines(tmp_path):
    path = _write(
        tmp_path,
        """
        type: multi
        graders:
          a:
            type: string_check
          b: {type: fuzzy_match}
        tags: [x, y]
        """,
    )
    value, lines = read_spec_file(path)
    assert value["graders"]["b"] == {"type": "fuzzy_match"}
    assert lines[()] == 1
    assert lines[("graders",)] == 2
    assert lines[("graders", "a", "type")] == 4
    assert lines[("graders", "b", "type")] == 5
    assert lines[("tags", 1)] == 6
