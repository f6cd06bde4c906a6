"""The reward-signal report (``Summary.to_dict()``) as one self-contained HTML page.

Inline CSS and inline SVG charts only: no scripts, no external URLs, so the file opens offline
and can be attached anywhere. Every text taken from the data (grader names, reasons, ids, the
title) is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from .text import format_number, format_percent, k_sample_columns
from .stats import QUANTILES

__all__ = ["render_html"]

STATUS_COLOURS = {"ok": "#2e7d32", "not_applicable": "#9e9e9e", "parse_error": "#f9a825", "timeout": "#6a1b9a",
                  "error": "#c62828"}
READINESS_COLOURS = {"signal": "#2e7d32", "all_high": "#1565c0", "all_low": "#455a64", "other_flat": "#9e9e9e"}
"""Red stays the colour of ``error`` alone: an item whose samples all get 0 is slate, not red."""
HISTOGRAM_COLOUR = "#5c6bc0"
"""One colour for every reward bar: a low reward is not an error, so the bars are neither red nor green."""
_READINESS_TITLES = {"signal": "with signal", "all_high": "all pass", "all_low": "all 0", "other_flat": "other flat"}
_FLAT_ITEMS_SHOWN = 20
_ID_CHARS = 80

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2329;background:#f6f7f9;margin:0}
main{max-width:1180px;margin:0 auto;padding:24px}
.table-scroll{max-width:100%;overflow-x:auto}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px;border-bottom:2px solid #d8dde3;padding-bottom:4px}
.subtitle{color:#5b6670;margin:0 0 16px;word-break:break-all}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #d8dde3;border-radius:8px;padding:10px 16px;min-width:120px}
.card .value{font-size:22px;font-weight:600}.card .label{color:#5b6670;font-size:12px;text-transform:uppercase}
table{border-collapse:collapse;background:#fff;margin:6px 0 12px;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d8dde3;padding:4px 8px;text-align:right}th{background:#eef1f4}
td:first-child,th:first-child{text-align:left}td.reason,th.reason{text-align:left;max-width:720px;word-break:break-word}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:12px}
figure{background:#fff;border:1px solid #d8dde3;border-radius:8px;margin:0;padding:10px}
figcaption{font-weight:600;margin-bottom:4px;word-break:break-all}
.legend span{display:inline-block;margin-right:12px}.swatch{display:inline-block;width:10px;height:10px;margin-right:4px}
.advice li{margin:4px 0}.muted{color:#5b6670}
@media (max-width:700px){main{padding:10px}table{font-size:11px}th,td{padding:2px 3px}td:first-child{overflow-wrap:anywhere}
.charts{grid-template-columns:1fr}figure svg{max-width:100%;height:auto}}
"""


def render_html(report: dict[str, Any], title: str = "") -> str:
    """The whole page for ``report``; ``title`` (e.g. the scores file) is shown under the heading."""
    body = [
        "<h1>Reward-signal report</h1>",
        f'<p class="subtitle">{escape(title)}</p>' if title else "",
        _overview(report),
    ]
    if report["samples"]:
        body += [_graders(report), _charts(report)]
        body += [_metric_table(report[name], layout, name) for name, layout in report.get("metric_tables", {}).items()]
        body += [_k_samples(report.get("k_samples", {})), _judge_bias(report.get("judge_bias", {}))]
        body.append(_readiness(report["readiness"]))
        if "agreement" in report:
            body.append(_agreement(report["agreement"], report["pass_threshold"]))
        body += [_reasons(report["graders"]), _advice(report["advice"])]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>rft report{escape(': ' + title) if title else ''}</title><style>{_CSS}</style></head>\n"
        "<body><main>\n" + "\n".join(part for part in body if part) + "\n</main></body></html>\n"
    )


