"""What ``ranked_list`` is made of: reading a ranked list out of model output, normalising
its items (unicode, lookalikes, aliases) and turning a rank into a reward.

Every function here treats its input as untrusted: no recursion on it, no eval, patterns that
run in linear time (the user's own ``extract`` pattern runs with a timeout elsewhere).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rft_core import GradeError, Status, read_named_file

__all__ = [
    "AliasFile",
    "Normaliser",
    "gain",
    "items_from_text",
    "items_from_value",
    "load_alias_file",
    "parse_alias_text",
]


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

# Letters from other scripts that look like Latin ones, folded to the Latin letter they mimic.
# Upper and lower case: lowercase Cyrillic "в" mimics nothing, but its capital "В" mimics "B",
# and casefolding turns "В" into "в", so "в" folds to "b" as well.
_LOOKALIKES = {
    # Cyrillic
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "У": "Y", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S", "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W",
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "ӏ": "l", "Ӏ": "I",
    # Greek (also how gene names are written: HNF1α is HNF1A, HNF1β is HNF1B)
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    "α": "a", "β": "b", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "h", "ι": "i", "κ": "k",
    "μ": "m", "ν": "n", "ο": "o", "ρ": "p", "τ": "t", "υ": "y", "χ": "x",
}  # fmt: skip
_LOOKALIKE_TABLE = str.maketrans(_LOOKALIKES)
_ASCII_PUNCTUATION = re.compile(r"[^0-9a-zA-Z]+")
_LOOKALIKE_CHARS = frozenset(_LOOKALIKES)


class Normaliser:
    """Turns an item or a reference into the key it is compared by.

    NFKC (full-width forms, ligatures), invisible format characters removed, lookalike
    letters folded (or the item rejected), case folded, punctuation and whitespace removed,
    then the alias table maps the key to its canonical one.
    """

    __slots__ = ("casefold", "punctuation", "lookalikes", "aliases", "ignore_words", "_cache")

    def __init__(
        self, casefold: bool, ignore_punctuation: bool, lookalikes: str, ignore_words: Iterable[str] = ()
    ) -> None:
        self.casefold = casefold
        self.punctuation = ignore_punctuation
        self.lookalikes = lookalikes
        self.aliases: dict[str, str] = {}
        self.ignore_words: frozenset[str] = frozenset()
        self.ignore_words = frozenset(self._word(word) for word in ignore_words)
        self._cache: dict[str, str] = {}

    def key(self, text: str) -> str:
        """The comparison key before aliases ('' when nothing is left)."""
        if not text.isascii():
            text = unicodedata.normalize("NFKC", text)
            if any(unicodedata.category(char) == "Cf" for char in text):  # zero-width spaces, soft hyphens
                text = "".join(char for char in text if unicodedata.category(char) != "Cf")
            if self.lookalikes == "fold":
                text = text.translate(_LOOKALIKE_TABLE)
        if self.casefold:
            text = text.casefold()
        if self.ignore_words:
            text = " ".join(word for word in text.split() if self._word(word) not in self.ignore_words)
        if self.punctuation:
            if text.isascii():
                return _ASCII_PUNCTUATION.sub("", text)
            return "".join(char for char in text if char.isalnum())
        return " ".join(text.split())

    def _word(self, word: str) -> str:
        word = unicodedata.normalize("NFKC", word).strip(_EDGE_PUNCTUATION)
        if self.lookalikes == "fold":
            word = word.translate(_LOOKALIKE_TABLE)
        return word.casefold() if self.casefold else word

    def has_lookalike(self, text: str) -> bool:
        """Whether ``text`` mixes Latin letters with letters that mimic them (``ТР53`` in Cyrillic)."""
        text = unicodedata.normalize("NFKC", text)
        if not any(char in _LOOKALIKE_CHARS for char in text):
            return False
        return any("a" <= char.lower() <= "z" or char.isdigit() for char in text)

    def canonical(self, text: str) -> str:
        """The key after aliases; short texts (the usual items) are cached."""
        found = self._cache.get(text)
        if found is not None:
            return found
        key = self.key(text)
        key = self.aliases.get(key, key)
        if len(text) <= 64:
            if len(self._cache) >= 100_000:
                self._cache.clear()
            self._cache[text] = key
        return key

    def __getstate__(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__ if name != "_cache"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self._cache = {}

    def add_aliases(self, table: Mapping[str, Iterable[str]]) -> None:
        """Map each alias (and the canonical name itself) to the canonical key.

        A canonical name always maps to itself; an alias claimed by two canonical names
        is ambiguous and left out, so it only matches itself.
        """
        canonical_keys = {self.key(name) for name in table}
        claimed: dict[str, str] = {}
        ambiguous: set[str] = set()
        for name, aliases in table.items():
            canonical = self.key(name)
            for alias in aliases:
                key = self.key(alias)
                if not key or key in canonical_keys:
                    continue
                if claimed.get(key, canonical) != canonical:
                    ambiguous.add(key)
                claimed[key] = canonical
        for key in ambiguous:
            del claimed[key]
        self.aliases.update(claimed)
        self._cache.clear()


# --- alias tables ------------------------------------------------------------------------

_CANONICAL_COLUMNS = ("symbol", "approvedsymbol", "hgncsymbol", "genesymbol", "canonical", "gene", "name", "answer")
_ALIAS_COLUMN = re.compile(r"alias|prev|synonym|other|old")
_CELL_SEPARATORS = re.compile(r"\s*[|;]\s*")
_TSV_CELL_SEPARATORS = re.compile(r"\s*[|;,]\s*")


def parse_alias_text(text: str, kind: str) -> dict[str, list[str]]:
    """An alias table from file text: ``json`` {canonical: [aliases]}, or ``csv``/``tsv`` rows.

    Without a header, the first column is the canonical name and the others its aliases. A
    header row is recognised by a column named like ``symbol`` or ``Approved symbol``: that
    column is the canonical name, and the columns named like ``alias...``/``prev...``
    (``alias_symbol``, ``Previous symbols``) hold the aliases (every other column when none
    is), so HGNC's downloads, custom or complete set, work as they are. Several aliases in a
    cell are separated by ``|`` or ``;`` (in a TSV also ``,``).
    """
    if kind == "json":
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"is not valid JSON: {exc}") from None
        return check_alias_mapping(value)
    delimiter = "\t" if kind == "tsv" else ","
    separators = _TSV_CELL_SEPARATORS if kind == "tsv" else _CELL_SEPARATORS
    table: dict[str, list[str]] = {}
    canonical_column, alias_columns = 0, None  # None: every other column
    first = True
    for row in csv.reader(io.StringIO(text), delimiter=delimiter):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if first:
            first = False
            header = _header(row)
            if header is not None:
                canonical_column, alias_columns = header
                continue
        if canonical_column >= len(row) or not row[canonical_column].strip():
            continue
        canonical = row[canonical_column].strip()
        columns = alias_columns if alias_columns is not None else [
            number for number in range(len(row)) if number != canonical_column
        ]
        cells = [row[number].strip() for number in columns if number < len(row)]
        aliases = [alias for cell in cells for alias in separators.split(cell) if alias]
        table.setdefault(canonical, []).extend(aliases)
    return table


def _header(row: list[str]) -> tuple[int, list[int] | None] | None:
    """(canonical column, alias columns) when ``row`` is a header row, else None."""
    names = [re.sub(r"[^a-z]", "", cell.lower()) for cell in row]
    for wanted in _CANONICAL_COLUMNS:
        if wanted in names:
            canonical = names.index(wanted)
            aliases = [
                number for number, name in enumerate(names) if number != canonical and _ALIAS_COLUMN.search(name)
            ]
            return canonical, aliases or None
    return None


def check_alias_mapping(value: Any) -> dict[str, list[str]]:
    """{canonical: alias or [aliases]} as {canonical: [aliases]}; anything else is a ValueError."""
    if not isinstance(value, Mapping):
        raise ValueError(f"an alias table maps canonical names to aliases, not a {type(value).__name__}")
    table: dict[str, list[str]] = {}
    for name, aliases in value.items():
        if isinstance(aliases, str):
            aliases = [aliases]
        if not isinstance(aliases, (list, tuple)) or not all(isinstance(alias, str) for alias in aliases):
            raise ValueError(f"aliases of {name!r} must be a string or a list of strings")
        table[str(name)] = list(aliases)
    return table


class AliasFile:
    """An alias table read from a file when the spec loads; serialises back to its path."""

    __slots__ = ("path", "table")

    def __init__(self, path: str, table: dict[str, list[str]]) -> None:
        self.path = path
        self.table = table

    def __str__(self) -> str:
        return self.path

    def __repr__(self) -> str:
        return f"AliasFile({self.path!r}, {len(self.table)} names)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AliasFile) and (other.path, other.table) == (self.path, self.table)

    __hash__ = None  # type: ignore[assignment]


_KINDS = {".json": "json", ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "tsv"}


def load_alias_file(value: Any) -> AliasFile:
    """Read an alias file (a relative path starts from the spec file's folder)."""
    if isinstance(value, AliasFile):
        return value
    if not isinstance(value, str) or not value:
        raise ValueError("aliases_file must be a path to a .csv, .tsv or .json file")
    kind = _KINDS.get(Path(value).suffix.lower())
    if kind is None:
        raise ValueError(f"alias file {value!r}: the name must end in .csv, .tsv, .tab, .txt (tab-separated) or .json")
    text, where = read_named_file(value, "alias file", encoding="utf-8-sig")
    try:
        table = parse_alias_text(text, kind)
    except (ValueError, csv.Error) as exc:
        raise ValueError(f"{where} {exc}" if str(exc).startswith("is ") else f"{where}: {exc}") from None
    return AliasFile(value, table)


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
