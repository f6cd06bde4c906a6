"""TRL adapter: a spec becomes ``GRPOTrainer`` / ``RLOOTrainer`` reward functions (``training.train`` runs one).

TRL calls a reward function as ``f(prompts=..., completions=..., completion_ids=..., **columns)``
where ``columns`` holds every dataset column (one value per completion) plus ``trainer_state``,
``log_extra`` and ``log_metric``. The functions here turn each completion into a Sample (string
or chat completion; tool calls become ``output_tools``), the dataset columns into the item, grade
the whole batch in one call and return one reward per completion (``None`` where the grader
does not apply, which TRL leaves out of that reward).

Nothing here imports torch or TRL until ``train`` runs: the reward functions are plain Python.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from operator import attrgetter
from pathlib import Path
from typing import Any

from ..kernel.errors import RftError
from ..run.deadline import Deadline, grader_timeout, timeout_result
from ..kernel.grader import Grader
from ..kernel.registry import Registry
from ..kernel.runtime import Runtime
from ..kernel.spec import load_spec
from ..kernel.types import Result, Sample, Status
from .completions import _LAST, _describe, _is_column, sub_reward_columns

__all__ = ["AsyncRewardFunction", "RewardFunction", "Spec", "reward_funcs", "reward_weights"]

RESERVED = frozenset(
    {"prompts", "completions", "completion_ids", "trainer_state", "log_extra", "log_metric", "environments"}
)
"""Keyword arguments TRL passes that are not dataset columns."""

LOGGED_STATUSES = (Status.PARSE_ERROR, Status.TIMEOUT, Status.ERROR, Status.NOT_APPLICABLE)
_NA = Status.NOT_APPLICABLE
_status_of = attrgetter("status")

Spec = Grader | str | Path | Mapping[str, Any]


class RewardFunction:
    """A grader as a TRL reward function: one ``grade_batch`` call per batch of completions.

    Picklable (a plain class holding the grader), named (``__name__`` is what TRL logs as
    ``rewards/<name>/mean``), and tolerant of keyword arguments it does not know.

    Args:
        grader: the grader to call.
        name: the function's ``__name__``; defaults to the grader's name.
        columns: dataset columns that make up the item (default: every column TRL passes,
            with the prompt as ``prompt``).
        rename: ``{column: item_key}`` for columns whose name differs from what the spec reads.
        log: report status fractions and sub-rewards through TRL's ``log_metric`` and
            ``log_extra`` when TRL passes them.
        timeout: seconds one completion's grade may take before it gets status timeout (and
            reward 0.0) and the training step goes on; default the grader's ``grader_timeout``,
            else 300 (see ``rft_core.run.deadline``).

    Returns (when called):
        ``len(completions)`` floats, ``None`` for a ``not_applicable`` result. Other failures
        (``parse_error``, ``timeout``, ``error``) give their reward, 0.0 by convention.

    >>> from rft_core import load_spec
    >>> exact = RewardFunction(load_spec({"type": "string_check", "name": "exact", "reference": "{{ item.answer }}"}))
    >>> exact(prompts=["2+2?", "3+3?"], completions=["4", "5"], answer=["4", "6"])
    [1.0, 0.0]
    """

    def __init__(
        self,
        grader: Grader,
        *,
        name: str | None = None,
        columns: Sequence[str] | None = None,
        rename: Mapping[str, str] | None = None,
        log: bool = True,
        timeout: float | None = None,
    ) -> None:
        self.grader = grader
        self.__name__ = name or grader.name
        self.columns = list(columns) if columns is not None else None
        self.rename = dict(rename or {})
        self.log = log
        self.deadline = Deadline(grader_timeout(grader, timeout))

    def __call__(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        completion_ids: Any = None,
        **kwargs: Any,
    ) -> list[float | None]:
        samples, items = self.inputs(prompts, completions, kwargs)
        results = self.deadline.grade(self.grader, samples, items)
        return self.finish(results, kwargs)

    # --- shared by the sync and async forms -----------------------------------------

    def inputs(
        self, prompts: Sequence[Any] | None, completions: Sequence[Any] | None, kwargs: Mapping[str, Any]
    ) -> tuple[list[Sample], list[dict[str, Any]]]:
        """The samples and items of one call."""
        if completions is None:
            raise TypeError(f"reward function {self.__name__!r} needs completions=[...]")
        return _LAST.samples(completions), self.items(prompts, len(completions), kwargs)

    def items(self, prompts: Sequence[Any] | None, size: int, kwargs: Mapping[str, Any]) -> list[dict[str, Any]]:
        """One item per completion, from the dataset columns (and the prompt, as ``prompt``)."""
        available = {key: value for key, value in kwargs.items() if key not in RESERVED}
        if prompts is not None:
            available["prompt"] = prompts
        if self.columns is None:  # every column; a keyword that is not one value per completion is not a column
            chosen = [key for key, value in available.items() if _is_column(value, size)]
        else:
            missing = [column for column in self.columns if column not in available]
            if missing:
                raise RftError(
                    f"reward function {self.__name__!r}: dataset column(s) {missing} not found; "
                    f"the batch has columns {sorted(available)}"
                )
            chosen = self.columns
        if not chosen:
            return [{} for _ in range(size)]
        values = []
        for column in chosen:
            value = available[column]
            if not _is_column(value, size):
                raise RftError(
                    f"reward function {self.__name__!r}: column {column!r} must hold one value per completion "
                    f"({size}), got {_describe(value)}"
                )
            values.append(value)
        keys = tuple(self.rename.get(column, column) for column in chosen)
        return _LAST.items(keys, values)

    def finish(self, results: list[Result], kwargs: Mapping[str, Any]) -> list[float | None]:
        """Log what TRL lets us log, and turn results into rewards."""
        if self.log and results:
            log_metric, log_extra = kwargs.get("log_metric"), kwargs.get("log_extra")
            if callable(log_metric) or callable(log_extra):
                self.report(results, log_metric if callable(log_metric) else None, log_extra if callable(log_extra) else None)
        return [None if result.status is _NA else float(result.reward) for result in results]

    def report(self, results: list[Result], log_metric: Any, log_extra: Any) -> None:
        """Through ``log_metric``: ``rewards/<name>/frac_<status>`` for each failure status (every
        batch, zeros included, so TRL's per-step average is over all batches) and
        ``rewards/<name>/<path>/mean`` for each sub-reward (over the rows it applies to).
        Through ``log_extra`` (TRL's completions table): ``<name>/status`` and ``<name>/<path>``."""
        name = self.__name__
        statuses = list(map(_status_of, results))
        size = len(statuses)
        all_ok = statuses.count(Status.OK) == size
        if log_metric is not None:
            for status, metric in zip(LOGGED_STATUSES, self._metric_names(name)):
                log_metric(metric, 0.0 if all_ok else statuses.count(status) / size)
        if log_extra is not None:  # Enum hashing is slow: spell out the common all-ok batch
            values = ["ok"] * size if all_ok else [status.value for status in statuses]
            log_extra(f"{name}/status", values)
        for path, column in sub_reward_columns(results).items():
            rewards = [None if sub is None or sub.status is _NA else sub.reward for sub in column]
            if log_metric is not None:
                applicable = [reward for reward in rewards if reward is not None]
                if applicable:
                    log_metric(f"rewards/{name}/{path}/mean", sum(applicable) / len(applicable))
            if log_extra is not None:
                log_extra(f"{name}/{path}", rewards)

    def _metric_names(self, name: str) -> list[str]:
        cached = self.__dict__.get("_metrics")
        if cached is None or cached[0] != name:  # built once per name (``__name__`` may be reassigned)
            cached = self._metrics = (name, [f"rewards/{name}/frac_{status.value}" for status in LOGGED_STATUSES])
        return cached[1]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__name__!r} grading with {self.grader!r}>"


class AsyncRewardFunction(RewardFunction):
    """``RewardFunction`` for graders that do I/O: ``__call__`` is a coroutine, so TRL awaits it
    on its event loop and gathers it with the other async reward functions.

    Args:
        max_concurrency: at most this many grades in flight per call (default: the whole batch).
        Other arguments as ``RewardFunction``.
    """

    def __init__(self, grader: Grader, *, max_concurrency: int | None = None, **options: Any) -> None:
        super().__init__(grader, **options)
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.max_concurrency = max_concurrency

    async def __call__(  # type: ignore[override]
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        completion_ids: Any = None,
        **kwargs: Any,
    ) -> list[float | None]:
        samples, items = self.inputs(prompts, completions, kwargs)
        if self.max_concurrency is None:
            results = await asyncio.gather(*map(self._agrade_within, samples, items))
        else:
            limit = asyncio.Semaphore(self.max_concurrency)

            async def one(sample: Sample, item: dict[str, Any]) -> Result:
                async with limit:
                    return await self._agrade_within(sample, item)

            results = await asyncio.gather(*map(one, samples, items))
        return self.finish(list(results), kwargs)

    async def _agrade_within(self, sample: Sample, item: dict[str, Any]) -> Result:
        """One grade, cancelled at the deadline (status timeout)."""
        try:
            return await asyncio.wait_for(self.grader.agrade(sample, item), self.deadline.seconds)
        except asyncio.TimeoutError:
            return timeout_result(self.grader, self.deadline.seconds)


def reward_funcs(
    spec: Spec,
    *,
    split: bool = False,
    columns: Sequence[str] | None = None,
    rename: Mapping[str, str] | None = None,
    name: str | None = None,
    log: bool = True,
    max_concurrency: int | None = None,
    registry: Registry | None = None,
    timeout: float | None = None,
    runtime: Runtime | None = None,
) -> list[RewardFunction]:
    """TRL reward functions for a spec.

    Args:
        spec: a Grader, a spec file path or a spec mapping.
        split: one function per component of a root grader that ``splits`` (a ``multi``; named
            by its key, so TRL logs ``rewards/<key>/mean``); pass ``reward_weights(spec)`` as
            ``reward_weights`` in the trainer's config so their weighted sum is the spec's reward.
            Any other root gives one function either way.
        columns: see ``RewardFunction``.
        rename: see ``RewardFunction``.
        log: see ``RewardFunction``.
        timeout: see ``RewardFunction``; default the spec's top-level ``grader_timeout``, which
            split functions share.
        name: the composite function's name (default: the spec's ``name``, else its type).
        max_concurrency: limit on concurrent grades for async (I/O) graders.
        registry: grader types to build the spec with (default: installed plugins).
        runtime: what the graders share (caches, pools, settings); default: one made from the
            environment for these functions, released when they are collected or the process exits
            (a Grader passed as ``spec`` keeps its own unless ``runtime`` is given).

    Returns:
        A list of reward functions; those whose grader ``is_async()`` are ``AsyncRewardFunction``.

    >>> funcs = reward_funcs({"type": "multi", "weights": {"a": 3, "b": 1}, "graders": {
    ...     "a": {"type": "string_check", "reference": "{{ item.answer }}"},
    ...     "b": {"type": "string_check", "operation": "regex", "reference": "^\\\\d+$"}}}, split=True)
    >>> [f.__name__ for f in funcs], [f(completions=["4"], answer=["5"]) for f in funcs]
    (['a', 'b'], [[0.0], [1.0]])
    """
    grader = _load(spec, registry)
    if runtime is not None or not isinstance(spec, Grader):  # a Grader passed in keeps its runtime
        grader.bind(runtime or Runtime.from_environment())
    options: dict[str, Any] = {
        "columns": columns, "rename": rename, "log": log, "timeout": grader_timeout(grader, timeout)
    }
    if split and grader.splits:
        parts = grader.children().items()
    else:
        parts = [(name or grader.name, grader)]
    return [_wrap(part, key, options, max_concurrency) for key, part in parts]


def reward_weights(spec: Spec, *, registry: Registry | None = None) -> list[float]:
    """The weights that make TRL's weighted sum of ``reward_funcs(spec, split=True)`` the spec's reward.

    A root grader that ``splits`` (a ``multi``) gives its ``component_weights()`` in the order of its
    components: a ``multi`` with ``weights`` (or neither weights nor formula: the plain mean) gives
    the normalised weights; a ``calculate_output`` that is a weighted sum (``0.7 * a + 0.3 * b``)
    gives its coefficients. Weights it cannot give (``min``, products, a constant term) raise
    RftError saying to use the composite function instead. Any other root gives ``[1.0]``.

    One difference remains: the spec leaves a ``not_applicable`` component out of a weighted
    mean and renormalises, while TRL adds up the components that apply without renormalising.

    >>> reward_weights({"type": "multi", "calculate_output": "0.7 * a + 0.3 * b", "graders": {
    ...     "a": {"type": "string_check", "reference": "x"}, "b": {"type": "string_check", "reference": "y"}}})
    [0.7, 0.3]
    """
    grader = _load(spec, registry)
    if not grader.splits:
        return [1.0]
    try:
        weights = grader.component_weights()
    except ValueError as exc:
        raise RftError(f"{grader.name}: {exc}; use the composite function (split=False)") from None
    return [weights.get(key, 0.0) for key in grader.children()]


def _load(spec: Spec, registry: Registry | None) -> Grader:
    return spec if isinstance(spec, Grader) else load_spec(spec, registry)


def _wrap(grader: Grader, name: str, options: dict[str, Any], max_concurrency: int | None) -> RewardFunction:
    if grader.is_async():
        return AsyncRewardFunction(grader, name=name, max_concurrency=max_concurrency, **options)
    return RewardFunction(grader, name=name, **options)
