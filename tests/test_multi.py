"""Tests for graders/multi/multi.py."""

from __future__ import annotations

import asyncio
import json
import pickle

import pytest
from pydantic import Field
from rapidfuzz import fuzz

from graders.text.fuzzy_match import FuzzyMatch
from graders.multi.multi import Multi
from graders.text.string_check import StringCheck
from rft_core import Grader, GraderConfig, Result, SpecError, Status, load_spec


class Fixed(Grader):
    """Returns the configured reward and status, whatever the sample (a test double)."""

    type = "fixed"

    class Config(GraderConfig):
        reward: float = Field(default=1.0, description="The reward to return.")
        status: Status = Field(default=Status.OK, description="The status to return.")
        reason: str | None = Field(default=None, description="The reason to return.")

    def evaluate(self, sample, item):
        # the reward is returned even with a non-ok status, like a sloppy plugin might
        return Result(self.config.reward, self.config.status, self.config.reason)


class Boom(Grader):
    """Raises, like a broken plugin."""

    type = "boom"

    def evaluate(self, sample, item):
        raise RuntimeError("kaput")


class AsyncEcho(Grader):
    """An async evaluate: 1.0 when the sample text equals item['answer']."""

    type = "async_echo"

    async def evaluate(self, sample, item):
        await asyncio.sleep(0)
        return Result(1.0 if sample.output_text == item.get("answer") else 0.0)


@pytest.fixture
def registry(registry):
    """The built-in graders plus the throwaway test graders."""
    for cls in (Fixed, Boom, AsyncEcho):
        registry.register(cls, plugin="test")
    return registry


def fixed(reward: float = 1.0, status: str = "ok", reason: str | None = None) -> dict:
    return {"type": "fixed", "reward": reward, "status": status, "reason": reason}


def multi(graders: dict, **fields) -> dict:
    return {"type": "multi", "graders": graders, **fields}


# --- calculate_output ----------------------------------------------------------------------------

FORMULA_CASES = [
    # OpenAI's typical weighted sum (a = 1.0, b = 0.5)
    ("0.7 * a + 0.3 * b", 0.85),
    ("a - b", 0.5),
    ("a / b", 2.0),
    ("(a + b) / 2", 0.75),
    # ^ is power, binds tighter than unary minus, and is right associative
    ("b ^ 2", 0.25),
    ("-b ^ 2", -0.25),
    ("2 ^ 3 ^ 2", 512.0),
    # the functions
    ("min(a, b)", 0.5),
    ("max(a, b, 0.7)", 1.0),
    ("min(b)", 0.5),
    ("abs(b - a)", 0.5),
    ("floor(a + b)", 1.0),
    ("ceil(b)", 1.0),
    ("sqrt(b * 0.5)", 0.5),
    ("exp(0)", 1.0),
    ("log(a)", 0.0),
    # division by zero is 0, not an error
    ("a / 0", 0.0),
    ("b / (a - 1)", 0.0),
    ("1 + a / (b - b)", 1.0),
]


@pytest.mark.parametrize(
    ("formula", "expected"),
    FORMULA_CASES,
    ids=[
        "weighted_sum", "minus", "divide", "parentheses", "power", "unary_minus_power", "power_right_assoc",
        "min", "max_three", "min_one", "abs", "floor", "ceil", "sqrt", "exp", "log", "divide_by_zero",
        "divide_by_zero_expression", "divide_by_zero_inside",
    ],
)  # fmt: skip
def test_calculate_output(registry, formula, expected):
    grader = load_spec(multi({"a": fixed(1.0), "b": fixed(0.5)}, calculate_output=formula), registry=registry)
    result = grader.grade("anything")
    assert result.status is Status.OK
    assert result.reward == pytest.approx(expected)
    assert {key: sub.reward for key, sub in result.sub_rewards.items()} == {"a": 1.0, "b": 0.5}


