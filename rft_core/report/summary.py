"""The reward-signal report: what ``rft score`` prints at its end and ``rft report`` reads back.

``Summary.add`` runs once per sample in the scoring loop, so it only appends rewards to arrays
(one per grader path) and notes the rare non-ok results; every statistic is computed at the end.
"""

from __future__ import annotations

import json
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import accumulate, compress
from operator import gt, ne, sub, truediv
from pathlib import Path
from typing import Any, TextIO

from ..kernel.declarations import ReportMetric
from ..kernel.errors import RftError
from .gold import Gold, agreement
from ..run.output_files import atomic_text
from .judge_bias import JudgeBias
from .k_samples import EXTRACTED, Draw, k_sample_metrics
from .readiness import readiness
from .text import render_text
from .stats import describe, histogram
from ..kernel.types import Result, Status, Usage

__all__ = ["ROOT", "STATUS_ADVICE_SHARE", "Summary", "declared_metrics", "write_report"]

ROOT = "(root)"
"""The key of the root grader; sub-graders are keyed by their dotted path."""

STATUS_ADVICE_SHARE = 0.05
"""A grader whose parse_error, timeout or error share reaches this earns advice."""

STATUSES = tuple(status.value for status in Status)
_OK = Status.OK
_NOT_APPLICABLE = Status.NOT_APPLICABLE
_ERROR = Status.ERROR
_STATUS_ADVICE = {
    Status.PARSE_ERROR: "the outputs lack what it reads (check its extract pattern, or the prompt's format instructions)",
    Status.TIMEOUT: "it ran out of time (raise its timeout, or check for pathological outputs)",
    Status.ERROR: "it could not grade them (see the reasons: a data row that does not read, a template key the data "
    "lacks, an unreachable server...; `rft run` reproduces one sample)",
}
_SECTIONS = frozenset({
    "rows", "samples", "mean_reward", "pass_threshold", "pass_rate", "statuses", "components", "graders", "usage",
    "k_samples", "judge_bias", "readiness", "agreement", "advice", "metric_tables",
})  # the report's own keys: a report metric may not take one
_REASONS_KEPT = 5
_REASON_CHARS = 200


class _Grader:
    """What one grader path gathers: each reward and the sample it belongs to, the non-ok results
    (position, status, reward, reason), the error codes of its ``error`` results, the values of
    declared report metrics its results carry, and its sub-graders."""

    __slots__ = ("rewards", "positions", "failures", "error_codes", "metrics", "children", "answers", "bias")

    def __init__(self) -> None:
        self.rewards = array("d")
        self.positions = array("q")
        self.failures: list[tuple[int, Status, float, str | None]] = []
        self.error_codes: Counter[str] = Counter()
        self.metrics: dict[str, list[Any]] = {}  # report metric name -> its values in applicable results
        self.children: dict[str, _Grader] = {}
        self.answers: dict[int, str] = {}  # position -> the answer the grader extracted (for maj@k)
        self.bias: JudgeBias | None = None


