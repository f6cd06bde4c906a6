"""JSON lines, fast: orjson reads and writes them, the standard library takes the lines orjson
would read or write differently, so a line means what ``json`` would make of it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

__all__ = ["dumps_line", "loads_line"]

_DIGITS = b"0123456789"
_LONG_DIGITS = re.compile(rb"\d{19}")  # orjson reads an integer beyond 64 bits as a float; json keeps it exact


def loads_line(raw: bytes) -> Any:
    """The JSON value of one line of bytes, as ``json.loads(raw.decode("utf-8"))`` gives it.

    Raises what that raises: UnicodeDecodeError, json.JSONDecodeError, RecursionError.
    """
    few_digits = len(raw) - len(raw.translate(None, _DIGITS)) < 19  # fast; most lines end the check here
    if few_digits or _LONG_DIGITS.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # invalid, or what only json reads (NaN, Infinity, lone surrogates): its value or its error
    return json.loads(raw.decode("utf-8"))


def dumps_line(value: Any) -> str:
    """``value`` as one line of compact JSON text, newline included; non-ASCII characters as they are.

    A number that is not finite (NaN, infinity) is written ``null``, so the line is strict JSON.
    What orjson cannot write (an integer beyond 64 bits, a non-string key) is written by ``json``;
    what neither can write raises TypeError.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"
