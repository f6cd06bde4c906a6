"""``multi``: combine named sub-graders with a ``calculate_output`` formula or weights."""

from __future__ import annotations

import asyncio
import operator
from collections import deque
from collections.abc import Mapping
from itertools import repeat
from operator import attrgetter
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, ValidationInfo, WithJsonSchema, field_validator, model_validator

from rft_core import (
    Formula,
    FormulaError,
    Grader,
    GraderConfig,
    Item,
    OpenAIMapping,
    Result,
    Sample,
    Status,
    SubGraders,
    batch_memo,
    hookimpl,
)

_status = attrgetter("status")
FAILED = (Status.ERROR, Status.TIMEOUT, Status.PARSE_ERROR)  # most severe first


def _parse_formula(value: Any) -> Formula:
    if isinstance(value, Formula):
        return value
    if not isinstance(value, str):
        raise ValueError(f"calculate_output must be a formula string, not {type(value).__name__}")
    try:
        return Formula(value)
    except FormulaError as exc:
        raise ValueError(str(exc)) from None


FormulaField = Annotated[
    Formula,
    BeforeValidator(_parse_formula),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "description": "Formula over grader keys, e.g. 0.7 * a + 0.3 * b"}),
]


class Multi(Grader):
    """Combine sub-graders: a calculate_output formula (OpenAI's grammar), weights, or their mean.

    Sub-graders are named by their keys, which are the formula's variables.
    ``weights: {a: 2, b: 1}`` is shorthand for the weighted mean. With neither,
    the reward is the plain mean. A sub-grader may itself be a ``multi``.

    Components that could not grade (parse_error, timeout, error): by default
    (``on_component_failure: zero``, OpenAI's behaviour) they count as 0 and the
    composite stays ``ok``, naming them in its reason; with ``propagate`` the
    composite takes the most severe failed status and reward 0. A
    ``not_applicable`` component counts as 0 in a formula and is left out of a
    (weighted) mean; when every component is not applicable, so is the composite.

    >>> Multi(graders={"a": {"type": "string_check", "reference": "x"}}, calculate_output="a * 2").grade("x").reward
    2.0
    """

    type = "multi"
    openai = OpenAIMapping(type="multi", fields=("name", "graders", "calculate_output"))
    splits = True

    class Config(GraderConfig):
        graders: SubGraders = Field(description="Sub-graders by key; the keys are the formula's variables.")
        calculate_output: FormulaField | None = Field(
            default=None, description="Formula combining the sub-rewards, e.g. 0.5 * name + 0.5 * email."
        )
        weights: dict[str, float] | None = Field(
            default=None, description="Shorthand for a weighted mean: {key: weight}; keys not listed weigh 0."
        )
        on_component_failure: Literal["zero", "propagate"] = Field(
            default="zero", description="zero: a failed component counts 0; propagate: the composite fails too."
        )

        @field_validator("calculate_output")
        @classmethod
        def _formula_names_graders(cls, formula: Formula | None, info: ValidationInfo) -> Formula | None:
            graders = info.data.get("graders")
            if formula is not None and graders is not None:
                try:
                    formula.check_variables(graders)
                except FormulaError as exc:
                    raise ValueError(str(exc)) from None
            return formula

        @field_validator("weights")
        @classmethod
        def _weights_name_graders(cls, weights: dict[str, float] | None, info: ValidationInfo):
            graders = info.data.get("graders")
            if weights is None or graders is None:
                return weights
            unknown = sorted(set(weights) - set(graders))
            if unknown:
                raise ValueError(f"weights name unknown graders {unknown} (graders: {', '.join(graders)})")
            if any(weight < 0 for weight in weights.values()) or not sum(weights.values()) > 0:
                raise ValueError("weights must be non-negative and sum to more than 0")
            return weights

        @model_validator(mode="after")
        def _one_combination(self):
            if self.calculate_output is not None and self.weights is not None:
                raise ValueError("give calculate_output or weights, not both")
            if not self.graders:
                raise ValueError("graders is empty: a multi needs at least one sub-grader")
            return self

    config: Config

    def __init__(self, config: Config | None = None, /, **fields: Any) -> None:
        super().__init__(config, **fields)
        self.graders: dict[str, Grader] = self.config.graders
        self.weights = self.config.weights or dict.fromkeys(self.graders, 1.0)
        self._plain = not self.is_async()  # no async sub-grader: see run_coroutine

    @classmethod
    def openai_problems(cls, node: Mapping[str, Any], nested: bool) -> list[tuple[tuple[str | int, ...], str]]:
        """OpenAI's multi does not nest, needs calculate_output, and has no weights (the formula to write)."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if nested:
            problems.append((("type",), "OpenAI's multi cannot hold another multi: write the inner graders into "
                             "the outer one and combine them in its calculate_output"))
        weights = node.get("weights")
        if weights is not None:
            terms = " + ".join(f"{weight:g} * {key}" for key, weight in weights.items())
            problems.append((("weights",), f"OpenAI's multi has no field 'weights': write calculate_output: "
                             f"({terms}) / {sum(weights.values()):g} "
                             "(unlike weights, it counts a not_applicable component as 0)"))
        if node.get("calculate_output") is None and "weights" not in node:
            keys = list(node["graders"])
            problems.append(((), "OpenAI's multi needs calculate_output (here the sub-graders' mean is implied): "
                             f"write calculate_output: ({' + '.join(keys)}) / {len(keys)}"))
        return problems

    def component_weights(self) -> dict[str, float]:
        """Normalised ``weights`` (the plain mean without them), or a ``calculate_output`` that is a
        weighted sum's coefficients; ValueError for any other formula."""
        formula = self.config.calculate_output
        keys = list(self.graders)
        if formula is None:
            total = sum(self.weights.get(key, 0.0) for key in keys)
            return {key: self.weights.get(key, 0.0) / total for key in keys}
        coefficients = formula.linear_coefficients(keys)
        if coefficients is None:
            raise ValueError(f"calculate_output {str(formula)!r} is not a weighted sum of its graders, so it cannot "
                             "be split into one TRL reward function per grader")
        return dict(zip(keys, coefficients))

    async def evaluate(self, sample: Sample, item: Item) -> Result:
        """Every sub-grader grades the sample, concurrently in an event loop; ``combine`` makes the result.

        Outside an event loop with no async sub-grader (``grade`` called from plain code), the
        sub-graders grade one after another and this never suspends (see ``run_coroutine``)."""
        if self._plain and not _loop_running():
            return self.combine({key: grader.grade(sample, item) for key, grader in self.graders.items()})
        results = await asyncio.gather(*(grader.agrade(sample, item) for grader in self.graders.values()))
        return self.combine(dict(zip(self.graders, results)))

    def run_coroutine(self, coroutine: Any) -> Any:
        """With no async sub-grader and no event loop running, ``evaluate`` finishes without
        suspending: run it to its end here rather than start an event loop for every sample,
        which costs far more than grading a sample with plain sub-graders."""
        if not self._plain or _loop_running():
            return super().run_coroutine(coroutine)
        try:
            coroutine.send(None)
        except StopIteration as done:
            return done.value
        coroutine.close()
        raise RuntimeError(f"{self.name}: evaluate suspended though no sub-grader is async")

    def evaluate_batch(self, samples: list[Sample], items: list[Item]) -> list[Result]:
        """Each sub-grader grades the whole batch; when all are ok the formula runs column-wise."""
        with batch_memo():  # children with the same text settings normalise the batch once
            columns = {key: grader.grade_batch(samples, items) for key, grader in self.graders.items()}
        rows = _rows(columns, len(samples))
        if all(set(map(_status, column)) == {Status.OK} for column in columns.values()):
            rewards = {key: [result.reward for result in column] for key, column in columns.items()}
            try:
                totals = self.calculate_columns(rewards, len(rows))
            except ArithmeticError:
                pass  # row by row below, so the error lands on the rows that caused it
            else:
                return list(map(Result, totals, repeat(Status.OK), repeat(None), rows))
        return list(map(self.combine, rows))

    def combine(self, results: dict[str, Result]) -> Result:
        """The composite result of the sub-results, following the rules in the class docstring."""
        statuses = [result.status for result in results.values()]
        if all(status is Status.NOT_APPLICABLE for status in statuses):
            return Result(0.0, Status.NOT_APPLICABLE, "no component applies", results)
        failed = [key for key, result in results.items() if result.status in FAILED]
        reason = None
        if failed:
            reason = "; ".join(f"{key}: {results[key].status.value}: {results[key].reason}" for key in failed)
            if self.config.on_component_failure == "propagate":
                worst = next(status for status in FAILED if status in statuses)
                return Result(0.0, worst, reason, results)
            reason = f"counted as 0: {reason}"
        values = {key: result.reward if result.status is Status.OK else 0.0 for key, result in results.items()}
        try:
            reward = self.calculate(values, results)
        except ArithmeticError as exc:
            return Result(0.0, Status.ERROR, f"calculate_output: {exc}", results, error_code="formula_error")
        return Result(reward, Status.OK, reason, results)

    def calculate(self, values: dict[str, float], results: dict[str, Result]) -> float:
        if self.config.calculate_output is not None:
            return self.config.calculate_output.evaluate(values)
        applicable = [key for key, result in results.items() if result.status is not Status.NOT_APPLICABLE]
        total_weight = sum(self.weights.get(key, 0.0) for key in applicable)
        if total_weight == 0:
            return 0.0
        return sum(values[key] * self.weights.get(key, 0.0) for key in applicable) / total_weight

    def calculate_columns(self, columns: dict[str, list[float]], size: int) -> list[float]:
        """``calculate`` for a batch in which every component is ok."""
        if self.config.calculate_output is not None:
            return self.config.calculate_output.evaluate_columns(columns, size)
        total_weight = sum(self.weights.get(key, 0.0) for key in columns)
        if total_weight == 0:
            return [0.0] * size
        sums: list[float] = [0] * size  # type: ignore[list-item]  # the same int start as sum()
        for key, column in columns.items():
            sums = list(map(operator.add, sums, map(operator.mul, column, repeat(self.weights.get(key, 0.0)))))
        return [value / total_weight for value in sums]


def _rows(columns: dict[str, list[Result]], size: int) -> list[dict[str, Result]]:
    """Each sample's {key: result}, filled a column at a time by C-level maps (a third of dict(zip(...)) per row)."""
    rows = list(map(dict.copy, repeat(dict.fromkeys(columns), size)))
    for key, column in columns.items():
        deque(map(operator.setitem, rows, repeat(key), column), maxlen=0)
    return rows


@hookimpl
def register_graders(register):
    register(Multi)


def _loop_running() -> bool:
    """Whether this thread is running an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
