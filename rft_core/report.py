"""The summary printed at the end of a scoring run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
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


class _Ranks:
    """Ranks reported in ``metadata["rank"]`` by one grader path: hits at 1, 5, anywhere, and 1/rank."""

    __slots__ = ("top1", "top5", "found", "reciprocal")

    def __init__(self) -> None:
        self.top1 = self.top5 = self.found = 0
        self.reciprocal = 0.0

    def add(self, rank: object) -> None:
        if type(rank) is not int or rank < 1:  # None (absent), or not a rank at all: a miss
            return
        self.found += 1
        self.top5 += rank <= 5
        self.top1 += rank == 1
        self.reciprocal += 1.0 / rank

    def to_dict(self, samples: int) -> dict[str, Any]:
        def share(count: float) -> float | None:
            return count / samples if samples else None

        return {
            "samples": samples,
            "top@1": share(self.top1),
            "top@5": share(self.top5),
            "top@max": share(self.found),
            "mrr": share(self.reciprocal),
        }


ROOT = "(root)"
"""The key of the root grader in ``rankings``; sub-graders are keyed by their dotted path."""


class Summary:
    """Accumulates results: rows, samples, mean reward, pass rate, statuses, sub-grader means,
    and ranking metrics.

    A sample passes when its status is ok and its reward is at least ``pass_threshold``.
    Means include every sample (non-ok ones count with their reward, 0.0).

    Any grader (the root or a sub-grader) that puts ``rank`` in its result's metadata (1 is
    first, ``None`` when the answer is absent) gets top@1, top@5, top@max and MRR under
    ``rankings``. Their denominator is every sample that grader graded except the
    ``not_applicable`` ones; a result without a rank (a parse_error, say) is a miss.

    Token usage and cost: any result in the tree whose metadata has ``usage`` (a mapping of
    ``prompt_tokens`` / ``completion_tokens`` / ``total_tokens``) or ``cost_usd`` is summed
    under ``usage`` (model graders report what each call spent; cached verdicts spend nothing).
    """

    def __init__(self, pass_threshold: float = 1.0) -> None:
        self.pass_threshold = pass_threshold
        self.rows: set[int] = set()
        self.reward = _Mean()
        self.passed = 0
        self.statuses: Counter[str] = Counter()
        self.components: dict[str, _Mean] = {}
        self.component_failures: dict[str, Counter[str]] = {}
        self.rankings: dict[str, _Ranks] = {}
        self.applicable: Counter[str] = Counter()
        self.usage: Counter[str] = Counter()
        self.cost: float | None = None

    def add(self, row_index: int, result: Result) -> None:
        self.rows.add(row_index)
        self.reward.add(result.reward)
        self.statuses[result.status.value] += 1
        if result.status is Status.OK and result.reward >= self.pass_threshold:
            self.passed += 1
        self._add_rank(ROOT, result)
        self._add_components("", result)
        self._add_usage(result)

    def _add_usage(self, result: Result) -> None:
        metadata = result.metadata
        if metadata:
            usage = metadata.get("usage")
            if isinstance(usage, Mapping):
                for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
                    value = usage.get(key)
                    if type(value) is int:
                        self.usage[key] += value
            cost = metadata.get("cost_usd")
            if isinstance(cost, (int, float)) and not isinstance(cost, bool):
                self.cost = (self.cost or 0.0) + cost
        for sub in result.sub_rewards.values():
            self._add_usage(sub)

    def _add_components(self, prefix: str, result: Result) -> None:
        for name, sub in result.sub_rewards.items():
            path = f"{prefix}{name}"
            self.components.setdefault(path, _Mean()).add(sub.reward)
            if not sub.ok:
                self.component_failures.setdefault(path, Counter())[sub.status.value] += 1
            self._add_rank(path, sub)
            self._add_components(f"{path}.", sub)

    def _add_rank(self, path: str, result: Result) -> None:
        ranks = self.rankings.get(path)
        if ranks is None and "rank" in result.metadata:
            ranks = self.rankings[path] = _Ranks()
        if result.status is Status.NOT_APPLICABLE:
            return
        self.applicable[path] += 1  # counted for every path: a parse_error before the first rank is still a miss
        if ranks is not None:
            ranks.add(result.metadata.get("rank"))

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
            **({"rankings": self._rankings()} if self.rankings else {}),
            **({"usage": self._usage()} if self.usage or self.cost is not None else {}),
        }

    def _usage(self) -> dict[str, Any]:
        return {
            **{key: self.usage[key] for key in ("prompt_tokens", "completion_tokens", "total_tokens")},
            **({"cost_usd": self.cost} if self.cost is not None else {}),
        }

    def _rankings(self) -> dict[str, dict[str, Any]]:
        paths = sorted(self.rankings, key=lambda path: path != ROOT)  # the root first, then in order of appearance
        return {path: self.rankings[path].to_dict(self.applicable[path]) for path in paths}

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
        if self.usage:
            lines.append(
                f"tokens      {self.usage['total_tokens']} "
                f"(prompt {self.usage['prompt_tokens']}, completion {self.usage['completion_tokens']})"
            )
        if self.cost is not None:
            lines.append(f"cost        ${self.cost:.4f}")
        if self.rankings:
            width = max(len("rankings"), *(len(name) + 2 for name in self.rankings))
            widths = (7, 6, 6, 7, 6)
            header = ("samples", "top@1", "top@5", "top@max", "MRR")
            lines.append("rankings".ljust(width) + "".join("  " + h.rjust(w) for h, w in zip(header, widths)).rstrip())
            for name, values in self._rankings().items():
                cells = [str(values["samples"])] + [
                    "-" if values[key] is None else f"{values[key]:.4f}" for key in ("top@1", "top@5", "top@max", "mrr")
                ]
                lines.append(f"  {name}".ljust(width) + "".join("  " + c.rjust(w) for c, w in zip(cells, widths)))
        return "\n".join(lines)
