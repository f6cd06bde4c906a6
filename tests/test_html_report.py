"""rft_core.report.html: one self-contained page, hostile text escaped, rendered by headless Chromium."""

from __future__ import annotations

import re
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rft_core.report.gold import Gold
from rft_core.report.html import render_html
from rft_core.report.summary import Summary
from rft_core.kernel.types import Result, Status

CHROMIUM = Path("/usr/bin/chromium")
HOSTILE_REASON = '"><img src=x onerror=alert(1)><script>alert("reason")</script>'
HOSTILE_ID = "</title><script>alert('id')</script>"
HOSTILE_GRADER = "<svg onload=alert(1)>"


def _report(gold: bool = True) -> dict:
    """A report with every section: sub-graders (one with a hostile name), every status, ranks,
    several samples per item (flat ones too) with hostile ids, and gold labels."""
    summary = Summary(0.5)
    rewards = [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.2, 0.9, 0.6], [0.4, 0.4, 0.4], [1.0, 0.0, 0.7]]
    for index, item in enumerate(rewards):
        for position, reward in enumerate(item):
            answer = Result(reward, metadata={"rank": position + 1})
            if index == 4 and position == 1:
                answer = Result.failure(Status.PARSE_ERROR, HOSTILE_REASON)
            summary.add(index, Result(reward, sub_rewards={
                "answer": answer,
                HOSTILE_GRADER: Result.failure(Status.TIMEOUT, "slow") if position == 2 else Result(0.5),
            }), row_id=HOSTILE_ID if index == 0 else f"item-{index}")
    summary.add(5, Result.failure(Status.ERROR, "boom"))
    summary.add(6, Result(0.0, Status.NOT_APPLICABLE))
    labels = {(index, position): float(reward >= 0.5) for index, item in enumerate(rewards) for position, reward in enumerate(item)}
    return summary.to_dict(Gold("human", labels) if gold else None)


def test_hostile_text_is_escaped():
    page = render_html(_report(), title='scores <b onmouseover="x">.jsonl')
    for hostile in (HOSTILE_REASON, HOSTILE_ID, HOSTILE_GRADER, '<b onmouseover="x">'):
        assert hostile not in page
    assert "&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;" in page
    assert "&lt;/title&gt;&lt;script&gt;alert(&#x27;id&#x27;)&lt;/script&gt;" in page  # the id, with its flat item
    assert 'data-grader="&lt;svg onload=alert(1)&gt;"' in page
    # nothing runs and nothing is fetched: no scripts, no event handlers, no external references
    tags = _tags(page)
    assert not {tag for tag, _ in tags} & {"script", "img", "iframe", "link", "object", "embed"}
    assert not [(tag, name) for tag, attrs in tags for name, _ in attrs if name in ("src", "href") or name.startswith("on")]
    assert "url(" not in page and "@import" not in page
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}  # the SVG namespace only


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def _tags(page: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every start tag of the page with its attributes, as a browser's tokenizer sees them."""
    collector = _TagCollector()
    collector.feed(page)
    return collector.tags


def test_sections_follow_the_report():
    page = render_html(_report())
    for section in ("overview", "graders", "charts", "rankings", "readiness", "agreement", "reasons", "advice"):
        assert f'<section id="{section}">' in page
    # one figure (histogram + status bar) per grader path
    assert page.count('<figure class="grader-chart"') == 3
    without = render_html(_report(gold=False))
    assert 'id="agreement"' not in without


def test_long_ids_are_cut():
    summary = Summary()
    for _ in range(2):
        summary.add(0, Result(1.0), row_id="x" * 500)
    page = render_html(summary.to_dict())
    assert f"0 ({'x' * 80})" in page and "x" * 81 not in page


def test_readiness_that_does_not_apply_says_why():
    summary = Summary()
    summary.add(0, Result(1.0))
    page = render_html(summary.to_dict())
    assert '<p class="not-applicable">Does not apply: one sample per item' in page
    assert 'id="rankings"' not in page and 'id="reasons"' not in page


def test_an_empty_report():
    page = render_html(Summary().to_dict())
    assert "no samples scored" in page and 'id="graders"' not in page


# --- rendered by a real browser ---------------------------------------------------------------


def _chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
    assert CHROMIUM.exists(), "the HTML report test needs Debian's chromium (`make test` installs it)"
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", *arguments],
        capture_output=True, text=True, timeout=90,
    )


