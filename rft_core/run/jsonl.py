"""JSON lines, fast: orjson reads and writes them, the standard library takes the lines orjson
would read or write differently, so a line means what ``json`` would make of it. Files of rows
are read by ``rows``.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import orjson

__all__ = ["BadLine", "dumps_line", "loads_line", "parse_line"]

_DIGITS = b"0123456789"
_LONG_DIGITS = re.compile(rb"\d{19}")  # orjson reads an integer beyond 64 bits as a float; json keeps it exact


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