DOMAIN_ERRORS = [
    # log of 0
    ("log(a - 1)", "calculate_output: log of non-positive number 0.0"),
    # log of a negative number
    ("log(b - a)", "calculate_output: log of non-positive number -0.5"),
    # sqrt of a negative number
    ("sqrt(b - a)", "calculate_output: sqrt of negative number -0.5"),
    # a negative number to a fractional power is not real
    ("(b - a) ^ 0.5", "calculate_output: -0.5 ^ 0.5 is not a real number"),
]


@pytest.mark.parametrize(
    ("formula", "reason"), DOMAIN_ERRORS, ids=["log_zero", "log_negative", "sqrt_negative", "complex_power"]
)
def test_domain_error_is_status_error(registry, formula, reason):
    grader = load_spec(multi({"a": fixed(1.0), "b": fixed(0.5)}, calculate_output=formula), registry=registry)
    result = grader.grade("anything")
    assert result.status is Status.ERROR
    assert result.reward == 0.0
    assert result.reason == reason
    assert result.error_code == "formula_error"
    assert set(result.sub_rewards) == {"a", "b"}  # the components are kept for the report


@pytest.mark.parametrize("formula", ["exp(1000 * a)", "10 ^ (400 * a)"], ids=["exp", "power"])
def test_overflow_is_status_error(registry, formula):
    grader = load_spec(multi({"a": fixed(1.0)}, calculate_output=formula), registry=registry)
    result = grader.grade("anything")
    assert result.status is Status.ERROR
    assert result.reason.startswith("calculate_output: ")


# --- weights and the plain mean ------------------------------------------------------------------

MEAN_CASES = [
    # weights: a weighted mean, (3 * 1.0 + 1 * 0.5) / 4
    ({"weights": {"a": 3, "b": 1}}, 0.875),
    # equal weights are the plain mean
    ({"weights": {"a": 1, "b": 1}}, 0.75),
    # a grader not listed weighs 0
    ({"weights": {"b": 2}}, 0.5),
    # neither weights nor a formula: the plain mean
    ({}, 0.75),
]


@pytest.mark.parametrize(("fields", "expected"), MEAN_CASES, ids=["weighted", "equal", "unlisted_zero", "plain_mean"])
def test_mean(registry, fields, expected):
    grader = load_spec(multi({"a": fixed(1.0), "b": fixed(0.5)}, **fields), registry=registry)
    assert grader.grade("x").reward == pytest.approx(expected)


SPEC_ERRORS = [
    # a formula and weights at once
    (
        {"calculate_output": "a", "weights": {"a": 1}},
        (),
        "give calculate_output or weights, not both",
    ),
    # weights naming a grader that does not exist
    (
        {"weights": {"a": 1, "c": 1}},
        ("weights",),
        "weights name unknown graders ['c'] (graders: a, b)",
    ),
    # weights that do not sum to more than 0
    (
        {"weights": {"a": 0, "b": 0}},
        ("weights",),
        "weights must be non-negative and sum to more than 0",
    ),
    # a negative weight
    (
        {"weights": {"a": 2, "b": -1}},
        ("weights",),
        "weights must be non-negative and sum to more than 0",
    ),
    # a formula naming a grader that does not exist: the position points at it
    (
        {"calculate_output": "a + b + c"},
        ("calculate_output",),
        "formula_parse_error at position 8: unknown variable 'c' (graders: a, b)\n  a + b + c\n          ^",
    ),
    # a formula that does not parse
    (
        {"calculate_output": "a +"},
        ("calculate_output",),
        "formula_parse_error at position 3: the formula ends too early\n  a +\n     ^",
    ),
    # an unknown function
    (
        {"calculate_output": "avg(a, b)"},
        ("calculate_output",),
        "formula_parse_error at position 0: unknown function 'avg' "
        "(functions: min, max, abs, floor, ceil, exp, sqrt, log)\n  avg(a, b)\n  ^",
    ),
]


