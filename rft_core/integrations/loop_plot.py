"""The ``rft loop`` summary plot: train and validation reward per round, as a small self-contained SVG."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

__all__ = ["reward_plot"]

_WIDTH, _HEIGHT, _MARGIN = 480, 260, 40
_SERIES = (("train_reward", "train", "#1f77b4"), ("valid_reward", "validation", "#d62728"))


def reward_plot(rows: Sequence[dict[str, Any]]) -> str:
    """An SVG line chart of ``train_reward`` and ``valid_reward`` (0 to 1) against ``round``."""
    last = max((row["round"] for row in rows), default=1) or 1

    def x(round_number: float) -> float:
        return _MARGIN + (_WIDTH - 2 * _MARGIN) * round_number / last

    def y(reward: float) -> float:
        return _HEIGHT - _MARGIN - (_HEIGHT - 2 * _MARGIN) * max(0.0, min(1.0, reward))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" font-family="sans-serif" '
             'font-size="11">', f'<rect width="{_WIDTH}" height="{_HEIGHT}" fill="white"/>']
    for tick in (0.0, 0.5, 1.0):
        parts.append(f'<line x1="{_MARGIN}" x2="{_WIDTH - _MARGIN}" y1="{y(tick)}" y2="{y(tick)}" stroke="#ddd"/>'
                     f'<text x="{_MARGIN - 6}" y="{y(tick) + 4}" text-anchor="end">{tick:g}</text>')
    for row in rows:
        parts.append(f'<text x="{x(row["round"])}" y="{_HEIGHT - _MARGIN + 16}" text-anchor="middle">{row["round"]}</text>')
    parts.append(f'<text x="{_WIDTH / 2}" y="{_HEIGHT - 6}" text-anchor="middle">round</text>')
    for number, (key, label, colour) in enumerate(_SERIES):
        points = [(x(row["round"]), y(row[key])) for row in rows if row[key] is not None]
        if points:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
            parts.extend(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>' for px, py in points)
        parts.append(f'<text x="{_MARGIN + 10 + 110 * number}" y="{_MARGIN - 16}" fill="{colour}">{escape(label)} reward</text>')
    parts.append("</svg>\n")
    return "".join(parts)
