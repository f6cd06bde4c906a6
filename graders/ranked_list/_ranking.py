"""What ``ranked_list`` is made of: reading a ranked list out of model output, normalising
its items (unicode, lookalikes, aliases) and turning a rank into a reward.

Every function here treats its input as untrusted: no recursion on it, no eval, patterns that
run in linear time (the user's own ``extract`` pattern runs with a timeout elsewhere).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from rft_core import GradeError, ReportMetric, Status

__all__ = ["RANKINGS", "gain", "items_from_text", "items_from_value", "rank_shares"]


def _parse_error(message: str) -> GradeError:
    return GradeError(message, status=Status.PARSE_ERROR, code="sample_parse_error")


# --- reading the list -----------------------------------------------------------------

# "1. x", "1) x", "(1) x", "#1 x", "1: x", "Rank 1: x"  (a number followed by a digit is not a marker: "3.14")
_NUMBERED = re.compile(
    r"^([ \t>]*)(?:rank\s*)?(?:\((\d{1,4})\)|#(\d{1,4})[.:)]?|(\d{1,4})(?:[.):\]]|\s+-)(?!\d))[ \t]*(.*)$", re.I
)
_BULLET = re.compile(r"^([ \t>]*)[-*+\u2022\u2023\u25e6\u2043\u2219\u25aa\u25cf\u00b7][ \t]+(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_FLAT_ARRAY = re.compile(r"\[[^\[\]]*\]")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_PARENTHESISED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}")
# what ends an item and starts its annotation: "CFTR - because", "CFTR: chloride channel", "CFTR (likely)"
_ANNOTATION = re.compile(
    r"\s[-\u2013\u2014]+(?:\s|$)|[(\[{:;,|]|\s(?:because|since|due to|given|which|as it|=>|->)\b|\s\u2192", re.I
)
_LABEL = re.compile(
    r"^(?:the\s+|my\s+)?(?:(?:top|most\s+likely|likely|best|final|candidate|causal|ranked|differential)(?:\s+|(?=\s*[:=])))*"
    r"(?:\d{1,4}\s+)?(?:genes?|answers?|candidates?|symbols?|diagnos[ie]s|guess(?:es)?|list|ranking)?"
    r"(?<=\w)(?:\s*\d{1,4})?\s*[:=]\s*",
    re.I,
)
_EDGE_PUNCTUATION = " \t\r\n.,;:!?\"'`*_~<>()[]{}|\u201c\u201d\u2018\u2019\u00ab\u00bb"
_SPLIT = re.compile(r"[,;\t]|(?<!\s)\s+(?:>>?|then)\s|\s\|\s")  # (?<!\s): one try per run of spaces, not n^2
_CONJUNCTION = re.compile(r"^(?:and|or|then)\s+", re.I)


def items_from_value(value: Any, item_field: str | None, max_chars: int) -> list[str]:
    """The list's items from a value a template resolved to (a list, a string, a number)."""
    if isinstance(value, str):
        return items_from_text(value, item_field, max_chars)
    if isinstance(value, Mapping):
        raise _parse_error(
            f"the input is a JSON object (keys: {_preview(value)}), not a list; point `input` at the list, "
            "e.g. {{ sample.output_json.genes }}"
        )
    if isinstance(value, (list, tuple)):
        return _items_from_list(value, item_field, max_chars)
    if value is None or isinstance(value, bool):
        raise _parse_error(f"the input is {json.dumps(value)}, not a list")
    if isinstance(value, (int, float)):
        return [str(value)]
    raise _parse_error(f"the input is a {type(value).__name__}, not a list")


def _items_from_list(values: list | tuple, item_field: str | None, max_chars: int) -> list[str]:
    items: list[str] = []
    total = 0
    for position, value in enumerate(values, start=1):
        if isinstance(value, Mapping) and item_field is not None:
            if item_field not in value:
                raise _parse_error(f"list item {position} has no field {item_field!r} (keys: {_preview(value)})")
            value = value[item_field]
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            kind = "an object" if isinstance(value, Mapping) else "a list" if isinstance(value, (list, tuple)) else (
                json.dumps(value) if isinstance(value, bool) else f"a {type(value).__name__}"
            )
            hint = "; set `item_field` to the field holding each answer" if isinstance(value, Mapping) else ""
            raise _parse_error(f"list item {position} is {kind}, not a string{hint}")
        text = value if isinstance(value, str) else str(value)
        total += len(text)
        if total > max_chars:
            raise _parse_error(f"the list's items add up to over max_input_chars={max_chars:,} characters")
        cleaned = clean_item(text)
        if cleaned:
            items.append(cleaned)
    return items


