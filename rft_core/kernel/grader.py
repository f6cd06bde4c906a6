"""The Grader base class every built-in and third-party grader extends."""

from __future__ import annotations

import asyncio
import builtins
import inspect
import threading
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Annotated, Any, ClassVar, cast

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, WithJsonSchema

from .declarations import OpenAIMapping, ReportMetric
from .errors import GradeError
from .paths import context_folder
from .runtime import Runtime, default_runtime
from .types import Item, Result, Sample, Status

__all__ = [
    "FINAL_METHODS",
    "BatchFailureWarning",
    "Grader",
    "GraderConfig",
    "SubGraders",
    "child_fields",
    "run_sync",
]


class GraderConfig(BaseModel):
    """Fields every grader accepts. Subclass it as ``Grader.Config``."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, validate_default=True)

    type: str = Field(description="The grader type, as listed by `rft graders`.")
    name: str | None = Field(
        default=None,
        description="Name shown in reports and logs; defaults to the key a composite holds it under, else the type.",
    )
    grader_timeout: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="Seconds one sample's grade may take before the runner gives it status timeout and goes on "
        "(default 300, or rft score --grader-timeout); the top-level grader's applies to the whole spec.",
    )


FINAL_METHODS = (
    "grade", "agrade", "grade_batch", "is_async", "__getstate__", "__setstate__", "__reduce__", "__reduce_ex__",
)
"""Methods the base owns: a subclass that defines one is refused when its class is created."""


class Grader:
    """Scores one sample against its item.

    A subclass sets ``type`` and ``Config`` and implements ``evaluate(sample, item)``, a plain
    or an ``async`` method (which one is read once, when the class is created), and may add
    ``evaluate_batch(samples, items)``, plain or ``async``, for a faster path over many samples.
    ``evaluate`` raises ``GradeError`` for a known failure. Callers use ``grade``, ``agrade`` or
    ``grade_batch``, which the base owns (a subclass defining them is refused) and which never
    raise for a sample: an exception becomes a Result with its status, code and message.

    A composite declares its sub-graders as ``SubGraders`` config fields; the spec loader builds
    those before the config is validated.
    """

    type: ClassVar[str]
    Config: ClassVar[builtins.type[GraderConfig]] = GraderConfig  # builtins: `type` is the class attribute above
    openai_hint: ClassVar[str] = ""
    """For a type OpenAI lacks: why, and what to use instead (``rft export-openai`` shows it)."""
    judged_by_model: ClassVar[bool] = False
    """True for graders whose verdict comes from a language model (LLM judges): ``rft audit``
    runs its judge probes on specs holding one."""
    transient: ClassVar[Mapping[str, Callable[[Any], Any] | None]] = {}
    """Attributes holding live resources (a worker process, a loaded model, a lock, a compiled
    validator): pickling leaves them out; unpickling sets each to ``fresh(grader)``, or leaves it
    unset when ``fresh`` is None (a ``functools.cached_property`` then rebuilds it on first use)."""
    blocking: ClassVar[bool] = False
    """True when a plain ``evaluate`` waits (on worker processes, a subprocess): ``agrade`` runs it
    in a thread so the caller's event loop keeps serving other samples."""

    _evaluate_is_async: ClassVar[bool] = False
    _batch: ClassVar[str | None] = None  # "sync", "async", or None: no evaluate_batch

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in (*FINAL_METHODS, "aevaluate"):
            if name in vars(cls):
                advice = (
                    "make evaluate itself `async def evaluate(self, sample, item)`"
                    if name == "aevaluate"
                    else "implement evaluate (and optionally evaluate_batch); the base owns grade, agrade, "
                    "grade_batch and pickling"
                )
                raise TypeError(f"{cls.__module__}.{cls.__qualname__} defines {name}: {advice}")
        cls._evaluate_is_async = inspect.iscoroutinefunction(cls.evaluate)
        batch = cls.evaluate_batch
        if batch is not Grader.evaluate_batch:
            cls._batch = "async" if inspect.iscoroutinefunction(batch) else "sync"

    # --- declarations: what the core asks a grader type instead of testing its name -------

    openai: ClassVar[OpenAIMapping | None] = None
    """How the type maps to one of OpenAI's graders (``rft validate --openai``, ``rft export-openai``);
    None when OpenAI has no counterpart (``openai_hint`` then says why and what to use instead)."""
    splits: ClassVar[bool] = False
    """True for a composite whose reward is a weighted sum of its children's (multi):
    ``reward_funcs(split=True)`` gives one TRL reward function per child, ``reward_weights`` asks
    ``component_weights`` for their weights."""
    report_metrics: ClassVar[tuple[ReportMetric, ...]] = ()
    """Tables the grader adds to the reward-signal report, computed from its results (ranked_list: top@k, MRR)."""
    retrainable_model: ClassVar[str | None] = None
    """The config field naming a local reward model that ``rft loop --refresh-rm`` may retrain and
    point at the new one (reward_model: ``model``); None for graders without one."""

    def component_weights(self) -> dict[str, float]:
        """For a grader that ``splits``: {child key: weight} such that its reward is the weighted sum of
        its children's rewards. Raise ValueError saying why when this configuration is not such a sum."""
        raise ValueError(f"{self.type} does not split into weighted components")

    def pass_threshold(self) -> float | None:
        """The reward at or above which a sample passes, when the grader defines one (OpenAI's
        ``pass_threshold``): reports' pass rate uses it. None (the default): the report's own, 1.0."""
        return None

    @classmethod
    def openai_problems(cls, node: Mapping[str, Any], nested: bool) -> list[tuple[tuple[str | int, ...], str]]:
        """Reasons beyond its fields' values why the spec ``node`` of this type would not mean the same
        on OpenAI, as (path inside the node, message); ``nested``: the node is inside another grader.
        A field named here is not reported again as a field OpenAI lacks."""
        return []

    def __init__(self, config: GraderConfig | None = None, /, **fields: Any) -> None:
        if config is None:
            config = self.Config(type=self.type, **fields)
        elif fields:
            raise TypeError("pass either a Config or keyword fields, not both")
        self.config = config
        self.name = config.name or self.type

    @classmethod
    def summary(cls) -> str:
        """The first line of the class docstring: the one-line description `rft graders` shows."""
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""

    def is_async(self) -> bool:
        """True when grading one sample at a time, concurrently, is this grader's natural path: its
        ``evaluate`` is async and it has no batch path, or (a composite) a sub-grader's is async.
        Callers with an event loop (TRL's async reward functions) then use ``agrade``."""
        if not self._evaluate_is_async:
            return False
        return self._batch is None or any(child.is_async() for child in self.children().values())

    def environment_problems(self) -> list[str]:
        """What will make this grader fail here whatever the sample, found without grading (e.g. a
        module its code imports that is not installed); ``rft validate`` reports them."""
        return []

    @property
    def runtime(self) -> Runtime:
        """What this grader shares with the rest of its run (settings, caches, pools, event loop):
        the runtime ``bind`` gave it, else ``default_runtime()``. A process that unpickles a grader
        binds it to a runtime of its own (the runner's workers and Ray actors do)."""
        return self.__dict__.get("_runtime") or default_runtime()

    def bind(self, runtime: Runtime) -> Grader:
        """Make ``runtime`` this grader's and its sub-graders'; returns the grader."""
        self.__dict__["_runtime"] = runtime
        for child in self.children().values():
            child.bind(runtime)
        return self

    def children(self) -> dict[str, Grader]:
        """Sub-graders of a composite, by key; empty for a leaf grader."""
        found: dict[str, Grader] = {}
        for field_name in child_fields(self.Config):
            found.update(getattr(self.config, field_name))
        return found

    def run_coroutine(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """How sync callers run this grader's coroutines: on a fresh event loop by default. Graders
        that keep connections on a long-lived loop (LLM judges) run them there instead."""
        return run_sync(coroutine)

    # --- to implement -------------------------------------------------------------

    def evaluate(self, sample: Sample, item: Item) -> Result | Awaitable[Result]:
        """Grade one sample (a plain or an ``async`` method). Raise GradeError for a known failure."""
        raise NotImplementedError(f"{type(self).__name__} does not implement evaluate")

    def evaluate_batch(self, samples: list[Sample], items: list[Item]) -> list[Result] | Awaitable[list[Result]]:
        """Optional: grade a batch at once (a plain or an ``async`` method), one Result per sample."""
        raise NotImplementedError

    # --- to call ------------------------------------------------------------------

    def grade(self, sample: Sample | Mapping[str, Any] | str, item: Item | None = None) -> Result:
        """Grade one sample; never raises."""
        try:
            outcome = self.evaluate(Sample.coerce(sample), _coerce_item(item))
            if self._evaluate_is_async:
                return cast(Result, self.run_coroutine(cast("Coroutine[Any, Any, Result]", outcome)))
            return cast(Result, outcome)
        except Exception as exc:  # noqa: BLE001 - a grader must never crash a run
            return self._failure(exc)

    async def agrade(self, sample: Sample | Mapping[str, Any] | str, item: Item | None = None) -> Result:
        """Grade one sample from async code; never raises."""
        try:
            if self._evaluate_is_async:
                return await cast("Awaitable[Result]", self.evaluate(Sample.coerce(sample), _coerce_item(item)))
            if self.blocking:
                return await asyncio.to_thread(self.grade, sample, item)
            return cast(Result, self.evaluate(Sample.coerce(sample), _coerce_item(item)))
        except Exception as exc:  # noqa: BLE001
            return self._failure(exc)

    def grade_batch(self, samples: Sequence[Any], items: Sequence[Item | None]) -> list[Result]:
        """Grade many samples, in order; never raises for a bad sample.

        An async grader (``is_async``) grades them concurrently; a grader with ``evaluate_batch``
        grades them at once. If ``evaluate_batch`` raises (or returns a list of the wrong length),
        a ``BatchFailureWarning`` naming the grader and the exception is issued, once per grader,
        and the batch is graded one sample at a time, each result's metadata naming the failure
        under ``batch_error``: the rows keep their grades and say why they were slow.
        """
        if len(samples) != len(items):
            raise ValueError(f"grade_batch got {len(samples)} samples but {len(items)} items")
        if self.is_async():
            return cast("list[Result]", self.run_coroutine(self._agrade_all(samples, items)))
        if self._batch is None:
            return [self.grade(sample, item) for sample, item in zip(samples, items)]
        try:
            coerced_samples, coerced_items = _coerce_samples(samples), _coerce_items(items)
        except Exception:  # noqa: BLE001 - a bad sample gets its own error result below
            return [self.grade(sample, item) for sample, item in zip(samples, items)]
        try:
            outcome = self.evaluate_batch(coerced_samples, coerced_items)
            if self._batch == "async":
                outcome = self.run_coroutine(cast("Coroutine[Any, Any, list[Result]]", outcome))
            results = cast("list[Result]", outcome)
            if len(results) != len(samples):  # a short or long batch would misalign every later row
                raise ValueError(f"evaluate_batch returned {len(results)} results for {len(samples)} samples")
        except Exception as exc:  # noqa: BLE001 - reported, then each sample gets its own result
            return self._after_batch_failure(exc, coerced_samples, coerced_items)
        return results

    async def _agrade_all(self, samples: Sequence[Any], items: Sequence[Item | None]) -> list[Result]:
        return list(await asyncio.gather(*(self.agrade(s, i) for s, i in zip(samples, items))))

    def _after_batch_failure(self, exc: Exception, samples: list[Sample], items: list[Item]) -> list[Result]:
        problem = f"{type(exc).__name__}: {exc}"
        if not self.__dict__.get("_batch_failure_reported"):
            self.__dict__["_batch_failure_reported"] = True
            warnings.warn(
                f"grader {self.name!r} ({type(self).__module__}.{type(self).__qualname__}): evaluate_batch raised "
                f"{problem}; grading its batches one sample at a time (much slower) until it is fixed",
                BatchFailureWarning,
                stacklevel=3,
            )
        note = {"batch_error": problem}
        return [
            result.replace(metadata={**result.metadata, **note})
            for result in (self.grade(sample, item) for sample, item in zip(samples, items))
        ]

    def _failure(self, exc: Exception) -> Result:
        if isinstance(exc, GradeError):
            return exc.result()
        message = f"{self.name}: {type(exc).__name__}: {exc}"
        return Result.failure(Status.ERROR, message, "other_error", exception=type(exc).__name__)

    def __getstate__(self) -> dict[str, Any]:
        """The config and what ``__init__`` derived from it, without the ``transient`` attributes."""
        return {name: value for name, value in self.__dict__.items() if name not in self.transient}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name, fresh in self.transient.items():
            if fresh is not None:
                self.__dict__[name] = fresh(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class BatchFailureWarning(RuntimeWarning):
    """A grader's ``evaluate_batch`` raised: its samples were graded one at a time instead."""


_SUBGRADERS = "rft-subgraders"


def _build_children(value: dict[str, Any], info: ValidationInfo) -> dict[str, Grader]:
    from .spec import load_spec_in  # the spec loader imports this module

    built = {}
    for key, child in value.items():
        if not isinstance(child, (Grader, Mapping)):
            raise ValueError(f"sub-grader {key!r} must be a grader object, not {type(child).__name__}")
        if isinstance(child, Mapping) and "name" not in child:
            child = {**child, "name": str(key)}  # as the spec loader does: the name defaults to the key
        built[key] = child if isinstance(child, Grader) else load_spec_in(child, context_folder(info))
    return built


SubGraders = Annotated[
    dict[str, Any],
    AfterValidator(_build_children),
    WithJsonSchema({"type": "object", "additionalProperties": {"$ref": "#/$defs/Grader"}}),
    _SUBGRADERS,
]
"""A config field holding sub-graders by key (grader objects, or specs built on validation)."""


def child_fields(config_class: type[GraderConfig]) -> list[str]:
    """Names of the config fields that hold sub-graders."""
    return [name for name, info in config_class.model_fields.items() if _SUBGRADERS in info.metadata]


def _coerce_samples(samples: Sequence[Any]) -> list[Sample]:
    if set(map(type, samples)) <= {Sample}:  # composites pass their batch on as is
        return samples if isinstance(samples, list) else list(samples)
    return [Sample.coerce(sample) for sample in samples]


def _coerce_items(items: Sequence[Item | None]) -> list[Item]:
    if set(map(type, items)) <= {dict}:
        return cast("list[Item]", items if isinstance(items, list) else list(items))  # all dicts: checked above
    return [_coerce_item(item) for item in items]


def _coerce_item(item: Item | None) -> Item:
    if type(item) is dict:
        return item
    if item is None:
        return {}
    if not isinstance(item, Mapping):
        raise TypeError(f"an item must be a mapping, not {type(item).__name__}")
    return item


def run_sync(coroutine: Any) -> Any:
    """Run a coroutine to completion from sync code, even inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="rft-grade")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
