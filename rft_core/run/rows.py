"""Rows in: the one way to read rows (one JSON object a line) from a file.

Every reader of a data, scores, prompt, SFT or preference file goes through here, so they agree on
what a file holds and say the same when it does not: blank lines are skipped, a UTF-8 byte order
mark opening the file is dropped, a line is as long as it is (a row's size is the graders' business:
``max_input_chars``, ``max_sample_chars``), and every problem names the file, the line and what to do.

Two ways to read: ``read_values`` hands a line that does not read to the caller as its BadLine (``rft
score`` makes it an error row and goes on); ``read_rows`` and ``rows_in`` stop at the first line that
is not a row, saying what the file looks like when it is not JSON Lines at all (a JSON array, CSV...).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..kernel.errors import RftError
from .input_format import looks_like
from .jsonl import BadLine, parse_line

__all__ = [
    "SNIFF_LINES", "check_json_lines", "count_rows", "not_a_row", "read_lines", "read_rows", "read_values", "rows_in",
]

SNIFF_LINES = 20
"""How many non-blank lines ``check_json_lines`` reads to decide that a file is JSON Lines."""

_BOM = b"\xef\xbb\xbf"


@contextmanager
def _numbered_lines(path: str | Path, what: str) -> Iterator[Iterator[tuple[int, bytes]]]:
    """Every line of ``path`` with its number, a UTF-8 byte order mark opening the file dropped;
    RftError naming the file (``what`` says which: "data file", "scores file") when it cannot be opened."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the `with handle:` below, after the errors are named
    except FileNotFoundError:
        raise RftError(f"{path}: {what} not found") from None
    except OSError as exc:
        raise RftError(f"{path}: cannot read the {what}: {exc.strerror}") from None
    with handle:
        first = handle.readline()
        if first.startswith(_BOM):
            first = first[len(_BOM):]
        yield enumerate(itertools.chain((first,), handle), start=1)


def read_lines(path: str | Path, what: str = "data file") -> Iterator[tuple[int, bytes]]:
    """The line number and bytes of every line of ``path`` that is not blank."""
    with _numbered_lines(path, what) as lines:
        for number, raw in lines:
            if raw.strip():
                yield number, raw


def count_rows(path: str | Path, what: str = "data file") -> int:
    """How many lines of ``path`` are not blank: its rows, for a progress bar."""
    return sum(1 for _ in read_lines(path, what))


def read_values(path: str | Path, what: str = "data file") -> Iterator[tuple[int, Any]]:
    """The line number and JSON value of every line of ``path`` that is not blank; a line that does
    not read gives its BadLine (saying why) in place of a value, for the caller to report."""
    with _numbered_lines(path, what) as lines:  # not over read_lines: one generator a row, not two
        for number, raw in lines:
            if raw.strip():
                try:
                    yield number, parse_line(raw)
                except BadLine as exc:
                    yield number, exc


def not_a_row(value: Any) -> str | None:
    """Why ``value`` (from ``read_values``) is not a row, or None when it is one (a JSON object)."""
    if type(value) is dict or isinstance(value, Mapping):  # the type check first: isinstance is slow
        return None
    if isinstance(value, BadLine):
        return str(value)
    return f"a row must be a JSON object, not {type(value).__name__}"


def read_rows(path: str | Path, what: str = "data file", *, expected: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """The line number and row of every line of ``path`` that is not blank.

    Raises RftError at the first line that is not a row, naming the file and line, why, and what the
    line should be (``expected``, by default one JSON object); when no row of the file reads, the
    message says what the file looks like instead (``check_json_lines``).
    """
    rows = 0
    for number, value in read_values(path, what):
        problem = not_a_row(value)
        if problem is not None:
            if not rows:
                check_json_lines(path, what, allow_empty=True)
            raise RftError(f"{path}: line {number}: {problem}; {expected or f'the {what} holds one JSON object a line'}")
        rows += 1
        yield number, value


def rows_in(
    data: str | Path | Iterable[Any], label: str = "data", *, empty: str = "has no rows"
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Where each row is and the row, from a JSONL data file (``"{path}: line N"``, read by
    ``read_rows``) or rows in memory (``"{label}: row I"``, I from 0), for readers that take either.

    Raises RftError as ``read_rows`` does, for a row in memory that is not a mapping, and when
    there is no row: ``"{path or label}: {empty}"`` (e.g. "no rows to train on").
    """
    source = str(data) if isinstance(data, (str, Path)) else label
    if isinstance(data, (str, Path)):
        numbered: Iterator[tuple[str, Mapping[str, Any]]] = (
            (f"{data}: line {number}", row) for number, row in read_rows(data)
        )
    else:
        numbered = _in_memory(data, label)
    none = True
    for where, row in numbered:
        none = False
        yield where, row
    if none:
        raise RftError(f"{source}: {empty}")


def _in_memory(rows: Iterable[Any], label: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for index, row in enumerate(rows):
        problem = not_a_row(row)
        if problem is not None:
            raise RftError(f"{label}: row {index}: {problem}")
        yield f"{label}: row {index}", row


def check_json_lines(
    path: str | Path, what: str = "data file", *, allow_empty: bool = False, empty_option: str | None = None
) -> None:
    """Raise RftError unless ``path`` holds JSON Lines: one of its first ``SNIFF_LINES`` non-blank
    lines is a JSON object (a bad line among good ones is the reader's business, not a format error).

    ``what`` names the file in messages ("data file", "scores file"). An empty file (no
    non-blank line) is an error too unless ``allow_empty``; ``empty_option`` names the command's
    option that accepts one (e.g. ``"--allow-empty"``) in that error. A file that is not JSON Lines
    is named for what it looks like (compressed, binary, a JSON array, pretty-printed JSON, CSV or
    TSV), with how to convert it.
    """
    first_problem = None
    for count, (number, value) in enumerate(read_values(path, what), start=1):
        if type(value) is dict:
            return
        problem = f"line {number}: {value}" if isinstance(value, BadLine) else f"line {number} is JSON but not an object"
        first_problem = first_problem or problem
        if count == SNIFF_LINES:
            break
    if first_problem is None:
        if allow_empty:
            return
        accept = f", or pass {empty_option} to accept it" if empty_option else ""
        raise RftError(f"{path}: the {what} is empty (no rows): give it one JSON object per line{accept}")
    kind, advice = looks_like(path)
    if kind is None:
        raise RftError(
            f"{path}: the {what} is not JSON Lines (one JSON object per line): none of its first lines is an object "
            f"({first_problem})"
        )
    raise RftError(f"{path}: the {what} is {kind}, not JSON Lines (one JSON object per line): {advice}")