def items_from_text(text: str, item_field: str | None = None, max_chars: int = 1_000_000) -> list[str]:
    """Read a ranked list out of free text: a JSON array (alone or inside prose), numbered or
    bulleted lines, or comma/semicolon/newline separated items; prose around the list is skipped.
    """
    if len(text) > max_chars:
        raise _parse_error(f"input has {len(text):,} characters, over max_input_chars={max_chars:,}")
    stripped = text.strip()
    if not stripped:
        return []
    if stripped[0] in "[{":
        try:
            value = json.loads(stripped)
        except RecursionError:
            raise _parse_error("the input is JSON nested too deeply to read") from None
        except ValueError:
            pass  # "[TP53, BRCA1]" is not JSON but is a list: read on
        else:
            return items_from_value(value, item_field, max_chars) if not isinstance(value, str) else []
    embedded = _embedded_array(stripped)
    if embedded is not None:
        return _items_from_list(embedded, item_field, max_chars)
    lines = [line for line in stripped.splitlines() if not _FENCE.match(line)]
    table = _table_items(lines)
    if table:
        return table
    marked = _marked_lines(lines)
    if marked:
        return [item for item in map(clean_item, marked) if item]
    items = _unmarked_items(lines)
    if not items:
        raise _parse_error(
            "found no list in the input (numbered or bulleted lines, comma-separated items or a JSON array); "
            "`extract` can pick the items out with a regex"
        )
    return items


def _embedded_array(text: str) -> list | None:
    """The first flat JSON array of at least one string inside prose (``Genes: ["A", "B"]``)."""
    if "[" not in text or '"' not in text:
        return None
    for match in _FLAT_ARRAY.finditer(text):
        candidate = match.group(0)
        if '"' not in candidate:
            continue
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, list) and any(isinstance(entry, str) for entry in value):
            return value
    return None


def _marked_lines(lines: list[str]) -> list[str]:
    """Bodies of numbered lines (else bulleted ones) at the outermost indentation.

    When the numbering starts again at 1 (numbered reasoning steps, then the ranking), the
    last numbered run is the list: answers come at the end. Otherwise the numbers are not read:
    the order in the text is the ranking.
    """
    numbered = []
    for line in lines:
        match = _NUMBERED.match(line)
        if match is not None and match.group(5).strip():
            number = int(match.group(2) or match.group(3) or match.group(4))
            numbered.append((_indent(match.group(1)), number, match.group(5)))
    if numbered:
        outer = min(indent for indent, _, _ in numbered)
        runs: list[list[str]] = []
        previous = 0
        for indent, number, body in numbered:
            if indent > outer + 1:
                continue
            if not runs or (number <= 1 < previous):  # a new list starts at 1 (a misnumbered one goes on)
                runs.append([])
            runs[-1].append(body)
            previous = number
        return runs[-1]
    bulleted = []
    for line in lines:
        match = _BULLET.match(line)
        if match is not None and match.group(2).strip():
            bulleted.append((_indent(match.group(1)), match.group(2)))
    if bulleted:
        outer = min(indent for indent, _ in bulleted)
        return [body for indent, body in bulleted if indent <= outer + 1]
    return []


_TABLE_ROW = re.compile(r"^\s*\|(.*)\|\s*$")
_TABLE_RULE = re.compile(r"^[\s|:\-]+$")
_RANK_CELL = re.compile(r"^(?:rank\s*)?#?\d{1,4}[.)]?$", re.I)


def _table_items(lines: list[str]) -> list[str]:
    """A markdown table's rows, in order: in each, the first cell that is not a rank number.

    The header row (the row above the ``|---|`` rule) is skipped.
    """
    rows = [(number, match.group(1)) for number, line in enumerate(lines) if (match := _TABLE_ROW.match(line))]
    rules = {number for number, cells in rows if _TABLE_RULE.match(cells)}
    if not rules:
        return []
    headers = {number - 1 for number in rules}
    items = []
    for number, cells in rows:
        if number in rules or number in headers:
            continue
        for cell in cells.split("|"):
            cell = cell.strip()
            if cell and not _RANK_CELL.match(cell):
                item = clean_item(cell)
                if item:
                    items.append(item)
                break
    return items