def _overview(report: dict[str, Any]) -> str:
    cards = [("rows", str(report["rows"])), ("samples", str(report["samples"]))]
    if report["samples"]:
        cards += [("mean reward", format_number(report["mean_reward"])),
                  (f"pass rate (reward ≥ {report['pass_threshold']:g})", format_percent(report["pass_rate"]))]
        usage = report.get("usage")
        if usage:
            cards.append(("tokens", str(usage["total_tokens"])))
            if "cost_usd" in usage:
                cards.append(("cost", f"${usage['cost_usd']:.4f}"))
    else:
        cards.append(("", "no samples scored"))
    inner = "".join(
        f'<div class="card"><div class="value">{escape(value)}</div><div class="label">{escape(label)}</div></div>'
        for label, value in cards
    )
    return f'<section id="overview"><div class="cards">{inner}</div></section>'


def _graders(report: dict[str, Any]) -> str:
    graders = report["graders"]
    rewards = _table(
        ["grader", "samples", "mean", "std", *(name for name, _ in QUANTILES)],
        ([path, str(stats["samples"]), *(format_number(stats[key]) for key in ("mean", "std", *dict(QUANTILES)))]
         for path, stats in graders.items()),
        "rewards",
    )
    statuses = _table(
        ["grader", "pass", *STATUS_COLOURS],
        ([path, format_percent(stats["pass_rate"]), *(format_percent(stats["status_rates"][status]) for status in STATUS_COLOURS)]
         for path, stats in graders.items()),
        "statuses",
    )
    return (
        '<section id="graders"><h2>Rewards per grader</h2>' + rewards
        + f"<h2>Statuses per grader</h2><p class=\"muted\">pass: ok and reward ≥ {report['pass_threshold']:g}</p>"
        + statuses + "</section>"
    )


def _charts(report: dict[str, Any]) -> str:
    legend = "".join(
        f'<span><i class="swatch" style="background:{colour}"></i>{escape(status)}</span>'
        for status, colour in STATUS_COLOURS.items()
    )
    figures = "".join(
        f'<figure class="grader-chart" data-grader="{escape(path)}"><figcaption>{escape(path)}</figcaption>'
        f"{_histogram_svg(stats['histogram'], path)}{_status_svg(stats['status_rates'], path)}</figure>"
        for path, stats in report["graders"].items()
    )
    return (
        '<section id="charts"><h2>Reward histograms and statuses</h2>'
        f'<p class="legend">{legend}</p><div class="charts">{figures}</div></section>'
    )


def _histogram_svg(histogram: dict[str, Any], name: str) -> str:
    width, height, left, bottom, top = 310, 150, 34, 22, 12
    counts = histogram["counts"]
    tallest = max(counts) or 1
    slot = (width - left - 6) / len(counts)
    low, high = histogram["low"], histogram["high"]
    bars = []
    for number, count in enumerate(counts):
        bar = (height - bottom - top) * count / tallest
        start = low + (high - low) * number / len(counts)
        end = low + (high - low) * (number + 1) / len(counts)
        bars.append(
            f'<rect class="bar" x="{left + number * slot + 1:.1f}" y="{height - bottom - bar:.1f}" '
            f'width="{slot - 2:.1f}" height="{bar:.1f}" fill="{HISTOGRAM_COLOUR}" data-count="{count}">'
            f"<title>{start:.3g} to {end:.3g}: {count}</title></rect>"
        )
    axis = height - bottom
    return (
        f'<svg class="histogram" role="img" aria-label="reward histogram of {escape(name)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        + "".join(bars)
        + f'<line x1="{left}" y1="{axis}" x2="{width - 4}" y2="{axis}" stroke="#5b6670"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{axis}" stroke="#5b6670"/>'
        f'<text x="{left - 4}" y="{top + 8}" font-size="11" text-anchor="end" fill="#1d2329">{tallest}</text>'
        f'<text x="{left - 4}" y="{axis}" font-size="11" text-anchor="end" fill="#1d2329">0</text>'
        f'<text x="{left}" y="{height - 6}" font-size="11" fill="#1d2329">{low:.3g}</text>'
        f'<text x="{width - 4}" y="{height - 6}" font-size="11" text-anchor="end" fill="#1d2329">{high:.3g}</text>'
        f'<text x="{(left + width) / 2:.0f}" y="{height - 6}" font-size="11" text-anchor="middle" '
        'fill="#5b6670">reward</text></svg>'
    )


