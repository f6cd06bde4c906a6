"""How ``ranked_list`` decides that two items are the same: unicode and lookalike normalisation,
and alias files (JSON, CSV, TSV) mapping every name of an item to one.

Like the rest of ``ranked_list``, it treats its input as untrusted: patterns that run in linear
time, no recursion on the input.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationInfo

from rft_core import read_named_file

from ._ranking import _EDGE_PUNCTUATION

__all__ = ["AliasFile", "Normaliser", "load_alias_file", "parse_alias_text"]

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


def load_alias_file(value: Any, info: ValidationInfo | None) -> AliasFile:
    """Read an alias file (a relative path starts from the spec file's folder, which ``info`` carries)."""
    if isinstance(value, AliasFile):
        return value
    if not isinstance(value, str) or not value:
        raise ValueError("aliases_file must be a path to a .csv, .tsv or .json file")
    kind = _KINDS.get(Path(value).suffix.lower())
    if kind is None:
        raise ValueError(f"alias file {value!r}: the name must end in .csv, .tsv, .tab, .txt (tab-separated) or .json")
    text, where = read_named_file(value, "alias file", info, encoding="utf-8-sig")
    try:
        table = parse_alias_text(text, kind)
    except (ValueError, csv.Error) as exc:
        raise ValueError(f"{where} {exc}" if str(exc).startswith("is ") else f"{where}: {exc}") from None
    return AliasFile(value, table)