def _indent(prefix: str) -> int:
    return len(prefix.expandtabs(4))


def _unmarked_items(lines: list[str]) -> list[str]:
    """Items of lines without markers: split on commas, semicolons, tabs; prose lines are skipped."""
    items: list[str] = []
    for line in lines:
        line = _LABEL.sub("", line.strip(), count=1)
        if not line or line.endswith(":"):
            continue  # "Here are the most likely genes:" introduces the list
        if line[0] + line[-1] in ("[]", "()", "{}"):
            line = line[1:-1]  # "[TP53, BRCA1]" without quotes
        line = _PARENTHESISED.sub(" ", line)
        for part in _SPLIT.split(line):
            item = clean_item(_CONJUNCTION.sub("", part.strip()))
            if item and len(item.split()) <= MAX_ITEM_WORDS:
                items.append(item)
    return items


MAX_ITEM_WORDS = 4
"""Outside a marked list or JSON, a part longer than this many words is prose, not an item."""


def clean_item(text: str) -> str:
    """One item without its markup and annotation: ``1. **TP53** - because ...`` -> ``TP53``."""
    text = text.strip()
    bold = _BOLD.search(text)
    if bold is not None:
        text = bold.group(1) or bold.group(2) or ""
    text = _LABEL.sub("", text, count=1)
    cut = _ANNOTATION.search(text)
    if cut is not None and cut.start() > 0:
        text = text[: cut.start()]
    elif cut is not None:  # the item starts with punctuation, e.g. "(TP53)": drop it, keep the rest
        text = _PARENTHESISED.sub(" ", text)
        cut = _ANNOTATION.search(text.strip())
        text = text.strip()[: cut.start()] if cut is not None and cut.start() > 0 else text
    return text.strip(_EDGE_PUNCTUATION).strip()


def _preview(value: Mapping[str, Any]) -> str:
    keys = [str(key) for key in list(value)[:5]]
    return ", ".join(keys) + (", ..." if len(value) > 5 else "") if keys else "none"


# --- normalising items ------------------------------------------------------------------


# --- alias tables ------------------------------------------------------------------------


# --- from rank to reward ------------------------------------------------------------------


def gain(rank: int, schedule: str, decay: float, k: int | None, table: list[float] | None) -> float:
    """The reward for the answer at ``rank`` (1 is first); 0 beyond the cut-off ``k``."""
    if k is not None and rank > k:
        return 0.0
    if schedule == "exponential":
        return decay ** (rank - 1)
    if schedule == "reciprocal":
        return 1.0 / rank
    if schedule == "log":
        return 1.0 / math.log2(rank + 1)
    if schedule == "linear":
        assert k is not None
        return (k - rank + 1) / k
    assert table is not None
    return table[rank - 1] if rank <= len(table) else 0.0


def rank_shares(ranks: Sequence[Any], samples: int) -> dict[str, float | None]:
    """The report's rankings of one grader path: the share of ``samples`` whose rank is 1, at most 5,
    any rank at all, and the mean of 1/rank (MRR; a miss adds 0). Anything but a positive int
    (None for an absent answer, a bool, a string) is a miss."""
    found = [rank for rank in ranks if type(rank) is int and rank >= 1]

    def share(count: float) -> float | None:
        return count / samples if samples else None

    return {
        "top@1": share(sum(rank == 1 for rank in found)),
        "top@5": share(sum(rank <= 5 for rank in found)),
        "top@max": share(len(found)),
        "mrr": share(sum(1.0 / rank for rank in found)),
    }


RANKINGS = ReportMetric(
    name="rankings", title="Rankings", key="rank",
    columns=(("top@1", "top@1"), ("top@5", "top@5"), ("top@max", "top@max"), ("mrr", "MRR")),
    compute=rank_shares,
)
"""top@1, top@5, top@max and MRR of any grader path whose results put a ``rank`` (1 is first, None
when absent) in their metadata."""
