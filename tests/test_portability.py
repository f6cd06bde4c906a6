"""rft_core.kernel.portability: the check behind ``openai_strict`` reads only what graders declare."""

from __future__ import annotations

from rft_core.kernel.portability import PortabilityCheck

STRING_CHECK = {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
                "reference": "{{ item.answer }}", "operation": "eq"}


def test_an_openai_grader_has_no_issue(registry):
    assert PortabilityCheck(STRING_CHECK, {}, {}, registry).check() == []


def test_a_type_openai_lacks_is_named_at_its_path_and_line(registry):
    root = {"type": "multi", "graders": {"exact": STRING_CHECK, "shape": {"type": "format", "tags": ["answer"]}},
            "calculate_output": "exact"}
    issues = PortabilityCheck(root, {}, {("graders", "shape"): 7}, registry).check()
    # the issue sits at the type key; its line is the nearest enclosing path the file gave a line for
    assert [(issue.path, issue.line) for issue in issues] == [(("graders", "shape", "type"), 7)]
    assert "format" in issues[0].message
