"""Distinct word n-grams of many texts at once, with numpy: the batch path of ``repetition``.

Words are what ``str.split()`` gives (runs of characters that are not ``str.isspace``). The batch
is joined, read as code points, cut into words, and every word and n-gram is hashed with a
polynomial hash; a text's distinct n-grams are its distinct n-gram hashes. Hashes can collide, so
every pair of n-grams of one text with the same hash is then compared character by character: if
any pair differs, the functions return None and the caller counts that batch in pure Python. The
counts are therefore exact, never estimates.
"""

from __future__ import annotations

import re
import sys
import threading
from typing import Any

import numpy as np

__all__ = ["distinct_ngrams", "ngram_shares"]

_P = np.uint64(0x9E3779B97F4A7C15)  # odd multipliers (so P has an inverse modulo 2**64)
_Q = np.uint64(0xC2B2AE3D27D4EB4F)

_tables: dict[str, Any] = {}
_lock = threading.Lock()


CHUNK_CHARS = 1 << 21
"""Texts are counted in chunks of about this many characters, so memory stays bounded; a batch
with a longer text returns None (pure Python then)."""


def ngram_shares(texts: list[str], n: int, keep: int) -> list[float] | None:
    """The fraction of the word n-grams of each text (its last ``keep`` words) that repeat an
    earlier one, 0.0 with no n-gram; None when two different n-grams share a hash or a text is
    longer than ``CHUNK_CHARS``."""
    chunks = _chunks(texts)
    if chunks is None:
        return None
    shares: list[float] = []
    for chunk in chunks:
        counts = distinct_ngrams(chunk, n, keep)
        if counts is None:
            return None
        distinct, totals = counts
        shares += np.where(totals > 0, 1.0 - distinct / np.maximum(totals, 1), 0.0).tolist()
    return shares


def _chunks(texts: list[str]) -> list[list[str]] | None:
    """Consecutive runs of texts of at most CHUNK_CHARS characters in all (with their separators);
    None when a text alone is longer."""
    chunks: list[list[str]] = []
    size = CHUNK_CHARS
    for text in texts:
        if len(text) >= CHUNK_CHARS:
            return None
        if size + len(text) + 1 > CHUNK_CHARS:
            chunks.append([])
            size = 0
        chunks[-1].append(text)
        size += len(text) + 1
    return chunks


def distinct_ngrams(texts: list[str], n: int, keep: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(distinct n-grams, n-grams) of the last ``keep`` words of every text, or None when two
    different n-grams share a hash (the caller then counts in pure Python)."""
    chars = _code_points(f" {' '.join(texts)} ")  # a space before, between and after the texts
    starts, ends = _word_bounds(chars)
    if not starts.size:
        return np.zeros(len(texts), dtype=np.intp), np.zeros(len(texts), dtype=np.intp)
    text_starts = np.cumsum([1, *map(len, texts)]) + np.arange(len(texts) + 1)
    first_word = np.searchsorted(starts, text_starts)
    words_per_text = np.diff(first_word)
    segment = np.repeat(np.arange(len(texts)), words_per_text)
    if words_per_text.max(initial=0) > keep:  # only the last `keep` words of each text count
        position = np.arange(starts.size) - first_word[segment]
        kept = position >= (words_per_text - keep)[segment]
        starts, ends, segment = starts[kept], ends[kept], segment[kept]
        words_per_text = np.minimum(words_per_text, keep)
    totals = np.maximum(words_per_text - (n - 1), 0)
    word_hash = _word_hashes(chars, starts, ends)
    count = starts.size - (n - 1)
    if count <= 0:
        return np.zeros(len(texts), dtype=np.intp), totals
    gram = word_hash[:count].copy()
    for offset in range(1, n):
        gram *= _Q
        gram += word_hash[offset : offset + count]
    start = np.flatnonzero(segment[:count] == segment[n - 1 :])  # n-grams whose last word is in their text
    bits = np.uint64(int(count).bit_length())  # a key: the n-gram's hash, then its first word's position
    key = (gram[start] << bits) | start.astype(np.uint64)
    key.sort()
    start = (key & np.uint64((1 << int(bits)) - 1)).astype(np.intp)
    text = segment[start]
    key >>= bits
    first = np.empty(key.size, dtype=bool)  # the first of each run of equal hashes in one text
    first[:1] = True
    first[1:] = (key[1:] != key[:-1]) | (text[1:] != text[:-1])
    repeat = np.flatnonzero(~first[1:])
    if repeat.size and not _same_ngrams(chars, starts, ends, start[repeat], start[repeat + 1], n):
        return None
    return np.bincount(text[first], minlength=len(texts)), totals


def _code_points(text: str) -> np.ndarray:
    """The text's code points (lone surrogates kept), one byte each when it is ASCII."""
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _word_bounds(chars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of every run of non-whitespace characters (the first and last
    characters are whitespace)."""
    space = np.take(_whitespace(), chars)
    edges = np.flatnonzero(space[1:] != space[:-1]) + 1
    return edges[0::2], edges[1::2]


def _word_hashes(chars: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Polynomial hash (modulo 2**64) of every word: sum of char * P**k over its k-th character
    (no word starts at 0)."""
    powers, inverses = _powers(chars.size)
    prefix = np.cumsum(chars * powers[: chars.size], dtype=np.uint64)
    hashes: np.ndarray = (prefix[ends - 1] - prefix[starts - 1]) * inverses[starts]
    return hashes


def _same_ngrams(chars: np.ndarray, starts: np.ndarray, ends: np.ndarray, left: np.ndarray, right: np.ndarray,
                 n: int) -> bool:
    """Whether the n-grams starting at words ``left`` equal those starting at words ``right``."""
    offsets = np.arange(n)
    left, right = (left[:, None] + offsets).ravel(), (right[:, None] + offsets).ravel()
    lengths = ends[left] - starts[left]
    if not np.array_equal(lengths, ends[right] - starts[right]):
        return False
    first = np.cumsum(lengths) - lengths
    within = np.arange(int(lengths.sum())) - np.repeat(first, lengths)
    return np.array_equal(chars[np.repeat(starts[left], lengths) + within],
                          chars[np.repeat(starts[right], lengths) + within])


def _whitespace() -> np.ndarray:
    """A table over all code points: True where ``str.split()`` splits (``str.isspace``)."""
    table = _tables.get("space")
    if table is None:  # Unicode has no whitespace past the first plane (a test checks every code point)
        table = np.zeros(sys.maxunicode + 1, dtype=bool)
        plane = "".join(map(chr, range(0x10000)))
        table[[match.start() for match in re.finditer(r"\s", plane)]] = True
        _tables["space"] = table
    return table


def _powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    """P**k and P**-k modulo 2**64 for k < size (grown, never shrunk, shared by threads)."""
    cached = _tables.get("powers")
    if cached is None or cached[0].size < size:
        with _lock:
            cached = _tables.get("powers")
            if cached is None or cached[0].size < size:
                size = max(size, 1 << 16, 2 * (cached[0].size if cached else 0))
                powers = np.full(size, _P, dtype=np.uint64)
                powers[0] = 1
                inverses = np.full(size, np.uint64(pow(int(_P), -1, 1 << 64)), dtype=np.uint64)
                inverses[0] = 1
                cached = (np.cumprod(powers, dtype=np.uint64), np.cumprod(inverses, dtype=np.uint64))
                _tables["powers"] = cached
    return cached
