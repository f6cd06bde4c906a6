"""rft_core.kernel.declarations and the Grader's declarations: the core asks a grader type, it never tests its name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rft_core import Grader, GraderConfig, OpenAIMapping, ReportMetric, Result, Status
from rft_core.kernel.formula import Formula
from rft_core.kernel.registry import default_registry
from rft_core.report.summary import Summary, declared_metrics

RFT_CORE = Path(__file__).resolve().parent.parent / "rft_core"


class Leaf(Grader):
    """A grader declaring nothing."""

    type = "leaf"

    def evaluate(self, sample, item):
        return Result(1.0)


def test_a_grader_declares_nothing_by_default():
    leaf = Leaf()
    assert (Leaf.openai, Leaf.splits, Leaf.report_metrics, Leaf.retrainable_model) == (None, False, (), None)
    assert leaf.pass_threshold() is None
    assert Leaf.openai_problems({"type": "leaf"}, nested=False) == []
    with pytest.raises(ValueError, match="leaf does not split into weighted components"):
        leaf.component_weights()


def test_an_openai_mapping_names_one_of_openais_types():
    with pytest.raises(ValueError, match=r"OpenAIMapping type 'regex_check' is not an OpenAI grader type \(OpenAI's: "):
        OpenAIMapping(type="regex_check", fields=("name",))


def test_built_in_declarations():
    types = {name: grader_type.cls for name, grader_type in default_registry()}
    portable = {name: cls.openai.type for name, cls in types.items() if cls.openai is not None}
    assert portable == {name: name for name in
                        ("string_check", "text_similarity", "score_model", "label_model", "python", "multi")}
    assert [name for name, cls in types.items() if cls.splits] == ["multi"]
    assert [name for name, cls in types.items() if cls.retrainable_model] == ["reward_model"]
    assert [metric.name for metric in declared_metrics()] == ["rankings"]
    # every type OpenAI lacks says why and what to use instead
    assert [name for name, cls in types.items() if cls.openai is None and not cls.openai_hint] == []


@pytest.mark.parametrize(
    ("text", "coefficients"),
    [("0.7 * a + 0.3 * b", [0.7, 0.3]), ("(a + 3 * b) / 4", [0.25, 0.75]), ("b", [0.0, 1.0]),
     ("min(a, b)", None), ("a * b", None), ("a + 1", None), ("log(a + 2)", None)],
)
def test_linear_coefficients(text, coefficients):
    assert Formula(text).linear_coefficients(["a", "b"]) == coefficients


def counts(values, samples):
    return {"seen": len(values) / samples if samples else None}


def broken(values, samples):
    raise ZeroDivisionError("no")


SEEN = ReportMetric(name="seen", title="Seen", key="seen", columns=(("seen", "seen share"),), compute=counts)


def test_a_declared_metric_is_computed_per_path_from_results():
    summary = Summary(metrics=[SEEN])
    summary.add(0, Result(1.0, metadata={"seen": 1}, sub_rewards={"a": Result(0.0, metadata={"seen": 2})}))
    summary.add(1, Result(1.0, sub_rewards={"a": Result(0.0, Status.NOT_APPLICABLE, metadata={"seen": 3})}))
    report = summary.to_dict()
    # the root: 2 applicable samples, one has the key; "a": its not_applicable sample counts nowhere
    assert report["seen"] == {"(root)": {"samples": 2, "seen": 0.5}, "a": {"samples": 1, "seen": 1.0}}
    assert report["metric_tables"] == {"seen": {"title": "Seen", "columns": {"seen": "seen share"}}}
    assert "rankings" not in report  # only the metrics given


def test_a_failing_metric_becomes_advice_not_a_crash():
    summary = Summary(metrics=[ReportMetric("bad", "Bad", "seen", (("x", "x"),), broken)])
    summary.add(0, Result(1.0, metadata={"seen": 1}))
    report = summary.to_dict()
    assert "bad" not in report
    assert "(root): report metric bad failed: ZeroDivisionError: no" in report["advice"]


def test_a_metric_may_not_take_a_report_sections_name():
    with pytest.raises(Exception, match="report metric 'graders' has the name of a report section"):
        Summary(metrics=[ReportMetric("graders", "G", "seen", (("x", "x"),), counts)])


def test_a_custom_grader_declares_its_pass_threshold():
    class Config(GraderConfig):
        pass_threshold: float = 0.25

    class Passing(Leaf):
        type = "passing"

        def pass_threshold(self):
            return self.config.pass_threshold

    Passing.Config = Config
    assert Passing().pass_threshold() == 0.25


def test_the_core_tests_no_built_in_type_name():
    """rft_core asks declarations: no comparison with a built-in type's name, no guessed field or metadata key."""
    names = "|".join(re.escape(name) for name, _ in default_registry())
    guesses = re.compile(
        rf"""[=!]=\s*["']({names})["']|["']({names})["']\s*[=!]=|\bin\s*[(\[{{][^\n]*["']({names})["']"""
        r"""|getattr\([^)]*["']pass_threshold["']|\[["']rank["']\]|["']rank["']\s+in\b"""
    )
    found = [
        f"{path.relative_to(RFT_CORE)}:{number}: {line.strip()}"
        for path in sorted(RFT_CORE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if guesses.search(line)
    ]
    assert found == []
