"""``rft audit``: probe a spec for reward hacking before training.

Every probe of ``rft_core.audit.probes`` is graded for every item; per probe and per grader path
(the root, and each sub-grader under its dotted path) the audit reports the mean of each
item's best reward over the probe's texts, the fraction of items where it exceeds the
threshold, and the item that earned most. A probe is flagged where that fraction exceeds
the tolerance. The verdict follows the root, the reward a trainer optimises; a sub-grader
that a probe passes is reported as a leak, since a sub-grader may be meant to reward form alone.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..run.data import Task, tasks_from_row
from ..kernel.errors import RftError
from ..kernel.grader import Grader
from ..run.rows import rows_in
from .probes import JUDGE_PROBES, PROBES, PROMPT_FIELDS, Context, Probe, contexts
from ..report.summary import ROOT
from ..run.runner import run
from ..kernel.spec import load_spec
from ..kernel.template import Template
from ..kernel.types import Result, Sample

__all__ = ["AuditReport", "Finding", "answer_fields", "audit", "read_items"]

EXAMPLE_CHARS = 120  # a probe text shown in a report is cut to this many characters


@dataclass(slots=True)
class Finding:
    """How one grader path fared against one probe."""

    probe: str
    grader: str
    pass_above: float = 0.5  # the reward an item must exceed to pass
    items: int = 0
    total: float = 0.0
    passed: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    example: dict[str, Any] | None = None
    flagged: bool = False

    @property
    def mean_reward(self) -> float:
        return self.total / self.items if self.items else 0.0

    @property
    def pass_fraction(self) -> float:
        return self.passed / self.items if self.items else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "probe": self.probe,
            "grader": self.grader,
            "items": self.items,
            "pass_above": self.pass_above,
            "mean_reward": self.mean_reward,
            "pass_fraction": self.pass_fraction,
            "flagged": self.flagged,
            "statuses": dict(self.statuses),
            "example": self.example,
        }


@dataclass(slots=True)
class AuditReport:
    """Every finding, and the verdict: ``passed`` when no probe is flagged at the root."""

    items: int
    threshold: float
    tolerance: float
    findings: list[Finding]

    @property
    def flagged(self) -> list[Finding]:
        """Probes that earn the root reward: the spec can be hacked."""
        return [finding for finding in self.findings if finding.flagged and finding.grader == ROOT]

    @property
    def leaks(self) -> list[Finding]:
        """Probes that earn a sub-grader's reward (the root may or may not be fooled)."""
        return [finding for finding in self.findings if finding.flagged and finding.grader != ROOT]

    @property
    def passed(self) -> bool:
        return not self.flagged

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": "pass" if self.passed else "fail",
            "items": self.items,
            "threshold": self.threshold,
            "tolerance": self.tolerance,
            "flagged": [{"probe": f.probe, "grader": f.grader} for f in self.flagged],
            "leaks": [{"probe": f.probe, "grader": f.grader} for f in self.leaks],
            "probes": {
                probe.name: probe.why for probe in (*PROBES, *JUDGE_PROBES) if any(f.probe == probe.name for f in self.findings)
            },
            "findings": [finding.to_dict() for finding in self.findings],
        }

    def render(self) -> str:
        """A terminal table (a row per probe, a column per grader path), examples of what passed, the verdict."""
        paths = list(dict.fromkeys(finding.grader for finding in self.findings))
        cells = {
            (f.probe, f.grader): f"{f.pass_fraction:.0%} ({f.mean_reward:.2f}){'*' if f.flagged else ''}"
            for f in self.findings
        }
        probes = list(dict.fromkeys(finding.probe for finding in self.findings))
        rows = [["probe", *paths]] + [[probe, *(cells.get((probe, path), "-") for path in paths)] for probe in probes]
        widths = [max(len(row[column]) for row in rows) for column in range(len(paths) + 1)]
        lines = [f"pass fraction (mean reward) of each probe, per grader; * above {self.tolerance:.0%}"]
        lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
        if self.flagged:
            lines.append("what earned the reward (item: probe text):")
            lines += [f"  {f.probe.ljust(widths[0])}  {_example_line(f.example)}" for f in self.flagged]
        lines.append(self.verdict())
        return "\n".join(lines)

    def verdict(self) -> str:
        """One line: PASS or FAIL, what was flagged, and which sub-graders leak."""
        root_limit = next((f.pass_above for f in self.findings if f.grader == ROOT), self.threshold)
        limit = f"reward > {root_limit:g} on more than {self.tolerance:.0%} of {self.items} items"
        leaks = Counter(finding.grader for finding in self.leaks)
        leak_note = (
            "; sub-graders passing probes (fine for a format check, worth a look otherwise): "
            + ", ".join(f"{grader} ({count})" for grader, count in leaks.items())
            if leaks
            else ""
        )
        errors = sum(f.statuses.get("error", 0) for f in self.findings if f.grader == ROOT)
        if errors:
            leak_note += f"; {errors} probe grades ended with status error (see statuses in --json)"
        if not self.findings:
            return "PASS: no probe applies to these items (nothing was graded)"
        if self.passed:
            return f"PASS: no probe earns {limit}{leak_note}"
        probes = ", ".join(f"{f.probe} ({f.pass_fraction:.0%})" for f in self.flagged)
        return f"FAIL: hackable, these probes earn {limit}: {probes}{leak_note}. See docs/audit.md"