@pytest.mark.parametrize(
    ("fields", "path", "message"),
    SPEC_ERRORS,
    ids=["formula_and_weights", "weights_unknown", "weights_zero", "weights_negative", "formula_unknown",
         "formula_syntax", "formula_function"],
)  # fmt: skip
def test_spec_errors(registry, fields, path, message):
    with pytest.raises(SpecError) as caught:
        load_spec(multi({"a": fixed(), "b": fixed()}, **fields), registry=registry)
    [issue] = caught.value.issues
    assert issue.path == path
    assert issue.message == message


def test_empty_graders_is_a_spec_error(registry):
    with pytest.raises(SpecError) as caught:
        load_spec(multi({}), registry=registry)
    assert caught.value.issues[0].message == "graders is empty: a multi needs at least one sub-grader"


def test_a_broken_sub_grader_is_reported_with_its_path(registry):
    with pytest.raises(SpecError) as caught:
        load_spec(multi({"a": fixed(), "b": {"type": "string_check"}}), registry=registry)
    [issue] = caught.value.issues  # not also "graders: invalid"
    assert issue.path == ("graders", "b", "reference")


# --- nesting -------------------------------------------------------------------------------------


def test_nested_multi(registry):
    inner = multi(
        {"exact": {"type": "string_check", "reference": "{{ item.answer }}"}, "half": fixed(0.5)},
        calculate_output="exact + half",
    )
    grader = load_spec(multi({"inner": inner, "c": fixed(0.0)}, calculate_output="inner * 2 + c"), registry=registry)
    result = grader.grade("Paris", {"answer": "Paris"})
    assert result.status is Status.OK
    assert result.reward == 3.0
    assert result.sub_rewards["inner"].reward == 1.5
    assert result.sub_rewards["inner"].sub_rewards["exact"].reward == 1.0
    assert result.sub_rewards["inner"].sub_rewards["half"].reward == 0.5
    as_dict = result.to_dict()
    assert as_dict["sub_rewards"]["inner"]["sub_rewards"]["exact"] == {"reward": 1.0, "status": "ok", "reason": None}


def test_batch_children_with_different_text_settings_are_not_mixed_up(registry):
    reference = "{{ item.answer }}"
    graders = {
        "plain": {"type": "string_check", "reference": reference},
        "folded": {"type": "string_check", "reference": reference, "casefold": True, "strip": True},
        "close": {"type": "fuzzy_match", "reference": reference, "processor": "none", "casefold": True},
        "same": {"type": "fuzzy_match", "reference": reference, "processor": "none"},  # the plain child's texts
    }
    grader = load_spec(multi(graders), registry=registry)
    samples, items = [" PARIS", "Paris", "lyon"], [{"answer": "Paris"}] * 3
    batch = grader.grade_batch(samples, items)
    assert batch == [grader.grade(sample, item) for sample, item in zip(samples, items)]
    assert [{key: sub.reward for key, sub in result.sub_rewards.items()} for result in batch][:2] == [
        {"plain": 0.0, "folded": 1.0, "close": fuzz.ratio(" paris", "paris") / 100, "same": fuzz.ratio(" PARIS", "Paris") / 100},
        {"plain": 1.0, "folded": 1.0, "close": 1.0, "same": 1.0},
    ]


def test_nested_errors_are_found_by_path(registry):
    inner = multi({"exact": {"type": "string_check", "reference": "{{ item.answer }}"}})
    result = load_spec(multi({"inner": inner, "c": fixed()}), registry=registry).grade("Paris", {})
    assert result.status is Status.OK  # zero by default, at each level
    assert result.error_codes() == {"inner.exact": "invalid_variable_error"}


def test_nested_spec_error_has_the_full_path(registry):
    inner = multi({"a": fixed()}, calculate_output="a + z")
    with pytest.raises(SpecError) as caught:
        load_spec(multi({"inner": inner}), registry=registry)
    [issue] = caught.value.issues
    assert issue.path == ("graders", "inner", "calculate_output")
    assert issue.message.startswith("formula_parse_error at position 4: unknown variable 'z' (graders: a)")


# --- component failures --------------------------------------------------------------------------

