"""Reading a judge's verdict out of its reply: structured JSON first, then free text; never guess.

``score_verdict(text)`` and ``label_verdict(text, labels)`` return a ``Verdict``
or ``None`` when the reply holds no unambiguous verdict (the grader then fails
closed: status parse_error, reward 0). ``looks_like_refusal(text)`` spots a
model declining to grade. Nothing here evaluates the text.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Verdict", "json_verdict", "label_verdict", "looks_like_refusal", "score_verdict"]

MAX_REPLY_CHARS = 200_000  # longer replies are cut before parsing (the verdict is near the end)

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S | re.I)
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
# Every pattern is linear in the reply: no two unbounded runs can trade characters (no nested
# or adjacent \s*), and captured text is bounded, so a hostile reply cannot make parsing slow.
_GAP = r"[ \t]{0,20}"  # spaces between a keyword, its colon and its value
_SCORE_LINE = re.compile(
    rf"""(?:\bresult|\bfinal {{1,3}}score|\bscore|\brating|\bgrade)\**{_GAP}["']?[:=]{_GAP}\**{_GAP}({_NUMBER})"""
    rf"""(?:{_GAP}/{_GAP}({_NUMBER}))?""",
    re.I,
)
_BARE_NUMBER = re.compile(rf"({_NUMBER})\.?")
_LABEL_LINE = re.compile(
    rf"""(?:\bresult|\blabel|\banswer|\bverdict|\bclassification|\bcategory)\**{_GAP}["']?[:=]{_GAP}\**{_GAP}["'`]?"""
    r"""([^"'`\n*.,;]{1,100})""",
    re.I,
)
_REFUSAL = re.compile(
    r"^\s*(?:i'?m sorry|i am sorry|sorry,|i can(?:no|')t|i cannot|i'?m (?:not able|unable)|i am (?:not able|unable)"
    r"|i won'?t|i will not|as an ai)",
    re.I,
)


@dataclass(slots=True)
class Verdict:
    """A judge's verdict: a number (score_model) or a label (label_model), and how it was read."""

    value: Any
    structured: bool  # read from a JSON object with a "result" key
    steps: list[Any] = field(default_factory=list)


def _json_objects(text: str) -> list[dict[str, Any]]:
    """JSON objects in the text: the whole text, fenced blocks, then each {...} span, last first."""
    found: list[dict[str, Any]] = []
    candidates = [text.strip()] + [block.strip() for block in _FENCE.findall(text)]
    for candidate in candidates:
        value = _loads(candidate)
        if isinstance(value, dict):
            found.append(value)
    if found:
        return found
    decoder = json.JSONDecoder()
    position = text.rfind("{")
    tries = 0
    while position != -1 and tries < 50:  # bounded: a reply full of braces cannot make this quadratic forever
        tries += 1
        try:
            value, _ = decoder.raw_decode(text, position)
        except (ValueError, RecursionError):
            value = None
        if isinstance(value, dict) and "result" in value:
            found.append(value)
            break
        position = text.rfind("{", 0, position)
    return found


def _loads(text: str) -> Any:
    if not text or text[0] not in "{[":
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and re.fullmatch(rf"\s*{_NUMBER}\s*", value):
        number = float(value)
    else:
        return None
    return number if math.isfinite(number) else None


def _steps(obj: dict[str, Any]) -> list[Any]:
    steps = obj.get("steps")
    return steps if isinstance(steps, list) else []


def score_verdict(text: str | None) -> Verdict | None:
    """The score in a judge's reply, or None.

    Read in order: a JSON object with a numeric ``result`` (the whole reply, a
    fenced block, or the last ``{...}`` holding ``result``); else the last
    ``result:`` / ``score:`` / ``rating:`` / ``grade:`` line (``7/10`` gives 7);
    else a reply that is only a number.
    """
    if not text:
        return None
    text = text[-MAX_REPLY_CHARS:]
    for obj in _json_objects(text):
        if "result" in obj:
            number = _as_number(obj["result"])
            return Verdict(number, True, _steps(obj)) if number is not None else None
    matches = _SCORE_LINE.findall(text)
    if matches:
        number = _as_number(matches[-1][0])
        if number is not None:
            return Verdict(number, False)
    bare = _BARE_NUMBER.fullmatch(text.strip().strip("*").strip())
    if bare:
        number = _as_number(bare.group(1))
        if number is not None:
            return Verdict(number, False)
    return None


def json_verdict(text: str | None) -> Verdict | None:
    """The ``result`` of the JSON object in a reply, whatever its type (a list, an object), or None.

    For verdicts with no free-text form (a rubric's per-criterion answers, a group's scores):
    the caller checks the value's shape and fails closed on anything else.
    """
    if not text:
        return None
    for obj in _json_objects(text[-MAX_REPLY_CHARS:]):
        if "result" in obj:
            return Verdict(obj["result"], True, _steps(obj))
    return None


def label_verdict(text: str | None, labels: list[str], *, mentions: bool = True) -> Verdict | None:
    """The label in a judge's reply, or None; only one of ``labels`` counts.

    Read in order: a JSON object whose ``result`` is a label; else the last
    ``label:`` / ``result:`` / ``answer:`` / ``verdict:`` line naming a label;
    else a reply that is just a label; else (``mentions``) the one label the reply mentions as a
    word (a reply mentioning two different labels has no verdict). Labels that are common words
    ("A", "yes") turn ``mentions`` off: prose mentions them without meaning a verdict.
    Matching ignores case and surrounding quotes and punctuation.
    """
    if not text:
        return None
    text = text[-MAX_REPLY_CHARS:]
    by_key = {_label_key(label): label for label in labels}
    for obj in _json_objects(text):
        if "result" in obj:
            value = obj["result"]
            label = by_key.get(_label_key(value)) if isinstance(value, str) else None
            return Verdict(label, True, _steps(obj)) if label is not None else None
    for candidate in reversed(_LABEL_LINE.findall(text)):
        label = by_key.get(_label_key(candidate))
        if label is not None:
            return Verdict(label, False)
    whole = by_key.get(_label_key(text))
    if whole is not None:
        return Verdict(whole, False)
    if not mentions:
        return None
    mentioned = {
        label
        for key, label in by_key.items()
        if key and re.search(rf"(?<![\w-]){re.escape(key)}(?![\w-])", text, re.I)
    }
    if len(mentioned) == 1:
        return Verdict(mentioned.pop(), False)
    return None


def _label_key(value: str) -> str:
    return value.strip().strip("\"'`*.,;:!()[]").strip().casefold()


def looks_like_refusal(text: str | None) -> bool:
    """True when a reply opens like a refusal ("I'm sorry, but I can't ...")."""
    return bool(text) and _REFUSAL.match(text[:200]) is not None
