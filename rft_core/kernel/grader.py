"""The Grader base class every built-in and third-party grader extends."""

from __future__ import annotations

import asyncio
import builtins
import threading
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, ClassVar, cast

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from .errors import GradeError
from .types import Item, Result, Sample, Status

__all__ = ["Grader", "GraderConfig", "SubGraders", "child_fields", "run_sync"]


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


class Grader:
    """Scores one sample against its item.

    Subclasses set ``type`` and ``Config`` and implement ``evaluate`` (CPU work)
    or ``aevaluate`` (I/O); each defaults to the other. Callers use ``grade``,
    ``agrade`` or ``grade_batch``, which never raise: an exception becomes a
    Result with status ``error`` and the exception's message.

    A composite declares its sub-graders as ``SubGraders`` config fields; the
    spec loader builds those before the config is validated.
    """

    type: ClassVar[str]
    Config: ClassVar[builtins.type[GraderConfig]] = GraderConfig  # builtins: `type` is the class attribute above
    openai_hint: ClassVar[str] = ""
    """For a type OpenAI lacks: why, and what to use instead (``rft export-openai`` shows it)."""
    judged_by_model: ClassVar[bool] = False
    """True for graders whose verdict comes from a language model (LLM judges): ``rft audit``
    runs its judge probes on specs holding one."""

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
        """True when the grader's natural path is ``aevaluate`` (it does I/O)."""
        return type(self).aevaluate is not Grader.aevaluate

    def environment_problems(self) -> list[str]:
        """What will make this grader fail here whatever the sample, found without grading (e.g. a
        module its code imports that is not installed); ``rft validate`` reports them."""
        return []

    def children(self) -> dict[str, Grader]:
        """Sub-graders of a composite, by key; empty for a leaf grader."""
        found: dict[str, Grader] = {}
        for field_name in child_fields(self.Config):
            found.update(getattr(self.config, field_name))
        return found

    # --- to implement -------------------------------------------------------------

    def evaluate(self, sample: Sample, item: Item) -> Result:
        """Grade one sample. Raise GradeError for a known failure (it becomes a status)."""
        if not self.is_async():
            raise NotImplementedError(f"{type(self).__name__} implements neither evaluate nor aevaluate")
        result: Result = run_sync(self.aevaluate(sample, item))
        return result

    async def aevaluate(self, sample: Sample, item: Item) -> Result:
        """Async form of ``evaluate``; by default runs ``evaluate`` inline."""
        return self.evaluate(sample, item)

    # --- to call ------------------------------------------------------------------

    def grade(self, sample: Sample | Mapping[str, Any] | str, item: Item | None = None) -> Result:
        """Grade one sample; never raises."""
        try:
            return self.evaluate(Sample.coerce(sample), _coerce_item(item))
        except Exception as exc:  # noqa: BLE001 - a grader must never crash a run
            return self._failure(exc)

    async def agrade(self, sample: Sample | Mapping[str, Any] | str, item: Item | None = None) -> Result:
        """Grade one sample from async code; never raises."""
        try:
            return await self.aevaluate(Sample.coerce(sample), _coerce_item(item))
        except Exception as exc:  # noqa: BLE001
            return self._failure(exc)

    def evaluate_batch(self, samples: list[Sample], items: list[Item]) -> list[Result]:
        """Grade a batch at once; override for a faster path. If it raises, the batch is graded one by one."""
        return [self.grade(sample, item) for sample, item in zip(samples, items)]

    def grade_batch(self, samples: Sequence[Any], items: Sequence[Item | None]) -> list[Result]:
        """Grade many samples, in order; never raises for a bad sample. Async graders run them concurrently."""
        if len(samples) != len(items):
            raise ValueError(f"grade_batch got {len(samples)} samples but {len(items)} items")
        if self.is_async():
            results: list[Result] = run_sync(self._agrade_all(samples, items))
            return results
        try:
            results = self.evaluate_batch(_coerce_samples(samples), _coerce_items(items))
            if len(results) == len(samples):  # a short or long batch would misalign every later row
                return results
        except Exception:  # noqa: BLE001 - one by one, each failure lands on its own sample
            pass
        return [self.grade(sample, item) for sample, item in zip(samples, items)]

    async def _agrade_all(self, samples: Sequence[Any], items: Sequence[Item | None]) -> list[Result]:
        return list(await asyncio.gather(*(self.agrade(s, i) for s, i in zip(samples, items))))

    def _failure(self, exc: Exception) -> Result:
        if isinstance(exc, GradeError):
            return Result.failure(exc.status, str(exc), exc.code)
        message = f"{self.name}: {type(exc).__name__}: {exc}"
        return Result.failure(Status.ERROR, message, "other_error", exception=type(exc).__name__)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


_SUBGRADERS = "rft-subgraders"


def _build_children(value: dict[str, Any]) -> dict[str, Grader]:
    from .spec import load_spec  # the spec loader imports this module

    built = {}
    for key, child in value.items():
        if not isinstance(child, (Grader, Mapping)):
            raise ValueError(f"sub-grader {key!r} must be a grader object, not {type(child).__name__}")
        if isinstance(child, Mapping) and "name" not in child:
            child = {**child, "name": str(key)}  # as the spec loader does: the name defaults to the key
        built[key] = child if isinstance(child, Grader) else load_spec(child)
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