FAILURE_CASES = [
    # zero (the default): the failed component counts 0, the composite stays ok and names it
    (
        {},
        {"a": fixed(1.0), "b": fixed(0.9, "timeout", "slow")},
        (Status.OK, 0.5, "counted as 0: b: timeout: slow"),
    ),
    # zero in a formula
    (
        {"on_component_failure": "zero", "calculate_output": "a + b"},
        {"a": fixed(1.0), "b": fixed(0.9, "parse_error", "no answer")},
        (Status.OK, 1.0, "counted as 0: b: parse_error: no answer"),
    ),
    # zero names every failed component, in order
    (
        {},
        {"a": fixed(0.0, "error", "x"), "b": fixed(1.0), "c": fixed(0.0, "timeout", "y")},
        (Status.OK, 1 / 3, "counted as 0: a: error: x; c: timeout: y"),
    ),
    # propagate: the composite takes the failed status and reward 0
    (
        {"on_component_failure": "propagate"},
        {"a": fixed(1.0), "b": fixed(0.9, "timeout", "slow")},
        (Status.TIMEOUT, 0.0, "b: timeout: slow"),
    ),
    # propagate takes the worst status: error over timeout over parse_error
    (
        {"on_component_failure": "propagate"},
        {"a": fixed(0.0, "parse_error", "p"), "b": fixed(0.0, "error", "e"), "c": fixed(0.0, "timeout", "t")},
        (Status.ERROR, 0.0, "a: parse_error: p; b: error: e; c: timeout: t"),
    ),
    (
        {"on_component_failure": "propagate"},
        {"a": fixed(0.0, "parse_error", "p"), "b": fixed(0.0, "timeout", "t")},
        (Status.TIMEOUT, 0.0, "a: parse_error: p; b: timeout: t"),
    ),
    # propagate with nothing failed changes nothing
    (
        {"on_component_failure": "propagate"},
        {"a": fixed(1.0), "b": fixed(0.0)},
        (Status.OK, 0.5, None),
    ),
    # a grader that raises is an error component, named by its key
    (
        {},
        {"a": fixed(1.0), "b": {"type": "boom"}},
        (Status.OK, 0.5, "counted as 0: b: error: b: RuntimeError: kaput"),
    ),
]


@pytest.mark.parametrize(
    ("fields", "graders", "expected"),
    FAILURE_CASES,
    ids=["zero", "zero_formula", "zero_several", "propagate", "propagate_worst_error", "propagate_worst_timeout",
         "propagate_all_ok", "raising_component"],
)  # fmt: skip
def test_component_failure(registry, fields, graders, expected):
    result = load_spec(multi(graders, **fields), registry=registry).grade("x")
    assert (result.status, result.reason) == expected[::2]
    assert result.reward == pytest.approx(expected[1])
    assert set(result.sub_rewards) == set(graders)


def test_unknown_on_component_failure_is_a_spec_error(registry):
    with pytest.raises(SpecError) as caught:
        load_spec(multi({"a": fixed()}, on_component_failure="ignore"), registry=registry)
    assert caught.value.issues[0].message == "Input should be 'zero' or 'propagate'"


# --- not_applicable ------------------------------------------------------------------------------

NOT_APPLICABLE_CASES = [
    # left out of the plain mean: (1.0) / 1, not (1.0 + 0) / 2
    ({}, {"a": fixed(1.0), "n": fixed(0.7, "not_applicable")}, (Status.OK, 1.0)),
    # left out of a weighted mean, whatever its weight
    ({"weights": {"a": 1, "b": 1, "n": 5}}, {"a": fixed(1.0), "b": fixed(0.5), "n": fixed(0.7, "not_applicable")},
     (Status.OK, 0.75)),
    # counts 0 in a formula (not its reward)
    ({"calculate_output": "a + n"}, {"a": fixed(1.0), "n": fixed(0.7, "not_applicable")}, (Status.OK, 1.0)),
    # all components not applicable: so is the composite
    ({}, {"n": fixed(0.7, "not_applicable"), "m": fixed(0.0, "not_applicable")}, (Status.NOT_APPLICABLE, 0.0)),
    ({"calculate_output": "n + 1"}, {"n": fixed(0.7, "not_applicable")}, (Status.NOT_APPLICABLE, 0.0)),
    # not_applicable is no failure, even with propagate
    ({"on_component_failure": "propagate"}, {"a": fixed(0.5), "n": fixed(0.0, "not_applicable")}, (Status.OK, 0.5)),
    # but a real failure still propagates past it
    ({"on_component_failure": "propagate"}, {"t": fixed(0.0, "timeout", "t"), "n": fixed(0.0, "not_applicable")},
     (Status.TIMEOUT, 0.0)),
    # the only applicable component weighs 0: reward 0, still ok
    ({"weights": {"n": 1}}, {"a": fixed(1.0), "n": fixed(0.0, "not_applicable")}, (Status.OK, 0.0)),
]


