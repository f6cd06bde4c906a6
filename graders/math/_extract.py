"""Find the final answer in a model's output: boxed, phrase, GSM8K marker, LaTeX span, last number.

Every pattern here is linear (no nested quantifiers over the same characters), and the
regex module's timeout bounds each search on top.
"""

from __future__ import annotations

from collections.abc import Sequence

import regex

__all__ = ["EXTRACTORS", "extract", "last_boxed", "search_choice"]

EXTRACTORS = ("boxed", "phrase", "gsm8k", "latex", "number")
"""The default extraction order; the first method that finds something wins."""

_BOXED = regex.compile(r"\\(?:boxed|fbox)\s*(\{)?")
_PHRASE = regex.compile(
    r"(?i)(?:final\s+answer|the\s+answer|answer)\s*(?:is|:|=|was)\s*:?\s*(?:\n\s*)?(.*)"
)
_GSM8K = regex.compile(r"####\s*([^\n]*)")
_DELIMITER = regex.compile(r"\$\$|\\\[|\\\]|\\\(|\\\)|(?<!\\)\$")
_CLOSER_OF = {"$$": "$$", "\\[": "\\]", "\\(": "\\)", "$": "$"}
_NUMBER = regex.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*\d+)?(?!\d)|-?\.\d+")
_SENTENCE_END = regex.compile(r"\.\s+(?=[A-Z])|\.\s*$|\n")
_CHOICE_IN_TEXT = regex.compile(
    r"(?:\((?P<a>[A-J])\)|\b(?:option|choice|answer)\s*(?:is\s*)?:?\s*\(?(?P<b>[A-J])\b\)?|^\s*(?P<c>[A-J])\s*$)", regex.M
)


def last_boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{...}`` or ``\\fbox{...}`` (braces nest), or None.

    One pass matches every brace (linear even for ``\\boxed{`` repeated 100,000 times).
    """
    matches = list(_BOXED.finditer(text, timeout=1.0))
    if not matches:
        return None
    closing: dict[int, int] = {}
    stack: list[int] = []
    position, end = matches[0].start(), len(text)
    while position < end:
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if char == "{":
            stack.append(position)
        elif char == "}" and stack:
            closing[stack.pop()] = position
        position += 1
    for match in reversed(matches):
        if match.group(1) is None:  # \boxed 5
            token = regex.match(r"\s*([^\s$]+)", text[match.end() : match.end() + 200])
            if token:
                return token.group(1)
            continue
        close = closing.get(match.end() - 1)
        if close is not None:
            return text[match.end() : close]
    return None


def _phrase(text: str) -> str | None:
    last = None
    for last in _PHRASE.finditer(text, timeout=1.0):
        pass
    if last is None:
        return None
    rest = last.group(1)
    span = _latex_span(rest.split("\n", 1)[0])
    if span is not None:
        return span
    rest = _SENTENCE_END.split(rest, maxsplit=1)[0]
    return rest.strip() or None


def _gsm8k(text: str) -> str | None:
    last = None
    for last in _GSM8K.finditer(text, timeout=1.0):
        pass
    return last.group(1).strip() or None if last else None


def _latex_span(text: str) -> str | None:
    """The last complete $...$, $$...$$, \\[...\\] or \\(...\\) span: one linear pass over the delimiters."""
    last = None
    opener = None  # (closing delimiter expected, content start)
    for match in _DELIMITER.finditer(text, timeout=1.0):
        token = match.group(0)
        if opener is None:
            if token in _CLOSER_OF:
                opener = (_CLOSER_OF[token], match.end())
        elif token == opener[0]:
            content = text[opener[1] : match.start()].strip()
            if content:
                last = content
            opener = None
    return last


def _number(text: str) -> str | None:
    last = None
    for last in _NUMBER.finditer(text, timeout=1.0):
        pass
    return last.group(0) if last else None


_METHODS = {"boxed": last_boxed, "phrase": _phrase, "gsm8k": _gsm8k, "latex": _latex_span, "number": _number}


def extract(text: str, methods: Sequence[str] = EXTRACTORS) -> tuple[str, str] | None:
    """``(answer, method)`` from the first method that finds an answer, or None."""
    for method in methods:
        found = _METHODS[method](text)
        if found:
            if method == "phrase":  # "The answer is $\boxed{5}$" and "Answer: #### 5" nest
                found = last_boxed(found) or found
            return found, method
    return None


def search_choice(text: str) -> str | None:
    """The last choice letter written as ``(B)``, ``option B``, ``answer: B`` or alone on a line."""
    last = None
    for last in _CHOICE_IN_TEXT.finditer(text, timeout=1.0):
        pass
    if last is None:
        return None
    return next(group for group in last.groups() if group is not None)
