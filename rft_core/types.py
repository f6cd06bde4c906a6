"""The data every grader reads and returns: Sample, Item, Status and Result."""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType
from typing import Any

__all__ = ["Item", "Result", "Sample", "SharedComposite", "SharedResult", "Status"]

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
        output_tools: list | None = None,
        choices: list | None = None,
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


class Result:
    """The outcome of one grade.

    Non-``ok`` results carry reward 0.0 by default and keep their status, so a
    report or trainer can tell "wrong" from "could not grade".

    Results are made millions of times, so an unset ``sub_rewards`` or ``metadata``
    is one shared read-only empty mapping: pass a dict to have one to fill.
    """

    __slots__ = ("reward", "status", "reason", "sub_rewards", "metadata")

    def __init__(
        self,
        reward: float,
        status: Status = Status.OK,
        reason: str | None = None,
        sub_rewards: Mapping[str, Result] = EMPTY,
        metadata: Mapping[str, Any] = EMPTY,
    ) -> None:
        self.reward = reward
        self.status = status
        self.reason = reason
        self.sub_rewards = sub_rewards
        self.metadata = metadata

    def __repr__(self) -> str:
        fields = f"reward={self.reward!r}, status={self.status.value!r}"
        if self.reason is not None:
            fields += f", reason={self.reason!r}"
        if self.sub_rewards:
            fields += f", sub_rewards={self.sub_rewards!r}"
        if self.metadata:
            fields += f", metadata={self.metadata!r}"
        return f"Result({fields})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Result):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (e.g. back from a worker process) without the shared EMPTY, which cannot be pickled."""
        return Result, (self.reward, self.status, self.reason, dict(self.sub_rewards), dict(self.metadata))

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    @classmethod
    def failure(cls, status: Status, reason: str, code: str | None = None, **metadata: Any) -> Result:
        """A non-ok result with reward 0.0; ``code`` is an OpenAI-style error flag."""
        if code is not None:
            metadata["error_code"] = code
        return cls(0.0, Status(status), reason, {}, metadata)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view; sub-results nest the same way."""
        out: dict[str, Any] = {"reward": self.reward, "status": self.status._value_, "reason": self.reason}
        if self.sub_rewards:
            out["sub_rewards"] = {name: sub.to_dict() for name, sub in self.sub_rewards.items()}
        if self.metadata:
            out["metadata"] = self.metadata
        return out

    def error_codes(self) -> dict[str, str]:
        """Every error code in this result's tree, keyed by the path of the grader that raised it."""
        codes: dict[str, str] = {}
        self._collect_errors("", codes)
        return codes

    def _collect_errors(self, prefix: str, codes: dict[str, str]) -> None:
        code = self.metadata.get("error_code")
        if code is not None:
            codes[prefix or "."] = code
        for name, sub in self.sub_rewards.items():
            if sub.metadata or sub.sub_rewards:  # a bare sub-result (the usual ok one) has no codes
                sub._collect_errors(f"{prefix}.{name}" if prefix else name, codes)


class SharedResult(Result):
    """A Result one grader returns for many samples (string_check's 1.0 and 0.0), made once.

    It is read-only: setting or deleting an attribute raises AttributeError, so no
    caller can change the result of another sample. Pickled, it comes back a plain Result.
    """

    __slots__ = ()

    def __init__(self, reward: float, status: Status = Status.OK, reason: str | None = None) -> None:
        for name, value in zip(Result.__slots__, (reward, status, reason, EMPTY, EMPTY)):
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