@pytest.mark.parametrize(
    ("fields", "graders", "expected"),
    NOT_APPLICABLE_CASES,
    ids=["plain_mean", "weighted_mean", "formula", "all", "all_formula", "propagate", "propagate_failure",
         "applicable_weighs_zero"],
)  # fmt: skip
def test_not_applicable(registry, fields, graders, expected):
    result = load_spec(multi(graders, **fields), registry=registry).grade("x")
    assert (result.status, result.reward) == (expected[0], pytest.approx(expected[1]))


def test_all_not_applicable_reason(registry):
    result = load_spec(multi({"n": fixed(0.0, "not_applicable")}), registry=registry).grade("x")
    assert result.reason == "no component applies"
    assert result.sub_rewards["n"].status is Status.NOT_APPLICABLE


def test_nested_not_applicable_is_left_out_of_the_outer_mean(registry):
    inner = multi({"n": fixed(0.0, "not_applicable")})
    result = load_spec(multi({"inner": inner, "a": fixed(0.5)}), registry=registry).grade("x")
    assert result.sub_rewards["inner"].status is Status.NOT_APPLICABLE
    assert (result.status, result.reward) == (Status.OK, 0.5)


# --- async sub-graders ---------------------------------------------------------------------------


@pytest.fixture
def async_multi(registry):
    spec = multi(
        {"echo": {"type": "async_echo"}, "exact": {"type": "string_check", "reference": "{{ item.answer }}"}},
        weights={"echo": 3, "exact": 1},
    )
    return load_spec(spec, registry=registry)


def test_async_sub_grader_makes_the_composite_async(async_multi):
    assert async_multi.graders["echo"].is_async()
    assert async_multi.is_async()


def test_async_sub_grader_via_grade(async_multi):
    result = async_multi.grade("Paris", {"answer": "Paris"})
    assert (result.status, result.reward) == (Status.OK, 1.0)
    assert result.sub_rewards["echo"].reward == 1.0


def test_async_sub_grader_via_grade_batch(async_multi):
    results = async_multi.grade_batch(["Paris", "Lyon", "Paris"], [{"answer": "Paris"}, {"answer": "Paris"}, {"answer": "Lyon"}])
    assert [result.reward for result in results] == [1.0, 0.0, 0.0]
    assert all(result.ok for result in results)


def test_async_sub_grader_inside_a_running_event_loop(async_multi):
    async def main():
        asyncio.get_running_loop()  # a loop is running: grade() must not call asyncio.run on it
        single = async_multi.grade("Paris", {"answer": "Paris"})
        batch = async_multi.grade_batch(["Paris", "Lyon"], [{"answer": "Paris"}, {"answer": "Paris"}])
        awaited = await async_multi.agrade("Paris", {"answer": "Paris"})
        return single, batch, awaited

    single, batch, awaited = asyncio.run(main())
    assert single.reward == 1.0
    assert [result.reward for result in batch] == [1.0, 0.0]
    assert awaited.reward == 1.0


