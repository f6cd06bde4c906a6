"""What every trainer adapter shares: component paths and rewards, the ungradable flag, labels as items."""

from __future__ import annotations

import pytest

from rft_core import Result, RftError, Status, load_spec
from rft_core.integrations.components import (
    component_columns, component_paths, component_rewards, label_item, spec_grader, ungradable,
)

NESTED = {
    "type": "multi",
    "graders": {
        "a": {"type": "string_check", "reference": "x"},
        "b": {"type": "multi", "graders": {"c": {"type": "string_check", "reference": "y"}}},
    },
}


def test_component_paths_walk_the_tree():
    grader = load_spec(NESTED)
    assert component_paths(grader) == (("a",), ("b",), ("b", "c"))
    assert component_paths(load_spec({"type": "string_check", "reference": "x"})) == ()


def test_component_rewards_fill_what_a_failed_result_lacks():
    paths = component_paths(load_spec(NESTED))
    failed = Result.failure(Status.ERROR, "boom")  # no sub_rewards at all
    assert component_rewards(failed, paths) == {"a": 0.0, "b": 0.0, "b.c": 0.0}
    graded = load_spec(NESTED).grade("x")
    assert component_rewards(graded, paths) == {"a": 1.0, "b": 0.0, "b.c": 0.0}


UNGRADABLE = [
    # (result, flag)
    pytest.param(Result(1.0), 0.0, id="ok"),
    pytest.param(Result(0.0, Status.NOT_APPLICABLE), 1.0, id="not-applicable"),
    pytest.param(Result.failure(Status.TIMEOUT, "slow"), 1.0, id="timeout"),
    pytest.param(Result(0.5, sub_rewards={"a": Result(1.0), "b": Result(0.0, Status.ERROR)}), 1.0, id="component-error"),
    pytest.param(Result(0.5, sub_rewards={"a": Result(1.0), "b": Result(0.0, Status.PARSE_ERROR)}), 0.0,
                 id="component-parse-error-is-a-real-0"),
    pytest.param(Result(0.5, sub_rewards={"b": Result(0.0, sub_rewards={"c": Result(0.0, Status.TIMEOUT)})}), 1.0,
                 id="nested-timeout"),
]


@pytest.mark.parametrize(("result", "flag"), UNGRADABLE)
def test_ungradable(result, flag):
    assert ungradable(result) == flag


LABELS = [
    # (label, item)
    pytest.param({"answer": 1}, {"answer": 1}, id="mapping"),
    pytest.param('{"answer": "4", "unit": "m"}', {"answer": "4", "unit": "m"}, id="json-object-string"),
    pytest.param("  {not json", {"answer": "  {not json"}, id="brace-but-not-json"),
    pytest.param('["a"]', {"answer": '["a"]'}, id="json-array-string-stays-text"),
    pytest.param("Paris", {"answer": "Paris"}, id="string"),
    pytest.param(4, {"answer": 4}, id="number"),
    pytest.param(None, {}, id="none"),
]


@pytest.mark.parametrize(("label", "item"), LABELS)
def test_label_item(label, item):
    assert label_item(label) == item


def test_label_item_takes_numpy_values():
    numpy = pytest.importorskip("numpy")
    assert label_item(numpy.array(["a", "b"])) == {"answer": ["a", "b"]}


def test_spec_grader_loads_a_file_once(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("type: string_check\nreference: x\n")
    assert spec_grader(str(path), "test") is spec_grader(path, "test")
    with pytest.raises(RftError, match="test: no spec"):
        spec_grader(None, "test")


def test_component_columns_match_component_rewards():
    grader = load_spec(NESTED)
    paths = component_paths(grader)
    results = [grader.grade("x"), Result.failure(Status.ERROR, "boom"), grader.grade("y")]
    columns = component_columns(results, paths)
    assert columns == {key: [component_rewards(r, paths)[key] for r in results] for key in ("a", "b", "b.c")}
    assert columns["b.c"] == [0.0, 0.0, 1.0]