class Summary:
    """Accumulates results, then reports on them.

    Per grader path (the root, ``(root)``, and every sub-grader by dotted path): mean, std, quantiles,
    a histogram, pass rate and the share of each status. A sample passes when its status is ok and
    its reward is at least ``pass_threshold``; means include every sample (non-ok ones with their
    reward, 0.0). Samples sharing a row index are one item's samples: GRPO readiness (see
    ``rft_core.report.readiness``) looks at them. With gold labels, agreement per grader (``rft_core.report.gold``).

    Report metrics (``ReportMetric``, declared by grader types; default: every one the installed
    graders declare, e.g. ranked_list's ``rankings``, top@k and MRR): any grader path whose results
    carry a metric's metadata key gets a row in that metric's table. Its ``samples`` are every sample
    that path graded except the ``not_applicable`` ones; a result without the key counts there only.

    Token usage and cost: any result in the tree whose metadata has ``usage`` (``prompt_tokens`` /
    ``completion_tokens`` / ``total_tokens``) or ``cost_usd`` is summed under ``usage``.
    """

    def __init__(self, pass_threshold: float = 1.0, metrics: Iterable[ReportMetric] | None = None) -> None:
        self.pass_threshold = pass_threshold
        self.metrics = tuple(declared_metrics() if metrics is None else metrics)
        clashes = sorted({metric.name for metric in self.metrics} & _SECTIONS)
        if clashes:
            raise RftError(f"report metric {clashes[0]!r} has the name of a report section "
                           f"({', '.join(sorted(_SECTIONS))}): the grader declaring it must rename it")
        self._indices = array("q")
        self._root = _Grader()
        self._ids: dict[int, Any] = {}
        self.usage: Counter[str] = Counter()
        self.cost: float | None = None

    def add(self, row_index: int, result: Result, row_id: Any = None) -> None:
        """Add the result of one sample of row ``row_index`` (samples in input order); ``row_id``
        is the row's ``id``, shown next to its index in the report."""
        position = len(self._indices)
        self._indices.append(row_index)
        if row_id is not None:
            self._ids[row_index] = row_id
        self._add(self._root, result, position)

    def _add(self, grader: _Grader, result: Result, position: int) -> None:
        grader.rewards.append(result.reward)
        grader.positions.append(position)
        if result.status is not _OK:
            grader.failures.append((position, result.status, result.reward, result.reason))
            if result.status is _ERROR and (result.metadata or result.error_code is not None):
                grader.error_codes[result.error_code or "other_error"] += 1
        if result.usage is not None:
            self._add_usage(result.usage)
        if result.metadata:
            self._add_metadata(grader, result)
        if result.sub_rewards:
            children = grader.children
            for name, sub in result.sub_rewards.items():
                child = children.get(name)
                if child is None:
                    child = children[name] = _Grader()
                self._add(child, sub, position)

    def _add_metadata(self, grader: _Grader, result: Result) -> None:
        metadata = result.metadata
        for metric in self.metrics:
            if metric.key in metadata:
                values = grader.metrics.setdefault(metric.name, [])
                if result.status is not _NOT_APPLICABLE:
                    values.append(metadata[metric.key])
        answer = metadata.get(EXTRACTED)
        if type(answer) is str:
            grader.answers[grader.positions[-1]] = answer
        bias = metadata.get("judge_bias")
        if isinstance(bias, Mapping):
            if grader.bias is None:
                grader.bias = JudgeBias()
            grader.bias.add(bias)

    def _add_usage(self, usage: Usage) -> None:
        self.usage["prompt_tokens"] += usage.input_tokens
        self.usage["completion_tokens"] += usage.output_tokens
        self.usage["total_tokens"] += usage.input_tokens + usage.output_tokens
        if usage.cost_usd is not None:
            self.cost = (self.cost or 0.0) + usage.cost_usd

    @property
    def samples(self) -> int:
        return len(self._indices)

    def _graders(self) -> Iterator[tuple[str, _Grader]]:
        """Every grader path, the root first, then depth first in order of appearance."""
        stack = [(ROOT, self._root)]
        while stack:
            path, grader = stack.pop()
            yield path, grader
            prefix = "" if grader is self._root else f"{path}."
            stack.extend((f"{prefix}{name}", child) for name, child in reversed(grader.children.items()))

    def to_dict(self, gold: Gold | None = None) -> dict[str, Any]:
        """Everything the report shows, JSON-ready; ``gold`` adds agreement with its labels."""
        graders = dict(self._graders())
        stats = {path: self._stats(grader) for path, grader in graders.items()}
        root = stats[ROOT]
        rows = len(set(self._indices))
        report: dict[str, Any] = {
            "rows": rows,
            "samples": self.samples,
            "mean_reward": root["mean"],
            "pass_threshold": self.pass_threshold,
            "pass_rate": root["pass_rate"],
            "statuses": _status_counts(self._root),
            "components": {
                path: {"mean_reward": stats[path]["mean"], "failures": _status_counts(grader, ok=False)}
                for path, grader in graders.items() if path != ROOT
            },
            "graders": stats,
        }
        advice = self._add_metrics(report, graders)
        if self.usage or self.cost is not None:
            report["usage"] = {
                **{key: self.usage[key] for key in ("prompt_tokens", "completion_tokens", "total_tokens")},
                **({"cost_usd": self.cost} if self.cost is not None else {}),
            }
        if rows < self.samples:
            every_sample = self._row_runs(range(self.samples))
            k_samples = {path: self._k_samples(grader, every_sample) for path, grader in graders.items()}
            report["k_samples"] = {path: metrics for path, metrics in k_samples.items() if metrics is not None}
        judge_bias = {path: grader.bias.to_dict() for path, grader in graders.items() if grader.bias is not None}
        if judge_bias:
            report["judge_bias"] = judge_bias
        # one sample per row: no groups to build (readiness says it does not apply)
        report["readiness"] = readiness(self._groups() if rows < self.samples else {}, self.pass_threshold)
        if self._ids and report["readiness"]["applies"]:
            report["readiness"]["flat_item_ids"] = {
                kind: [self._ids.get(index) for index in indices]
                for kind, indices in report["readiness"]["flat_items"].items()
            }
        if gold is not None:
            keys = self._sample_keys()
            report["agreement"] = {
                "column": gold.column,
                "graders": {
                    path: agreement(gold.labels, _graded(grader, keys), self.pass_threshold)
                    for path, grader in graders.items()
                },
            }
        report["advice"] = _status_advice(stats) + advice + report["readiness"].pop("advice", [])
        return report

    def _add_metrics(self, report: dict[str, Any], graders: Mapping[str, _Grader]) -> list[str]:
        """Each report metric some path's results carry, as ``report[metric.name] = {path: values}``
        and its table's layout under ``report["metric_tables"]``; advice for a metric that failed."""
        advice = []
        for metric in self.metrics:
            rows = {}
            for path, grader in graders.items():
                values = grader.metrics.get(metric.name)
                if values is not None:
                    samples = _applicable(grader)
                    try:
                        rows[path] = {"samples": samples, **metric.compute(values, samples)}
                    except Exception as exc:  # noqa: BLE001 - a plugin's metric must not cost the report
                        advice.append(f"{path}: report metric {metric.name} failed: {type(exc).__name__}: {exc}")
            if rows:
                report[metric.name] = rows
                report.setdefault("metric_tables", {})[metric.name] = {
                    "title": metric.title, "columns": dict(metric.columns)
                }
        return advice

    def _stats(self, grader: _Grader) -> dict[str, Any]:
        rewards = sorted(grader.rewards)  # sorted once: describe and histogram sort it again in linear time
        count = len(rewards)
        threshold = self.pass_threshold
        passed = count - bisect_left(rewards, threshold)
        passed -= sum(1 for _, _, reward, _ in grader.failures if reward >= threshold)
        counts = _status_counts(grader)
        reasons = Counter((status.value, reason and reason[:_REASON_CHARS]) for _, status, _, reason in grader.failures)
        return {
            "samples": count,
            **describe(rewards),
            "pass_rate": passed / count if count else None,
            "status_rates": {status: counts.get(status, 0) / count if count else None for status in STATUSES},
            "histogram": histogram(rewards),
            "reasons": [
                {"status": status, "reason": reason, "count": number}
                for (status, reason), number in reasons.most_common(_REASONS_KEPT)
            ],
            "error_codes": dict(grader.error_codes),
        }

    def _groups(self) -> dict[int, list[float]]:
        """The root rewards of each row's samples; not_applicable samples are left out (TRL skips them)."""
        skipped = {position for position, status, _, _ in self._root.failures if status is _NOT_APPLICABLE}
        pairs = zip(self._indices, self._root.rewards)
        if skipped:
            pairs = (pair for position, pair in enumerate(pairs) if position not in skipped)
        groups: dict[int, list[float]] = {}
        for index, reward in pairs:
            group = groups.get(index)
            if group is None:
                groups[index] = [reward]
            else:
                group.append(reward)
        return groups

    def _k_samples(self, grader: _Grader, every_sample: tuple[list[int] | None, list[int]]) -> dict[str, Any] | None:
        """pass@k, maj@k and mean@k of one grader path over each row's samples (``not_applicable``
        ones left out); a sample passes as in ``pass_rate``. Column-wise: each row's counts and sums
        are differences of running totals over its run of samples (``every_sample``: the runs of a
        path that graded every sample, shared by all such paths)."""
        positions: Sequence[int] = grader.positions
        rewards: Sequence[float] = grader.rewards
        passed = list(map(self.pass_threshold.__le__, rewards))
        skipped = set()
        for position, status, _, _ in grader.failures:
            local = bisect_left(positions, position)  # positions ascend: where this sample sits
            passed[local] = False
            if status is _NOT_APPLICABLE:
                skipped.add(local)
        if skipped:
            kept = [local for local in range(len(positions)) if local not in skipped]
            positions, rewards, passed = ([column[local] for local in kept] for column in (positions, rewards, passed))
        order, bounds = every_sample if len(positions) == self.samples else self._row_runs(positions)
        if order is not None:
            positions, rewards, passed = ([column[local] for local in order] for column in (positions, rewards, passed))
        passes_so_far = [0, *accumulate(passed)]
        rewards_so_far = [0.0, *accumulate(rewards)]
        ends, starts = bounds[1:], bounds[:-1]
        sizes = list(map(sub, ends, starts))
        passes = list(map(sub, map(passes_so_far.__getitem__, ends), map(passes_so_far.__getitem__, starts)))
        sums = map(sub, map(rewards_so_far.__getitem__, ends), map(rewards_so_far.__getitem__, starts))
        votes = None
        answers = grader.answers
        if answers:
            draws = list(map(Draw, passed, rewards, map(answers.get, positions)))
            votes = [draws[start:end] for start, end in zip(starts, ends)]
        return k_sample_metrics(sizes, passes, list(map(truediv, sums, sizes)), votes)

    def _row_runs(self, positions: Sequence[int]) -> tuple[list[int] | None, list[int]]:
        """How the samples at ``positions`` form rows: an order that brings each row's samples
        together (None when they are, as ``rft score`` writes them) and the bounds of each row's run."""
        rows = list(map(self._indices.__getitem__, positions))
        order = None
        if any(map(gt, rows, rows[1:])):  # a hand-made file: a row's samples may be apart
            order = sorted(range(len(rows)), key=rows.__getitem__)  # stable: a row's samples keep their order
            rows = [rows[local] for local in order]
        return order, [0, *compress(range(1, len(rows)), map(ne, rows[1:], rows[:-1])), len(rows)]

    def _sample_keys(self) -> list[tuple[int, int]]:
        """(row index, sample position in the row) of every sample, as gold labels are keyed."""
        seen: Counter[int] = Counter()
        keys = []
        for index in self._indices:
            keys.append((index, seen[index]))
            seen[index] += 1
        return keys

    def render(self, gold: Gold | None = None) -> str:
        """The report as plain-text tables for the terminal."""
        return render_text(self.to_dict(gold))