def test_async_sub_grader_nested(registry):
    inner = multi({"echo": {"type": "async_echo"}})
    grader = load_spec(multi({"inner": inner, "half": fixed(0.5)}), registry=registry)
    assert grader.is_async()
    assert grader.grade("a", {"answer": "a"}).reward == 0.75
    assert [r.reward for r in grader.grade_batch(["a", "b"], [{"answer": "a"}, {"answer": "a"}])] == [0.75, 0.25]


# --- built in Python -----------------------------------------------------------------------------


def test_python_built_multi_from_raw_dict_sub_specs():
    grader = Multi(
        graders={
            "exact": {"type": "string_check", "reference": "{{ item.answer }}", "casefold": True},
            "close": {"type": "fuzzy_match", "reference": "{{ item.answer }}", "metric": "ratio"},
        },
        calculate_output="0.5 * exact + 0.5 * close",
    )
    assert isinstance(grader.graders["exact"], StringCheck)
    assert isinstance(grader.graders["close"], FuzzyMatch)
    # sub-graders are named by their key, as in a spec
    assert [child.name for child in grader.graders.values()] == ["exact", "close"]
    assert grader.grade("PARIS", {"answer": "paris"}).reward == 1.0
    result = grader.grade("Pariss", {"answer": "Paris"})
    assert result.reward == pytest.approx(0.5 * fuzz.ratio("pariss", "paris") / 100)


def test_python_built_multi_mixes_graders_and_dicts():
    grader = Multi(
        graders={"a": StringCheck(reference="x", name="mine"), "b": {"type": "string_check", "reference": "y"}},
        weights={"a": 1, "b": 3},
    )
    assert grader.graders["a"].name == "mine"  # an explicit name is kept
    assert grader.grade("y").reward == 0.75


def test_python_built_multi_validates():
    with pytest.raises(Exception, match="give calculate_output or weights, not both"):
        Multi(graders={"a": {"type": "string_check", "reference": "x"}}, calculate_output="a", weights={"a": 1})


def test_pickle_round_trip_after_use():
    # TRL reward functions and worker processes need picklable graders, composites included
    grader = Multi(
        graders={
            "exact": {"type": "string_check", "reference": "{{ item.answer }}", "collapse_whitespace": True},
            "close": {"type": "fuzzy_match", "reference": "{{ item.answer }}", "extract": "is (.*)"},
        },
        calculate_output="min(exact, close) + max(exact, close) / 2",
    )
    before = grader.grade("it is  Paris", {"answer": "Paris"})
    copy = pickle.loads(pickle.dumps(grader))
    assert copy.grade("it is  Paris", {"answer": "Paris"}) == before
    assert before.reward == 0.5


def test_docstring_example():
    grader = Multi(graders={"a": {"type": "string_check", "reference": "x"}}, calculate_output="a * 2")
    assert grader.grade("x").reward == 2.0


# --- OpenAI compatibility ------------------------------------------------------------------------

OPENAI_MULTI = """
{
  "type": "multi",
  "name": "example multi grader",
  "graders": {
    "name": {
      "name": "name_grader",
      "type": "text_similarity",
      "input": "{{sample.output_json.name}}",
      "reference": "{{item.name}}",
      "evaluation_metric": "fuzzy_match",
      "pass_threshold": 0.9
    },
    "email": {
      "name": "email_grader",
      "type": "string_check",
      "input": "{{sample.output_json.email}}",
      "reference": "{{item.email}}",
      "operation": "eq"
    }
  },
  "calculate_output": "(name + email) / 2"
}
"""


def test_openai_json_config_works_unchanged(registry):
    grader = load_spec(json.loads(OPENAI_MULTI), registry=registry)
    assert grader.name == "example multi grader"
    assert grader.graders["name"].name == "name_grader"
    sample = {"output_text": '{"name": "John Smith", "email": "john@example.com"}'}
    result = grader.grade(sample, {"name": "Jon Smith", "email": "john@example.com"})
    similarity = fuzz.ratio("John Smith", "Jon Smith") / 100
    assert result.reward == pytest.approx((similarity + 1.0) / 2)
    assert result.sub_rewards["name"].metadata == {"passed": True}
