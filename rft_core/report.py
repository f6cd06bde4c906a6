"""The summary printed at the end of a scoring run."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .types import Result, Status

__all__ = ["Summary"]


class _Mean:
    __slots__ = ("total", "count")

    def __init__(self) -> None:
        self.total = 0.0
        self.count = 0

    def add(self, value: float) -> None:
        self.total += value
        self.count += 1

    @property
    def value(self) -> float | None:
        return self.total / self.count if self.count else None


class Summary:
    """Accumulates results: rows, samples, mean reward, pass rate, statuses, sub-grader means.

    A sample passes when its status is ok and its reward is at least ``pass_threshold``.
    Means include every sample (non-ok ones count with their reward, 0.0).
    """

    def __init__(self, pass_threshold: float = 1.0) -> None:
        self.pass_threshold = pass_threshold
        self.rows: set[int] = set()
        self.reward = _Mean()
        self.passed = 0
        self.statuses: Counter[str] = Counter()
        self.components: dict[str, _Mean] = {}
        self.component_failures: dict[str, Counter[str]] = {}

    def add(self, row_index: int, result: Result) -> None:
        self.rows.add(row_index)
        self.reward.add(result.reward)
        self.statuses[result.status.value] += 1
        if result.status is Status.OK and result.reward >= self.pass_threshold:
            self.passed += 1
        self._add_components("", result)

    def _add_components(self, prefix: str, result: Result) -> None:
        for name, sub in result.sub_rewards.items():
            path = f"{prefix}{name}"
            self.components.setdefault(path, _Mean()).add(sub.reward)
            if not sub.ok:
                self.component_failures.setdefault(path, Counter())[sub.status.value] += 1
            self._add_components(f"{path}.", sub)

    @property
    def samples(self) -> int:
        return self.reward.count

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": len(self.rows),
            "samples": self.samples,
            "mean_reward": self.reward.value,
            "pass_threshold": self.pass_threshold,
            "pass_rate": self.passed / self.samples if self.samples else None,
            "statuses": dict(self.statuses),
            "components": {
                name: {"mean_reward": mean.value, "failures": dict(self.component_failures.get(name, {}))}
                for name, mean in self.components.items()
            },
        }

    def render(self) -> str:
        """A short plain-text table for the terminal."""
        if not self.samples:
            return "no samples scored"
        lines = [
            f"rows        {len(self.rows)}",
            f"samples     {self.samples}",
            f"mean reward {self.reward.value:.4f}",
            f"pass rate   {self.passed / self.samples:.1%} (ok and reward >= {self.pass_threshold:g})",
            "statuses    " + ", ".join(f"{status} {count}" for status, count in sorted(self.statuses.items())),
        ]
        if self.components:
            width = max(len(name) for name in self.components)
            lines.append("components  mean reward")
            for name, mean in self.components.items():
                failures = self.component_failures.get(name)
                note = "  (" + ", ".join(f"{s} {n}" for s, n in sorted(failures.items())) + ")" if failures else ""
                lines.append(f"  {name.ljust(width)}  {mean.value:.4f}{note}")
        return "\n".join(lines)