def audit(
    spec: Grader | str | Path | Mapping[str, Any],
    data: str | Path | Iterable[Any],
    *,
    threshold: float = 0.5,
    tolerance: float = 0.05,
    max_items: int | None = 100,
    probes: Sequence[str] | None = None,
    workers: int = 1,
) -> AuditReport:
    """Grade every probe against the first ``max_items`` items of ``data`` and report.

    Args:
        spec: a Grader, a spec file path, or a spec mapping.
        data: a JSONL file, or rows in memory, in any format ``rft score`` reads; rows without a
            sample (e.g. training rows: a prompt and the answer) are items as they are.
        threshold: a probe passes an item when its best reward is above this (for a grader with a
            ``range``, e.g. a score_model's [1, 7], this fraction of the way up it: 4).
        tolerance: a probe is flagged when it passes more than this fraction of the items.
        max_items: items to probe (the candidate answers come from every item); None for all.
        probes: names of the probes to run (default: all of ``PROBES``, and ``JUDGE_PROBES`` when
            the spec holds an LLM judge).
        workers: processes to grade a synchronous spec in (see ``rft_core.run.runner.run``).

    Returns:
        An AuditReport: findings per probe and grader path, ``passed``, ``render()``, ``to_dict()``.

    >>> report = audit({"type": "string_check", "operation": "like", "reference": "{{ item.answer }}"},
    ...                [{"answer": "Paris"}, {"answer": "Rome"}], probes=["hedge_candidates"])
    >>> report.passed, report.flagged[0].pass_fraction
    (False, 1.0)
    """
    if not 0 <= tolerance < 1:
        raise RftError(f"tolerance must be at least 0 and below 1, not {tolerance}")
    grader = spec if isinstance(spec, Grader) else load_spec(spec)
    chosen = _chosen_probes(probes, _holds_judge(grader))
    ids, items = read_items(data)
    probed = contexts(items, answer_fields(grader))[:max_items]
    tally = _Tally()
    for scored in run(grader, _tasks(probed, chosen, tally.plan), workers=workers):
        tally.add(scored.task.index, _shown(scored.task.sample), scored.result)
    findings = tally.findings(chosen, ids[: len(probed)], _pass_limits(grader, threshold), tolerance)
    return AuditReport(len(probed), threshold, tolerance, findings)


def _chosen_probes(names: Sequence[str] | None, judged: bool) -> list[Probe]:
    if names is None:
        return [*PROBES, *(JUDGE_PROBES if judged else ())]
    known = {probe.name: probe for probe in (*PROBES, *JUDGE_PROBES)}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise RftError(f"unknown probe(s) {', '.join(unknown)}; the probes are: {', '.join(known)}")
    return [known[name] for name in dict.fromkeys(names)]


def _holds_judge(grader: Grader) -> bool:
    """True when the grader or any sub-grader declares its verdict comes from a language model."""
    return grader.judged_by_model or any(map(_holds_judge, grader.children().values()))


def _tasks(probed: list[Context], chosen: list[Probe], plan: list[tuple[int, int]]) -> Iterator[Task]:
    """One task per probe text, built lazily (huge_output texts are large); ``plan`` records each."""
    for item_position, context in enumerate(probed):
        for probe_position, probe in enumerate(chosen):
            for text in probe.texts(context):
                plan.append((item_position, probe_position))
                yield Task(len(plan) - 1, Sample(text) if isinstance(text, str) else text, context.item)


def _paths(result: Result, prefix: str = "") -> Iterator[tuple[str, Result]]:
    """The result under ROOT, then each sub-result under its dotted path."""
    if not prefix:
        yield ROOT, result
    for name, sub in result.sub_rewards.items():
        path = f"{prefix}{name}"
        yield path, sub
        yield from _paths(sub, f"{path}.")