def _png_colours(data: bytes) -> tuple[int, int, set[bytes]]:
    """Width, height and the distinct pixel colours of an 8-bit RGB or RGBA PNG (a small reader: zlib + unfiltering)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, header = 8, b"", None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        chunk = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        position += 12 + length
    width, height, depth, colour_type, _, _, interlace = header
    assert (depth, interlace) == (8, 0) and colour_type in (2, 6)
    channels = 3 if colour_type == 2 else 4
    stride = width * channels
    raw = zlib.decompress(idat)
    previous = bytearray(stride)
    colours = set()
    for row in range(height):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                corner = previous[i - channels] if i >= channels else 0
                guess = left + up - corner
                near = min((abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - corner), 2, corner))
                line[i] = (line[i] + near[2]) & 255
        colours.update(bytes(line[i:i + channels]) for i in range(0, stride, channels * 7))  # every 7th pixel
        previous = line
    return width, height, colours


@pytest.mark.integration
def test_chromium_renders_the_report(tmp_path):
    report = _report()
    page = tmp_path / "report.html"
    page.write_text(render_html(report, title="scores.jsonl"), encoding="utf-8")
    url = page.as_uri()

    dumped = _chromium(tmp_path, "--dump-dom", url)
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    assert "Reward-signal report" in dom
    assert f'<div class="value">{report["mean_reward"]:.4f}</div><div class="label">mean reward</div>' in dom
    for section in ("overview", "graders", "charts", "rankings", "readiness", "agreement", "reasons", "advice"):
        assert f'<section id="{section}">' in dom
    assert dom.count('<svg class="histogram"') == 3 and dom.count('<svg class="status-bar"') == 3
    assert f'<b class="within-std">{report["readiness"]["within_item_std"]:.4f}</b>' in dom
    assert "<script" not in dom  # the hostile strings stayed text

    shot = tmp_path / "report.png"
    taken = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=900,900", "--hide-scrollbars", url)
    assert taken.returncode == 0 and shot.exists(), taken.stderr[-2000:]
    width, height, colours = _png_colours(shot.read_bytes())
    assert (width, height) == (900, 900)
    # a blank (or unstyled, failed) page has a handful of colours; cards, tables, text and charts have many
    assert len(colours) > 50, len(colours)


def test_red_is_the_colour_of_error_alone():
    # reward bars were red at 0 while the legend says red is `error`
    from rft_core.report.html import HISTOGRAM_COLOUR, READINESS_COLOURS, STATUS_COLOURS

    red = STATUS_COLOURS["error"]
    page = render_html(_report())
    bars = re.findall(r'<rect class="bar" [^>]*fill="([^"]+)"', page)
    assert bars and set(bars) == {HISTOGRAM_COLOUR}
    assert red not in READINESS_COLOURS.values() and HISTOGRAM_COLOUR not in STATUS_COLOURS.values()
    # every red shape on the page is an error share, titled so
    red_shapes = re.findall(rf'<rect [^>]*fill="{red}"><title>([^<]*)</title>', page)
    assert red_shapes and all(title.startswith("error: ") for title in red_shapes)
    assert page.count(red) == len(red_shapes) + 1  # and the legend's swatch


@pytest.mark.integration
def test_nothing_overflows_a_600_pixel_window(tmp_path):
    # the tables ran off the page at 600 px; the check runs in the browser, on the laid-out page
    report = _report()
    report["graders"]["answer"]["reasons"][0]["reason"] = "a long reason " * 40 + "x" * 300  # one unbreakable word
    page = render_html(report, title="scores-" + "y" * 200 + ".jsonl")
    probe = (
        "<script>const width = document.documentElement.clientWidth; const wide = [...document.querySelectorAll("
        "'main *')].filter(e => e.getBoundingClientRect().right > width + 0.5).map(e => e.tagName + '.' + e.className);"
        "document.body.setAttribute('data-page', document.documentElement.scrollWidth + '/' + width);"
        "document.body.setAttribute('data-wide', wide.join(' '));</script>"
    )
    path = tmp_path / "report.html"
    path.write_text(page.replace("</body>", probe + "</body>"), encoding="utf-8")
    dumped = _chromium(tmp_path, "--window-size=600,2000", "--dump-dom", path.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    scroll, width = map(int, re.search(r'data-page="(\d+)/(\d+)"', dumped.stdout).groups())
    assert 560 <= width <= 600 and scroll == width  # no horizontal scrolling of the page
    assert re.search(r'data-wide="([^"]*)"', dumped.stdout).group(1) == ""  # no element sticks out either
