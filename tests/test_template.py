"""rft_core.kernel.template: {{ item.x }} / {{ sample.output_json.a[0].b }} templates."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rft_core.kernel.errors import GradeError, TemplateError
from rft_core.kernel.grader import GraderConfig
from rft_core.kernel.spec import load_spec
from rft_core.kernel.template import Template, TemplateField
from rft_core.kernel.types import Sample, Status

ITEM = {
    "answer": "Paris",
    "count": 3,
    "ratio": 0.5,
    "flag": True,
    "nothing": None,
    "tags": ["a", "b", "c"],
    "nested": {"list": [{"name": "first"}, {"name": "last"}]},
    "with space": "spaced",
    "dotted.key": "dotted",
    "obj": {"k": [1, "é"], "z": None},
    "digits": {"1": "one"},
    "0": "zero",
}
SAMPLE = Sample.coerce(
    {
        "output_text": '{"a": [{"b": "deep"}], "n": 2}',
        "output_tools": [{"id": "call_1", "function": {"name": "lookup", "arguments": "{}"}}],
    }
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a plain item key
        ("{{ item.answer }}", "Paris"),
        # spaces inside the braces are optional
        ("{{item.answer}}", "Paris"),
        ("{{    item.answer   }}", "Paris"),
        # text around and between variables is kept
        ("Q: {{ item.answer }} / {{ item.count }}!", "Q: Paris / 3!"),
        # nested keys and list indices
        ("{{ item.nested.list[0].name }}", "first"),
        # a negative index counts from the end
        ("{{ item.tags[-1] }}", "c"),
        ("{{ item.nested.list[-2].name }}", "first"),
        # quoted keys reach keys with spaces or dots
        ('{{ item["with space"] }}', "spaced"),
        ("{{ item['dotted.key'] }}", "dotted"),
        # an index on a mapping falls back to the key's string form
        ("{{ item.digits[1] }}", "one"),
        # a key that looks like a number is still a key
        ("{{ item.0 }}", "zero"),
        # the sample namespace: its text, parsed JSON and tool calls
        ("{{ sample.output_text }}", '{"a": [{"b": "deep"}], "n": 2}'),
        ("{{ sample.output_json.a[0].b }}", "deep"),
        ("{{ sample.output_tools[0].function.name }}", "lookup"),
        # non-string values render as compact JSON
        ("{{ item.count }}", "3"),
        ("{{ item.ratio }}", "0.5"),
        ("{{ item.flag }}", "true"),
        ("{{ item.nothing }}", "null"),
        ("{{ item.tags }}", '["a","b","c"]'),
        # compact JSON keeps non-ASCII characters as they are
        ("{{ item.obj }}", '{"k":[1,"é"],"z":null}'),
        ("n={{ sample.output_json.n }}", "n=2"),
        # no variables: the text as it is
        ("plain text", "plain text"),
        ("", ""),
    ],
    ids=[
        "key",
        "no-spaces",
        "many-spaces",
        "text-around",
        "nested-index",
        "negative-index",
        "negative-index-nested",
        "double-quoted-key",
        "single-quoted-key",
        "index-on-mapping",
        "numeric-key",
        "sample-text",
        "sample-json-path",
        "sample-tools",
        "int",
        "float",
        "bool",
        "null",
        "list",
        "object-non-ascii",
        "number-in-text",
        "no-variables",
        "empty",
    ],
)
def test_render(text, expected):
    assert Template(text).render(SAMPLE, ITEM) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # exactly one variable: the raw value, not its JSON text
        ("{{ item.count }}", 3),
        ("{{ item.nothing }}", None),
        ("{{ item.obj }}", {"k": [1, "é"], "z": None}),
        ("{{ sample.output_json.a }}", [{"b": "deep"}]),
        # the whole namespace
        ("{{ item }}", ITEM),
        # anything more than one variable renders to a string
        ("{{ item.count }} ", "3 "),
        ("{{ item.count }}{{ item.count }}", "33"),
    ],
    ids=["int", "null", "object", "sample-json", "whole-item", "trailing-space", "two-variables"],
)
def test_resolve_returns_the_raw_value(text, expected):
    assert Template(text).resolve(SAMPLE, ITEM) == expected


def test_variables_lists_the_paths_read():
    template = Template("{{ item.a }} and {{sample.output_json.x[0]}} and {{ item['b c'] }}")
    assert template.variables == ["item.a", "sample.output_json.x[0]", "item['b c']"]
    assert Template("no variables").variables == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # only item and sample exist
        (
            "{{ foo.x }}",
            "template variable {{ foo.x }} must start with 'item' or 'sample' "
            "(e.g. {{ item.answer }} or {{ sample.output_text }})",
        ),
        # a namespace that merely starts like one is not one
        (
            "{{ items.x }}",
            "template variable {{ items.x }} must start with 'item' or 'sample' "
            "(e.g. {{ item.answer }} or {{ sample.output_text }})",
        ),
        # the sample has four fields
        (
            "{{ sample.answer }}",
            "template variable {{ sample.answer }}: a sample has output_text, output_json, output_tools, choices",
        ),
        (
            "{{ sample }}",
            "template variable {{ sample }}: a sample has output_text, output_json, output_tools, choices",
        ),
        # bad syntax after the namespace
        ("{{ item.a b }}", "cannot read template variable {{ item.a b }} at ' b'"),
        ("{{ item..a }}", "cannot read template variable {{ item..a }} at '..a'"),
        ("{{ item[abc] }}", "cannot read template variable {{ item[abc] }} at '[abc]'"),
        # an opening brace pair that is never closed is a typo, not literal text
        ("Answer: {{ item.a", "template 'Answer: {{ item.a' has a '{{' that is never closed with '}}'"),
    ],
    ids=[
        "unknown-namespace",
        "namespace-prefix",
        "unknown-sample-field",
        "bare-sample",
        "space",
        "double-dot",
        "unquoted-key",
        "unclosed",
    ],
)
def test_bad_templates_fail_when_compiled(text, message):
    with pytest.raises(ValueError) as excinfo:
        Template(text)
    assert str(excinfo.value) == message


def test_a_template_must_be_a_string():
    with pytest.raises(TypeError, match="^a template must be a string, not int$"):
        Template(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "item", "path", "problem"),
    [
        # a missing key names the keys there are
        ("{{ item.missing }}", {"a": 1, "b": 2}, "item.missing", "no key 'missing' (keys: a, b)"),
        ("{{ item.missing }}", {}, "item.missing", "no key 'missing' (keys: none)"),
        # long key lists are cut at ten
        (
            "{{ item.x }}",
            {f"k{n}": n for n in range(12)},
            "item.x",
            "no key 'x' (keys: k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, ...)",
        ),
        # list index out of range, both ways
        ("{{ item.l[5] }}", {"l": [1, 2]}, "item.l[5]", "index 5 out of range (list has 2 items)"),
        ("{{ item.l[-3] }}", {"l": [1, 2]}, "item.l[-3]", "index -3 out of range (list has 2 items)"),
        # a key where a list index is needed
        ("{{ item.l.x }}", {"l": [1]}, "item.l.x", "'x' is not a list index (the value is a list)"),
        # looking inside a null or a string
        ("{{ item.a.b }}", {"a": None}, "item.a.b", "cannot look up 'b' in a null"),
        ("{{ item.s.x }}", {"s": "text"}, "item.s.x", "cannot look up 'x' in a str"),
        # output_json is None when the output is not JSON
        ("{{ sample.output_json.a }}", {}, "sample.output_json.a", "cannot look up 'a' in a null"),
    ],
    ids=[
        "missing-key",
        "missing-key-empty",
        "many-keys",
        "index-high",
        "index-low",
        "key-on-list",
        "in-null",
        "in-str",
        "no-json",
    ],
)
def test_missing_variables_raise_invalid_variable(text, item, path, problem):
    with pytest.raises(TemplateError) as excinfo:
        Template(text).render(Sample("not json"), item)
    error = excinfo.value
    assert str(error) == f"invalid_variable: {path} in template {text!r}: {problem}"
    assert (error.template, error.path, error.code, error.status) == (
        text,
        path,
        "invalid_variable_error",
        Status.ERROR,
    )
    assert isinstance(error, GradeError)


def test_missing_variable_in_a_longer_template_names_the_whole_template():
    text = "Answer: {{ item.answer }} ({{ item.unit }})"
    with pytest.raises(TemplateError) as excinfo:
        Template(text).render(Sample(""), {"answer": 4})
    assert str(excinfo.value) == (
        "invalid_variable: item.unit in template 'Answer: {{ item.answer }} ({{ item.unit }})': "
        "no key 'unit' (keys: answer)"
    )


def test_missing_variable_is_never_rendered_empty(registry):
    # through a grader: a status error with the code, not a comparison against ""
    grader = load_spec({"type": "string_check", "reference": "{{ item.answer }}", "operation": "ne"}, registry)
    result = grader.grade("", {"question": "?"})
    assert result.status is Status.ERROR
    assert result.reward == 0.0
    assert (
        result.reason
        == "invalid_variable: item.answer in template '{{ item.answer }}': no key 'answer' (keys: question)"
    )
    assert result.error_codes() == {".": "invalid_variable_error"}


def test_template_value_semantics():
    assert Template("{{ item.a }}") == Template("{{ item.a }}")
    assert Template("{{ item.a }}") != Template("{{item.a}}")
    assert Template("{{ item.a }}") != "{{ item.a }}"
    assert len({Template("x"), Template("x")}) == 1
    assert str(Template("{{ item.a }}")) == "{{ item.a }}"
    assert repr(Template("x")) == "Template('x')"


class _Model(GraderConfig):
    """A grader config with a template field (GraderConfig allows the Template type)."""

    type: str = "t"
    reference: TemplateField


def test_template_field_compiles_on_validation():
    model = _Model(reference="{{ item.answer }}")
    assert isinstance(model.reference, Template)
    assert model.reference.render(Sample(""), {"answer": "x"}) == "x"
    # a Template passes through as is
    template = Template("{{ item.a }}")
    assert _Model(reference=template).reference is template


def test_template_field_serialises_to_its_text_and_schema_is_a_string():
    assert _Model(reference="{{ item.answer }}").model_dump() == {
        "type": "t",
        "name": None,
        "grader_timeout": None,
        "reference": "{{ item.answer }}",
    }
    schema = _Model.model_json_schema()["properties"]["reference"]
    assert schema["type"] == "string"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        # not a string at all
        (3, "expected a template string, got int"),
        # a bad template is a validation error with the template's message
        ("{{ foo }}", "template variable {{ foo }} must start with 'item' or 'sample'"),
    ],
    ids=["not-a-string", "bad-namespace"],
)
def test_template_field_rejects(value, message):
    with pytest.raises(ValidationError) as excinfo:
        _Model(reference=value)
    assert message in excinfo.value.errors()[0]["msg"]


@pytest.mark.parametrize(
    "text", ["{{ item.calls }}", "{{ item.calls[0].name }}", "{{ sample.output_tools }}", "calls: {{ item.calls }}"]
)
def test_resolve_batch_equals_resolve_row_by_row(text):
    template = Template(text)
    samples = [Sample("a", output_tools=[{"name": "x"}]), Sample("b", output_tools=[])]
    items = [{"calls": [{"name": "x"}]}, {"calls": [{"name": "y", "n": 2}]}]
    assert template.resolve_batch(samples, items) == [template.resolve(s, i) for s, i in zip(samples, items)]
    assert template.render_batch(samples, items) == [template.render(s, i) for s, i in zip(samples, items)]


@pytest.mark.parametrize("text", ["{{ item.calls }}", "{{ item.calls[0].name }}"])
def test_resolve_batch_raises_on_a_row_without_the_variable(text):
    with pytest.raises((TemplateError, KeyError)):
        Template(text).resolve_batch([Sample("a"), Sample("b")], [{"calls": [{"name": "x"}]}, {}])