class _Tally:
    """Each item's best reward for each probe and grader path, and the statuses seen."""

    def __init__(self) -> None:
        self.plan: list[tuple[int, int]] = []  # task index -> (item position, probe position)
        self.best: dict[tuple[int, int, str], tuple[float, str]] = {}  # -> (reward, shortened text)
        self.statuses: dict[tuple[int, str], Counter[str]] = {}

    def add(self, task_index: int, text: str, result: Result) -> None:
        item_position, probe_position = self.plan[task_index]
        for path, sub in _paths(result):
            self.statuses.setdefault((probe_position, path), Counter())[sub.status.value] += 1
            key = (item_position, probe_position, path)
            if key not in self.best or sub.reward > self.best[key][0]:
                self.best[key] = (sub.reward, _shorten(text))

    def findings(
        self, chosen: list[Probe], ids: list[Any], limits: dict[str, float], tolerance: float
    ) -> list[Finding]:
        """A Finding per probe and grader path; an item passes above the path's limit (default: the root's)."""
        applied = set(self.plan)
        paths = list(dict.fromkeys(path for _, path in self.statuses))  # ROOT first, sub-graders in result order
        findings = []
        for probe_position, probe in enumerate(chosen):
            for path in paths:
                limit = limits.get(path, limits[ROOT])
                statuses = self.statuses.get((probe_position, path), Counter())
                finding = Finding(probe.name, path, limit, statuses=statuses)
                for item_position, item_id in enumerate(ids):
                    if (item_position, probe_position) not in applied:
                        continue
                    reward, text = self.best.get((item_position, probe_position, path), (0.0, ""))
                    finding.items += 1
                    finding.total += reward
                    finding.passed += reward > limit
                    if finding.example is None or reward > finding.example["reward"]:
                        finding.example = {"id": item_id, "reward": reward, "sample": text}
                if finding.items:
                    finding.flagged = finding.pass_fraction > tolerance
                    findings.append(finding)
        return findings


def _pass_limits(grader: Grader, threshold: float, path: str = ROOT) -> dict[str, float]:
    """The reward each grader path must exceed: ``threshold`` of the way up its ``range`` (a
    score_model's [1, 7], say), or ``threshold`` itself for graders that declare none ([0, 1])."""
    bounds = getattr(grader.config, "range", None)
    low, high = bounds if isinstance(bounds, (tuple, list)) and len(bounds) == 2 else (0.0, 1.0)
    limits = {path: low + threshold * (high - low)}
    for name, child in grader.children().items():
        limits.update(_pass_limits(child, threshold, name if path == ROOT else f"{path}.{name}"))
    return limits


def _shown(sample: Sample) -> str:
    """The probe as a report shows it: its text, and its tool calls as JSON when it makes some."""
    if not sample.output_tools:
        return sample.output_text
    return f"{sample.output_text}tool calls: {json.dumps(sample.output_tools, ensure_ascii=False)}"


def _shorten(text: str) -> str:
    """The text, or its start and end around a note of its length."""
    if len(text) <= EXAMPLE_CHARS:
        return text
    half = EXAMPLE_CHARS // 2
    return f"{text[:half]} ...({len(text):,} characters)... {text[-half:]}"


def _example_line(example: dict[str, Any] | None) -> str:
    if example is None:
        return ""
    return f"{example['id']}: {json.dumps(example['sample'], ensure_ascii=False)}"


def read_items(data: str | Path | Iterable[Any]) -> tuple[list[Any], list[Mapping[str, Any]]]:
    """The ids (the row's ``id``, else its position) and items of a data set, one per row.

    A row with a sample gives its item; a row without one is the item. An unreadable file, a
    malformed line or no rows at all raise RftError naming the problem.
    """
    ids: list[Any] = []
    items: list[Mapping[str, Any]] = []
    for _, row in rows_in(data, empty="no rows to audit (the data set is empty)"):
        items.append(_item_of(row))
        ids.append(row.get("id", len(ids)))
    return ids, items


def _item_of(row: Mapping[str, Any]) -> Mapping[str, Any]:
    task = tasks_from_row(row, 0)[0]
    if task.error is None:
        return task.item
    if isinstance(row.get("item"), Mapping):  # {"item": {...}} without a sample
        return row["item"]
    return row


def answer_fields(grader: Grader) -> list[str] | None:
    """The item fields the spec's templates read, prompt-like fields aside; None when it reads none
    through templates (a python grader, say): then every field may hold the answer."""
    fields = [
        name
        for template in _templates(grader)
        for name in template.item_fields
        if name not in PROMPT_FIELDS and name != "id"
    ]
    return list(dict.fromkeys(fields)) or None


def _templates(value: Any) -> Iterator[Template]:
    if isinstance(value, Template):
        yield value
    elif isinstance(value, Grader):
        yield from _templates(value.config)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _templates(getattr(value, name))
    elif isinstance(value, Mapping):
        for element in value.values():
            yield from _templates(element)
    elif isinstance(value, (list, tuple)):
        for element in value:
            yield from _templates(element)
