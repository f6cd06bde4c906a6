"""rft_core.run.template_check: every template of a spec, rendered against data rows."""

from __future__ import annotations

from rft_core.run.data import tasks_from_rows
from rft_core.kernel.spec import load_spec
from rft_core.run.template_check import template_problems, templates


def test_templates_are_found_in_every_grader_and_nested_config(registry):
    grader = load_spec({
        "type": "multi", "calculate_output": "a + b",
        "graders": {
            "a": {"type": "string_check", "reference": "{{ item.answer }}"},
            "b": {"type": "score_model", "model": "m", "base_url": "http://127.0.0.1:1/v1", "api_key": "x",
                  "input": [{"role": "system", "content": "Grade."},
                            {"role": "user", "content": "{{ item.question }}: {{ sample.output_text }}"}]},
        },
    }, registry=registry)
    assert [(path, template.text) for path, template in templates(grader)] == [
        ("graders.a.input", "{{ sample.output_text }}"),
        ("graders.a.reference", "{{ item.answer }}"),
        ("graders.b.input.0.content", "Grade."),
        ("graders.b.input.1.content", "{{ item.question }}: {{ sample.output_text }}"),
    ]


def test_problems_name_the_path_the_keys_and_the_first_failing_row(registry):
    grader = load_spec({"type": "string_check", "reference": "{{ item.answer.text }}",
                        "input": "{{ sample.output_json.city }}"}, registry=registry)
    rows = [{"answer": {"text": "Paris"}, "output_text": "x"}, {"answer": "Rome", "output_text": "y"}, "not a row"]
    assert template_problems(grader, tasks_from_rows(rows)) == [
        "reference: invalid_variable: item.answer.text in template '{{ item.answer.text }}': cannot look up 'text' "
        "in a str (first at data row 1)",
        "data row 2: a row must be a JSON object, not str",
    ]  # the sample.output_json path is the outputs' business, not the spec's
