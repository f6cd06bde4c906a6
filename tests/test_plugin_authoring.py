"""What plugin authors rely on: rft_core.testing, the pytest fixture, readable warnings and
config errors attached to their field."""

from __future__ import annotations

import os
import subprocess
import sys
import types

import pytest
from pydantic import Field, model_validator

from rft_core import Grader, GraderConfig, Result, SpecError, hookimpl, load_spec
from rft_core.testing import call_like_trl, make_registry

pytest_plugins = ["rft_core.pytest_plugin"]


class Bounds(Grader):
    """1.0 when the output's length is within [low, high]."""

    type = "bounds_test"

    class Config(GraderConfig):
        low: int = Field(default=0, ge=0)
        high: int = 10
        label: str = "x"

        @model_validator(mode="after")
        def _in_order(self):
            if self.low > self.high:
                raise ValueError(f"low ({self.low}) is above high ({self.high})")
            return self

    def evaluate(self, sample, item):
        return Result(1.0 if self.config.low <= len(sample.output_text) <= self.config.high else 0.0)


class AsyncLength(Grader):
    """Reward: the output's length / 10, computed in a coroutine."""

    type = "async_length_test"

    async def evaluate(self, sample, item):
        return Result(len(sample.output_text) / 10)


def _hook_module() -> types.ModuleType:
    module = types.ModuleType("rft_bounds_test")

    @hookimpl
    def register_graders(register):
        register(Bounds)
        register(AsyncLength)

    module.register_graders = register_graders  # type: ignore[attr-defined]
    return module


# --- make_registry and the fixture ------------------------------------------------------------


def test_make_registry_registers_through_the_hook_under_the_given_name():
    registry = make_registry(("rft-bounds", _hook_module()))
    assert registry.get("bounds_test").plugin == "rft-bounds"
    assert registry.get("string_check").plugin == "graders.text.string_check"


def test_a_module_alone_is_named_after_itself():
    assert make_registry(_hook_module()).get("bounds_test").plugin == "rft_bounds_test"


def test_the_fixture_holds_the_built_in_graders_only(rft_registry):
    assert "string_check" in rft_registry.names()
    assert rft_registry.get("bounds_test") is None
    rft_registry.register(Bounds, plugin="rft-bounds")
    assert load_spec({"type": "bounds_test", "high": 3}, rft_registry).grade("abc").reward == 1.0


# --- call_like_trl ---------------------------------------------------------------------------


def test_call_like_trl_gives_one_list_per_function_and_what_they_logged():
    registry = make_registry(("rft-bounds", _hook_module()))
    spec = {"type": "multi", "calculate_output": "0.5 * short + 0.5 * exact", "graders": {
        "short": {"type": "bounds_test", "high": 1},
        "exact": {"type": "string_check", "reference": "{{ item.answer }}"}}}  # fmt: skip
    call = call_like_trl(spec, ["4", "44"], columns={"answer": ["4", "44"]}, registry=registry, split=True)
    assert call.rewards == {"short": [1.0, 0.0], "exact": [1.0, 1.0]}
    assert call.extra["short/status"] == ["ok", "ok"]
    assert call.metrics["rewards/short/frac_error"] == 0.0


def test_call_like_trl_awaits_async_reward_functions():
    registry = make_registry(_hook_module())
    call = call_like_trl({"type": "async_length_test", "name": "len"}, ["abcde", "a"], registry=registry)
    assert call.rewards == {"len": [0.5, 0.1]}


def test_call_like_trl_refuses_a_column_of_the_wrong_length():
    with pytest.raises(ValueError, match="column 'answer' has 1 values for 2 completions"):
        call_like_trl({"type": "string_check", "reference": "a"}, ["a", "b"], columns={"answer": ["a"]})


# --- config errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "issues"),
    [
        ({"low": 5, "high": 2}, ["low: low (5) is above high (2)"]),
        # the cross-field check is reported beside another field's error
        ({"low": 5, "high": 2, "label": 3}, ["label: Input should be a valid string", "low: low (5) is above high (2)"]),
        # an invalid field the check reads is not judged by its default
        ({"low": 20, "high": "x"}, ["high: Input should be a valid integer, unable to parse string as an integer"]),
    ],
    ids=["alone", "with_another_error", "check_reads_the_invalid_field"],
)
def test_a_cross_field_check_is_attached_to_its_field(fields, issues):
    with pytest.raises(SpecError) as caught:
        load_spec({"type": "bounds_test", **fields}, make_registry(_hook_module()))
    assert [str(issue) for issue in caught.value.issues] == issues


# --- warnings ------------------------------------------------------------------------------


def test_a_warning_prints_as_one_line_without_python_file_paths():
    env = {**os.environ, "RFT_LOAD_PLUGINS": "rft-not-installed"}
    completed = subprocess.run([sys.executable, "-m", "rft_core.cli", "graders"], env=env, capture_output=True,
                               text=True, timeout=120)  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == "warning: RFT_LOAD_PLUGINS names 'rft-not-installed', which is not installed\n"
