"""The data every grader reads and returns: Sample, Item, Status and Result."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Any

__all__ = ["Item", "Result", "Sample", "SharedResult", "Status", "Usage"]

Item = Mapping[str, Any]
"""The dataset row a sample answers: every field but the sample's."""

_UNPARSED = object()
EMPTY: Mapping[str, Any] = MappingProxyType({})
"""The shared, read-only default of a Result's sub_rewards and metadata."""


class Status(str, Enum):
    """How a grade ended. Only ``ok`` means the reward judged the sample."""

    OK = "ok"
    NOT_APPLICABLE = "not_applicable"
    PARSE_ERROR = "parse_error"
    TIMEOUT = "timeout"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


class Sample:
    """One model output, shaped like OpenAI's grader ``sample``.

    ``output_json`` is parsed from ``output_text`` on first use when the row
    does not provide it; text that is not a JSON object or array gives ``None``.
    """

    __slots__ = ("output_text", "_output_json", "output_tools", "choices")

    def __init__(
        self,
        output_text: str = "",
        output_json: Any = _UNPARSED,
        output_tools: list[Any] | None = None,
        choices: list[Any] | None = None,
    ) -> None:
        self.output_text = output_text
        self._output_json = output_json
        self.output_tools = output_tools if output_tools is not None else []
        self.choices = choices if choices is not None else []

    @property
    def output_json(self) -> Any:
        if self._output_json is _UNPARSED:
            self._output_json = _parse_json(self.output_text)
        return self._output_json

    @classmethod
    def coerce(cls, value: Sample | Mapping[str, Any] | str) -> Sample:
        """Build a Sample from a Sample, a plain string or an OpenAI-style mapping."""
        if isinstance(value, Sample):
            return value
        if isinstance(value, str):
            return cls(value)
        if not isinstance(value, Mapping):
            raise TypeError(f"a sample must be a string or a mapping, not {type(value).__name__}")
        unknown = set(value) - {"output_text", "output_json", "output_tools", "choices"}
        if unknown:
            raise ValueError(
                f"unknown sample field(s) {sorted(unknown)}; "
                "a sample has output_text, output_json, output_tools, choices"
            )
        text = value.get("output_text", "")
        if not isinstance(text, str):
            raise TypeError(f"sample.output_text must be a string, not {type(text).__name__}")
        return cls(
            text,
            value.get("output_json", _UNPARSED),
            value.get("output_tools"),
            value.get("choices"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "output_text": self.output_text,
            "output_json": self.output_json,
            "output_tools": self.output_tools,
            "choices": self.choices,
        }

    def __repr__(self) -> str:
        text = self.output_text if len(self.output_text) <= 60 else self.output_text[:57] + "..."
        return f"Sample(output_text={text!r})"


def _parse_json(text: str) -> Any:
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        return json.loads(stripped)
    except (ValueError, RecursionError):
        return None


@dataclass(frozen=True, slots=True)
class Usage:
    """What one grade spent on a model: tokens in (``prompt_tokens``), out (``completion_tokens``),
    those of the prompt the server served from its cache (when it says), and the cost when the
    spec gives prices. Output rows show it as ``metadata.usage`` and ``metadata.cost_usd``."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int | None = None
    cost_usd: float | None = None

    def to_dict(self) -> dict[str, int]:
        """The OpenAI-style token counts an output row shows under ``metadata.usage``."""
        counts = {
            "prompt_tokens": self.input_tokens,
            "completion_tokens": self.output_tokens,
            "total_tokens": self.input_tokens + self.output_tokens,
        }
        if self.cached_tokens is not None:
            counts["cached_tokens"] = self.cached_tokens
        return counts

    @classmethod
    def from_metadata(cls, usage: Any, cost: Any = None) -> Usage | None:
        """The Usage an output row's ``metadata.usage`` and ``metadata.cost_usd`` describe; None for neither."""
        if not isinstance(usage, Mapping) and cost is None:
            return None
        usage = usage if isinstance(usage, Mapping) else {}
        cached = usage.get("cached_tokens")
        return cls(
            _count(usage.get("prompt_tokens")),
            _count(usage.get("completion_tokens")),
            cached if type(cached) is int else None,
            float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None,
        )


def _count(value: Any) -> int:
    return value if type(value) is int else 0


class Result:
    """The outcome of one grade.

    Non-``ok`` results carry reward 0.0 by default and keep their status, so a
    report or trainer can tell "wrong" from "could not grade". ``error_code`` is an
    OpenAI-style flag (``model_grader_parse_error``...) for a failed grade; ``usage``
    what a model-based grade spent.

    A Result is immutable by contract: ``sub_rewards`` and ``metadata`` are read-only
    mappings to its users, and a changed copy comes from ``replace``. Results are made
    millions of times, so an unset ``sub_rewards`` or ``metadata`` is one shared
    read-only empty mapping, and one Result may stand for many samples.
    """

    __slots__ = ("reward", "status", "reason", "sub_rewards", "metadata", "error_code", "usage")

    def __init__(
        self,
        reward: float,
        status: Status = Status.OK,
        reason: str | None = None,
        sub_rewards: Mapping[str, Result] = EMPTY,
        metadata: Mapping[str, Any] = EMPTY,
        error_code: str | None = None,
        usage: Usage | None = None,
    ) -> None:
        self.reward = reward
        self.status = status
        self.reason = reason
        self.sub_rewards = sub_rewards
        self.metadata = metadata
        self.error_code = error_code
        self.usage = usage

    def __repr__(self) -> str:
        fields = f"reward={self.reward!r}, status={self.status.value!r}"
        if self.reason is not None:
            fields += f", reason={self.reason!r}"
        if self.sub_rewards:
            fields += f", sub_rewards={self.sub_rewards!r}"
        if self.metadata:
            fields += f", metadata={self.metadata!r}"
        if self.error_code is not None:
            fields += f", error_code={self.error_code!r}"
        if self.usage is not None:
            fields += f", usage={self.usage!r}"
        return f"Result({fields})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Result):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in Result.__slots__)

    __hash__ = None  # type: ignore[assignment]  # holds mappings

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (e.g. back from a worker process) without the shared EMPTY, which cannot be pickled."""
        return Result, (self.reward, self.status, self.reason, dict(self.sub_rewards), dict(self.metadata),
                        self.error_code, self.usage)

    def replace(self, **changes: Any) -> Result:
        """A new Result with ``changes`` (field names: reward, status, reason, sub_rewards, metadata,
        error_code, usage); this one is left as it is."""
        unknown = set(changes) - set(Result.__slots__)
        if unknown:
            raise TypeError(f"Result has no field(s) {sorted(unknown)}; fields: {', '.join(Result.__slots__)}")
        fields = {name: getattr(self, name) for name in Result.__slots__}
        fields.update(changes)
        return Result(**fields)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    @classmethod
    def failure(cls, status: Status, reason: str, code: str | None = None, **metadata: Any) -> Result:
        """A non-ok result with reward 0.0; ``code`` is an OpenAI-style error flag."""
        return cls(0.0, Status(status), reason, {}, metadata, code)

    def row_metadata(self) -> Mapping[str, Any]:
        """``metadata`` as an output row shows it: with ``error_code``, ``usage`` and ``cost_usd``."""
        if self.error_code is None and self.usage is None:
            return self.metadata
        shown = dict(self.metadata)
        if self.usage is not None:
            shown["usage"] = self.usage.to_dict()
            if self.usage.cost_usd is not None:
                shown["cost_usd"] = self.usage.cost_usd
        if self.error_code is not None:
            shown["error_code"] = self.error_code
        return shown

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view; sub-results nest the same way."""
        out: dict[str, Any] = {"reward": self.reward, "status": self.status._value_, "reason": self.reason}
        if self.sub_rewards:
            out["sub_rewards"] = {name: sub.to_dict() for name, sub in self.sub_rewards.items()}
        metadata = self.row_metadata()
        if metadata:
            out["metadata"] = metadata
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        """The Result a ``to_dict`` view (or an output row) was made from. A ``null`` reward is the
        NaN a grader returned (rows are strict JSON: no NaN there)."""
        sub_rewards = {name: cls.from_dict(sub) for name, sub in (data.get("sub_rewards") or {}).items()}
        metadata = dict(data.get("metadata") or {})
        code = metadata.pop("error_code", None)
        usage = Usage.from_metadata(metadata.pop("usage", None), metadata.pop("cost_usd", None))
        reward = math.nan if data["reward"] is None else data["reward"]
        return cls(reward, Status(data["status"]), data.get("reason"), sub_rewards, metadata,
                   code if isinstance(code, str) else None, usage)

    def error_codes(self) -> dict[str, str]:
        """Every error code in this result's tree, keyed by the path of the grader that raised it."""
        codes: dict[str, str] = {}
        self._collect_errors("", codes)
        return codes

    def _collect_errors(self, prefix: str, codes: dict[str, str]) -> None:
        if self.error_code is not None:
            codes[prefix or "."] = self.error_code
        for name, sub in self.sub_rewards.items():
            if sub.error_code is not None or sub.sub_rewards:  # a bare sub-result (the usual ok one) has no codes
                sub._collect_errors(f"{prefix}.{name}" if prefix else name, codes)


class SharedResult(Result):
    """A Result one grader returns for many samples (string_check's 1.0 and 0.0), made once.

    It is read-only: setting or deleting an attribute raises AttributeError, and its
    ``metadata`` (a copy of the one given) cannot be changed either, so no caller can change
    the result of another sample. Pickled, it comes back a plain Result.
    """

    __slots__ = ()

    def __init__(self, reward: float, status: Status = Status.OK, reason: str | None = None,
                 metadata: Mapping[str, Any] | None = None) -> None:
        shown = EMPTY if metadata is None else MappingProxyType(dict(metadata))
        for name, value in zip(Result.__slots__, (reward, status, reason, EMPTY, shown, None, None)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a SharedResult is read-only (it is the result of many samples): cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a SharedResult is read-only (it is the result of many samples): cannot delete {name!r}")


class SharedComposite(SharedResult):
    """A read-only Result with read-only sub-rewards, returned for every sample with the same outcome."""

    __slots__ = ()

    def __init__(self, reward: float, reason: str | None, sub_rewards: dict[str, Result]) -> None:
        super().__init__(reward, Status.OK, reason)
        object.__setattr__(self, "sub_rewards", MappingProxyType(sub_rewards))