def _stacked_svg(shares: Iterable[tuple[str, str, float]], label: str, css_class: str) -> str:
    """A horizontal bar split by (name, colour, share)."""
    width, height = 310, 22
    parts, start = [], 0.0
    for name, colour, share in shares:
        if share:
            parts.append(
                f'<rect x="{start * width:.2f}" y="0" width="{share * width:.2f}" height="{height}" fill="{colour}">'
                f"<title>{escape(name)}: {share:.1%}</title></rect>"
            )
            start += share
    return (
        f'<svg class="{css_class}" role="img" aria-label="{escape(label)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f'<rect width="{width}" height="{height}" fill="#eef1f4"/>{"".join(parts)}</svg>'
    )


def _status_svg(rates: dict[str, float | None], name: str) -> str:
    shares = ((status, colour, rates[status] or 0.0) for status, colour in STATUS_COLOURS.items())
    return _stacked_svg(shares, f"statuses of {name}", "status-bar")


def _metric_table(rows: dict[str, dict[str, Any]], layout: dict[str, Any], name: str) -> str:
    """One report metric a grader declared (e.g. rankings: top@k and MRR), a row per grader path."""
    columns = layout["columns"]
    table = _table(
        ["grader", "samples", *columns.values()],
        ([path, str(values["samples"]), *(format_number(values.get(key)) for key in columns)]
         for path, values in rows.items()),
        escape(name),
    )
    return f'<section id="{escape(name)}"><h2>{escape(layout["title"])}</h2>{table}</section>'


def _k_samples(k_samples: dict[str, dict[str, Any]]) -> str:
    if not k_samples:
        return ""
    columns = k_sample_columns(k_samples)
    table = _table(
        ["grader", "items", *(f"{metric[:-1]}{k}" for metric, k in columns)],
        ([path, str(metrics["items"]), *(format_number(metrics.get(metric, {}).get(k)) for metric, k in columns)]
         for path, metrics in k_samples.items()),
        "k-samples",
    )
    return (
        '<section id="k-samples"><h2>k samples per item: pass@k, maj@k, mean@k</h2><p class="muted">pass@k: '
        "unbiased estimate of the chance one of k samples passes; maj@k: the chance the most common "
        "extracted answer among k samples passes; mean@k: mean reward of k samples (the same for every k)</p>"
        + table + "</section>"
    )


def _judge_bias(judge_bias: dict[str, dict[str, Any]]) -> str:
    if not judge_bias:
        return ""
    table = _table(
        ["grader", "pairs", "first-position win rate", "longer-wins rate", "order flip rate"],
        ([path, str(values["pairs"]), format_percent(values["first_position_win_rate"]),
          format_percent(values["longer_win_rate"]), format_percent(values["order_flip_rate"])]
         for path, values in judge_bias.items()),
        "judge-bias",
    )
    return (
        '<section id="judge-bias"><h2>Pairwise judge bias</h2><p class="muted">of verdicts that were not a tie: '
        "how often the first response shown won, and the longer one (of unequal lengths); flips: pairs "
        "whose two orders disagree</p>" + table + "</section>"
    )


