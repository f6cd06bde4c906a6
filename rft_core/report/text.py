"""The reward-signal report (``Summary.to_dict()``) as plain-text tables for the terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .stats import QUANTILES

__all__ = ["format_number", "format_percent", "judge_bias_lines", "k_sample_columns", "k_sample_lines", "render_text"]

_STATUS_COLUMNS = (("ok", "ok"), ("not_applicable", "n/a"), ("parse_error", "parse_error"), ("timeout", "timeout"),
                   ("error", "error"))
_MIN_WIDTH = 6  # "0.5000": columns keep their width when a value is "-"
_FLAT_KINDS = (("all_high", "all pass"), ("all_low", "all 0"), ("other_flat", "other flat"))


def render_text(report: dict[str, Any]) -> str:
    """The report's sections: totals, rewards and statuses per grader, the reasons of non-ok
    results, usage, the graders' declared metrics (rankings...), GRPO readiness, agreement with gold labels and advice."""
    if not report["samples"]:
        return "no samples scored"
    lines = [
        f"rows        {report['rows']}",
        f"samples     {report['samples']}",
        f"mean reward {report['mean_reward']:.4f}",
        f"pass rate   {report['pass_rate']:.1%} (ok and reward >= {report['pass_threshold']:g})",
        "statuses    " + ", ".join(f"{status} {count}" for status, count in sorted(report["statuses"].items())),
    ]
    graders = report["graders"]
    lines += _table(
        "rewards", ["samples", "mean", "std", *(name for name, _ in QUANTILES)],
        [(path, [str(stats["samples"]), *(format_number(stats[key]) for key in ("mean", "std", *dict(QUANTILES)))])
         for path, stats in graders.items()],
    )
    lines += _table(
        "statuses", ["pass", *(title for _, title in _STATUS_COLUMNS)],
        [(path, [format_percent(stats["pass_rate"]), *(format_percent(stats["status_rates"][key]) for key, _ in _STATUS_COLUMNS)])
         for path, stats in graders.items()],
    )
    lines += _reasons(graders)
    usage = report.get("usage")
    if usage and usage.get("total_tokens"):
        lines.append(
            f"tokens      {usage['total_tokens']} (prompt {usage['prompt_tokens']}, completion {usage['completion_tokens']})"
        )
    if usage and "cost_usd" in usage:
        lines.append(f"cost        ${usage['cost_usd']:.4f}")
    for name, layout in report.get("metric_tables", {}).items():
        lines += _table(
            name, ["samples", *layout["columns"].values()],
            [(path, [str(values["samples"]), *(format_number(values.get(key)) for key in layout["columns"])])
             for path, values in report[name].items()],
        )
    lines += k_sample_lines(report.get("k_samples", {}))
    lines += judge_bias_lines(report.get("judge_bias", {}))
    lines += _readiness(report["readiness"])
    if "agreement" in report:
        lines += _agreement(report["agreement"], report["pass_threshold"])
    if report["advice"]:
        lines.append("advice")
        lines += [f"  - {advice}" for advice in report["advice"]]
    return "\n".join(lines)


def _reasons(graders: dict[str, Any]) -> list[str]:
    """The most common reasons of non-ok results, per grader (the ones the HTML report lists)."""
    lines = []
    for path, stats in graders.items():
        for reason in stats["reasons"]:
            text = " ".join((reason["reason"] or "(no reason given)").split())  # one line per reason
            lines.append(f"  {path}: {reason['status']} x{reason['count']}: {text}")
    return ["reasons (most common non-ok results per grader)", *lines] if lines else []


def k_sample_columns(k_samples: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """The (metric, k) columns of the k-sample table: pass@k, maj@k and mean@k for each k any grader has."""
    return [
        (metric, k)
        for metric in ("pass@k", "maj@k", "mean@k")
        for k in sorted({k for metrics in k_samples.values() for k in metrics.get(metric, {})}, key=int)
    ]


def k_sample_lines(k_samples: dict[str, dict[str, Any]]) -> list[str]:
    """pass@k, maj@k and mean@k per grader path (the k_samples section), or nothing."""
    if not k_samples:
        return []
    columns = k_sample_columns(k_samples)
    return _table(
        "k samples", ["items", *(f"{metric[:-1]}{k}" for metric, k in columns)],
        [(path, [str(metrics["items"]), *(format_number(metrics.get(metric, {}).get(k)) for metric, k in columns)])
         for path, metrics in k_samples.items()],
    )


def judge_bias_lines(judge_bias: dict[str, dict[str, Any]]) -> list[str]:
    """Position, length and order-flip rates of pairwise judges (the judge_bias section), or nothing."""
    if not judge_bias:
        return []
    return _table(
        "judge bias", ["pairs", "first wins", "longer wins", "flips"],
        [(path, [str(values["pairs"]), format_percent(values["first_position_win_rate"]),
                 format_percent(values["longer_win_rate"]), format_percent(values["order_flip_rate"])])
         for path, values in judge_bias.items()],
    )


def _readiness(readiness: dict[str, Any]) -> list[str]:
    if not readiness["applies"]:
        return [f"GRPO readiness  does not apply: {readiness['reason']}"]
    sizes = readiness["samples_per_item"]
    each = f"{sizes['min']}" if sizes["min"] == sizes["max"] else f"{sizes['min']}-{sizes['max']}"
    flat = readiness["flat"]
    kinds = ", ".join(f"{title} {readiness[kind]['items']} ({readiness[kind]['share']:.1%})" for kind, title in _FLAT_KINDS)
    lines = [
        f"GRPO readiness  {_items(readiness['items'])} with {each} samples each",
        f"  no signal     {_items(flat['items'])} ({flat['share']:.1%}) whose samples all get one reward: {kinds}",
        f"  within-item reward std  {readiness['within_item_std']:.4f} (mean over items; TRL logs it as reward_std)",
    ]
    if readiness["single_sample_items"]:
        lines.append(f"  left out     {_items(readiness['single_sample_items'])} with one sample")
    return lines


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


def _agreement(agreement: dict[str, Any], threshold: float) -> list[str]:
    return [f"agreement with gold column {agreement['column']!r} (label and reward pass at >= {threshold:g})"] + _table(
        "",
        ["labelled", "accuracy", "spearman", "false pass", "false fail"],
        [(path, [str(values["labelled"]), format_number(values["accuracy"]), format_number(values["spearman"]),
                 str(values["false_pass"]), str(values["false_fail"])])
         for path, values in agreement["graders"].items()],
    )


def _table(title: str, header: Sequence[str], rows: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """A title line with right-aligned column headers, then one indented line per (name, cells)."""
    width = max(len(title), *(len(name) + 2 for name, _ in rows))
    widths = [max(len(heading), _MIN_WIDTH, *(len(cells[column]) for _, cells in rows)) for column, heading in enumerate(header)]
    lines = [(title.ljust(width) + "".join("  " + h.rjust(w) for h, w in zip(header, widths))).rstrip()]
    lines += [f"  {name}".ljust(width) + "".join("  " + c.rjust(w) for c, w in zip(cells, widths)) for name, cells in rows]
    return lines


def format_number(value: float | None) -> str:
    """A statistic with four decimals, "-" when undefined."""
    return "-" if value is None else f"{value:.4f}"


def format_percent(value: float | None) -> str:
    """A share as a percentage, "-" when undefined."""
    return "-" if value is None else f"{value:.1%}"