def declared_metrics() -> list[ReportMetric]:
    """The report metrics the installed grader types declare (one per name, the first type's, by type name)."""
    from ..kernel.registry import default_registry

    found: dict[str, ReportMetric] = {}
    for _, grader_type in default_registry():
        for metric in grader_type.cls.report_metrics:
            found.setdefault(metric.name, metric)
    return list(found.values())


def write_report(summary: Summary, stream: TextIO, *, gold: Gold | None = None, html: Path | None = None,
                 as_json: bool = False, title: str = "") -> dict[str, Any]:
    """Print the report of ``summary`` to ``stream`` (text tables, or JSON with ``as_json``) and,
    with ``html``, write the self-contained HTML report there, atomically (``title`` names the run
    in it). Returns the report (``Summary.to_dict``)."""
    report = summary.to_dict(gold)
    if html is not None:
        from .html import render_html

        try:
            with atomic_text(html, "the HTML report") as out:
                out.write(render_html(report, title))
        except OSError as exc:
            raise RftError(f"{html}: cannot write the HTML report: {exc.strerror}") from None
    print(json.dumps(report, indent=2, ensure_ascii=False) if as_json else render_text(report), file=stream)
    return report


def _status_counts(grader: _Grader, ok: bool = True) -> dict[str, int]:
    counts = Counter(status.value for _, status, _, _ in grader.failures)
    ok_count = len(grader.rewards) - len(grader.failures)
    return {**({"ok": ok_count} if ok and ok_count else {}), **counts}


def _applicable(grader: _Grader) -> int:
    return len(grader.rewards) - sum(1 for _, status, _, _ in grader.failures if status is _NOT_APPLICABLE)


def _graded(grader: _Grader, keys: list[tuple[int, int]]) -> Iterator[tuple[tuple[int, int], float, bool]]:
    failed = {position for position, _, _, _ in grader.failures}
    for position, reward in zip(grader.positions, grader.rewards):
        yield keys[position], reward, position not in failed


def _status_advice(stats: Mapping[str, Mapping[str, Any]]) -> list[str]:
    advice = []
    for path, values in stats.items():
        for status, what in _STATUS_ADVICE.items():
            share = values["status_rates"][status.value]
            if share is not None and share >= STATUS_ADVICE_SHARE:
                advice.append(f"{path}: {share:.0%} {status.value}: {what}")
    return advice