def _readiness(readiness: dict[str, Any]) -> str:
    if not readiness["applies"]:
        return (
            '<section id="readiness"><h2>GRPO readiness</h2>'
            f'<p class="not-applicable">Does not apply: {escape(readiness["reason"])}</p></section>'
        )
    shares = {kind: readiness[kind]["share"] for kind in ("all_high", "all_low", "other_flat")}
    shares = {"signal": 1.0 - readiness["flat"]["share"], **shares}
    counts = {"signal": readiness["items"] - readiness["flat"]["items"],
              **{kind: readiness[kind]["items"] for kind in ("all_high", "all_low", "other_flat")}}
    bar = _stacked_svg(((_READINESS_TITLES[kind], READINESS_COLOURS[kind], share) for kind, share in shares.items()),
                       "items by learning signal", "readiness-bar")
    legend = "".join(
        f'<span><i class="swatch" style="background:{READINESS_COLOURS[kind]}"></i>'
        f"{_READINESS_TITLES[kind]} {counts[kind]} ({shares[kind]:.1%})</span>"
        for kind in shares
    )
    sizes = readiness["samples_per_item"]
    ids = readiness.get("flat_item_ids", {})
    flat_lists = "".join(
        f"<li>{_READINESS_TITLES[kind]}: {escape(_shown(indices, ids.get(kind)))}</li>"
        for kind, indices in readiness["flat_items"].items() if indices
    )
    return (
        '<section id="readiness"><h2>GRPO readiness</h2>'
        f"<p>{readiness['items']} items with {_sizes(sizes)} samples each; <b>{readiness['flat']['items']}</b> ({readiness['flat']['share']:.1%}) "
        "get one reward on every sample: no learning signal. Mean within-item reward std "
        f"<b class=\"within-std\">{readiness['within_item_std']:.4f}</b> (TRL logs it as reward_std).</p>"
        f'{bar}<p class="legend">{legend}</p>'
        + (f'<p class="muted">Flat items (row indices):</p><ul class="flat-items">{flat_lists}</ul>' if flat_lists else "")
        + "</section>"
    )


def _sizes(sizes: dict[str, Any]) -> str:
    if sizes["min"] == sizes["max"]:
        return str(sizes["min"])
    return f"{sizes['min']}–{sizes['max']} (mean {sizes['mean']:.2f})"


def _shown(indices: Sequence[int], ids: Sequence[Any] | None) -> str:
    """The first indices, each with its row id when there is one."""
    ids = ids or [None] * len(indices)
    shown = ", ".join(
        str(index) if row_id is None else f"{index} ({str(row_id)[:_ID_CHARS]})"
        for index, row_id in zip(indices[:_FLAT_ITEMS_SHOWN], ids)
    )
    return shown + (f", … ({len(indices)} in all)" if len(indices) > _FLAT_ITEMS_SHOWN else "")


def _agreement(agreement: dict[str, Any], threshold: float) -> str:
    table = _table(
        ["grader", "labelled", "accuracy", "Spearman", "true pass", "false pass", "false fail", "true fail"],
        ([path, str(values["labelled"]), format_number(values["accuracy"]), format_number(values["spearman"]),
          *(str(values[key]) for key in ("true_pass", "false_pass", "false_fail", "true_fail"))]
         for path, values in agreement["graders"].items()),
        "agreement",
    )
    return (
        f'<section id="agreement"><h2>Agreement with gold column “{escape(agreement["column"])}”</h2>'
        f'<p class="muted">label and reward pass at ≥ {threshold:g}; false pass: the grader passes what the '
        "label fails (too lenient); false fail: the reverse (too strict)</p>" + table + "</section>"
    )


def _reasons(graders: dict[str, dict[str, Any]]) -> str:
    rows = [
        [path, reason["status"], str(reason["count"]), reason["reason"] or ""]
        for path, stats in graders.items() for reason in stats["reasons"]
    ]
    if not rows:
        return ""
    table = _table(["grader", "status", "samples", "reason"], rows, "reasons", last_left=True)
    return f'<section id="reasons"><h2>Most common reasons for non-ok results</h2>{table}</section>'


def _advice(advice: list[str]) -> str:
    if not advice:
        return ""
    items = "".join(f"<li>{escape(line)}</li>" for line in advice)
    return f'<section id="advice"><h2>Advice</h2><ul class="advice">{items}</ul></section>'


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], css_class: str, last_left: bool = False) -> str:
    head = "".join(
        f'<th class="reason">{escape(cell)}</th>' if last_left and column == len(header) - 1 else f"<th>{escape(cell)}</th>"
        for column, cell in enumerate(header)
    )
    body = "".join(
        "<tr>" + "".join(
            f'<td class="reason">{escape(cell)}</td>' if last_left and column == len(row) - 1 else f"<td>{escape(cell)}</td>"
            for column, cell in enumerate(row)
        ) + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table-scroll"><table class="{css_class}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )
