"""JSON lines, fast: orjson reads and writes them, the standard library takes the lines orjson
would read or write differently, so a line means what ``json`` would make of it.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from ..kernel.errors import RftError

__all__ = ["BadLine", "dumps_line", "loads_line", "parse_line", "read_json_lines", "read_lines"]

_DIGITS = b"0123456789"
_LONG_DIGITS = re.compile(rb"\d{19}")  # orjson reads an integer beyond 64 bits as a float; json keeps it exact
_BOM = b"\xef\xbb\xbf"


def loads_line(raw: bytes) -> Any:
    """The JSON value of one line of bytes, as ``json.loads(raw.decode("utf-8"))`` gives it.

    Raises what that raises: UnicodeDecodeError, json.JSONDecodeError, RecursionError, and ValueError
    for an integer longer than Python converts (``sys.get_int_max_str_digits()``, 4,300 digits).
    """
    few_digits = len(raw) - len(raw.translate(None, _DIGITS)) < 19  # fast; most lines end the check here
    if few_digits or _LONG_DIGITS.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # invalid, or what only json reads (NaN, Infinity, lone surrogates): its value or its error
    return json.loads(raw.decode("utf-8").rstrip("\r\n"))  # errors then point into the line, not past it


def dumps_line(value: Any) -> str:
    """``value`` as one line of compact JSON text, newline included; non-ASCII characters as they are.

    A number that is not finite (NaN, infinity) is written ``null``, so the line is strict JSON.
    What orjson cannot write (an integer beyond 64 bits, a non-string key, a lone surrogate such as
    a row's ``"\\ud800"``) is written by ``json``, non-ASCII escaped when the text would not encode
    as UTF-8; what neither can write raises TypeError.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE).decode()
    except TypeError:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: as an escape it reads back the same
        return json.dumps(value, separators=(",", ":")) + "\n"
    return text


class BadLine(ValueError):
    """A line that is not JSON; its message says why, e.g. ``invalid JSON at column 3: Expecting value``."""


def parse_line(raw: bytes) -> Any:
    """``loads_line``, with every way a line can fail to read raised as BadLine."""
    try:
        return loads_line(raw)
    except UnicodeDecodeError as exc:
        raise BadLine(f"invalid UTF-8 at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise BadLine(f"invalid JSON at column {exc.colno}: {exc.msg.removesuffix(' at')}") from None
    except RecursionError:
        raise BadLine("invalid JSON: nested too deeply") from None
    except ValueError:  # the only other ValueError json raises: an integer past Python's conversion limit
        limit = sys.get_int_max_str_digits()
        raise BadLine(
            f"an integer of more than {limit} digits (more than Python reads as a number): write it as a string"
        ) from None


def read_lines(path: str | Path, what: str = "data file") -> Iterator[tuple[int, bytes]]:
    """The line number and bytes of every line of ``path`` that is not blank; a UTF-8 byte order
    mark opening the file is dropped.

    Raises RftError naming the file (``what`` says which: "data file", "scores file") when it
    cannot be opened.
    """
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
        for number, raw in enumerate(itertools.chain((first,), handle), start=1):
            if raw.strip():
                yield number, raw


def read_json_lines(path: str | Path, what: str = "data file") -> Iterator[tuple[int, Any]]:
    """The line number and JSON value of every line of ``path`` that is not blank.

    Raises RftError naming the file and line of the first line that is not JSON.
    """
    for number, raw in read_lines(path, what):
        try:
            yield number, parse_line(raw)
        except BadLine as exc:
            raise RftError(f"{path}: line {number}: {exc}") from None
