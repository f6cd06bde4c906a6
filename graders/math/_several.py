"""Tell an extracted answer that offers several candidates ("12, \\text{Monday}, Evelyn, yes") from one answer.

A list of math values (``1, 2, 3``) is one answer: the parser reads it as a list and compares it
with a list or set reference. A list that mixes in words, or the same token over and over, is a
candidate list or degenerate text; cleaning would cut it down to its first value, so it is
refused before cleaning.
"""

from __future__ import annotations

import regex

from ._extract import looks_like_math

__all__ = ["offers_several"]

MIN_ITEMS = 3
MAX_ITEM_CHARS = 40
MAX_CANDIDATE_WORDS = 3
_SEPARATOR = regex.compile(r",|;|\s(?:or|and)\s|\\text\s*\{\s*(?:or|and)\s*\}")
_OPENERS, _CLOSERS = "([{", ")]}"
_SPLIT = regex.compile(rf"[{regex.escape(_OPENERS + _CLOSERS)}]|{_SEPARATOR.pattern}")
# an item opening with one of these continues a sentence ("5, since 2 + 3 = 5"): prose, not a candidate
_CONNECTIVES = frozenset(
    "since because which as so that then where when while but given hence thus therefore i.e. e.g. and or".split()
)


def _items(text: str) -> list[str]:
    """The text split at separators outside brackets (``(1, 2), 3`` is two items)."""
    items, depth, start = [], 0, 0
    for match in _SPLIT.finditer(text, timeout=1.0):
        token = match.group(0)
        if token in _OPENERS:
            depth += 1
        elif token in _CLOSERS:
            depth = max(depth - 1, 0)
        elif depth == 0:
            items.append(text[start : match.start()].strip())
            start = match.end()
    items.append(text[start:].strip())
    return [item for item in items if item]


def offers_several(answer: str) -> bool:
    """A candidate list with words in it, or one token repeated: not a single answer."""
    spaced = " ".join(answer.split()) + " "
    if spaced.count(" ") >= 2 and spaced in (spaced + spaced)[1:-1]:
        return True  # one unit over and over: "\text{Monday} \text{Monday}", "(0, 3) (0, 3)"
    items = _items(answer)
    if len(items) < MIN_ITEMS or any(len(item) > MAX_ITEM_CHARS for item in items):
        return False
    if any(item.split()[0].casefold() in _CONNECTIVES for item in items[1:]):
        return False
    return any(_word_candidate(item) for item in items)


def _word_candidate(item: str) -> bool:
    """A short item of words ("Evelyn", "candidate 3", "\\text{Monday}" is math-like): a decoy, not a value with a unit."""
    return len(item.split()) <= MAX_CANDIDATE_WORDS and not item[0].isdigit() and not looks_like_math(item)
