"""Find the choice letter (A-J) a multiple-choice answer settles on, and tell a hedge from an answer.

``I think it's B``, ``The answer is for sure D, it can't be A or B``, ``(C)``, ``Option C`` and
``**C**`` each settle on one letter. ``A or B``, ``\\boxed{A}`` then ``\\boxed{B}`` and ``A, B, C``
name several: they come back as all the letters named, which never equal one reference.
"""

from __future__ import annotations

import regex

from ._parse import parse_choice
from ._phrases import answer_sentence
from ._spans import answer_parts, boxed_contents

__all__ = ["find_choice"]

_LETTER = regex.compile(r"(?<![A-Za-z0-9'’\\])(?:\(([A-Ja-j])\)|([A-J]))(?![A-Za-z0-9'’])")
_ARTICLE_OR_PRONOUN = regex.compile(r"\s+(?!(?:is|was|seems|looks|appears|must|should|or|and)\b)[a-z]")  # "A triangle", "I think"
_NEGATED = regex.compile(
    r"(?i)(?:not|n't|never|rule\s+out|eliminate|exclude|rather\s+than|instead\s+of|neither|nor)\s+(?:be\s+)?(?:option\s+)?\(?$"
)
_SEPARATOR = r"(?:,|/|&|;|\\lor|\\text\{\s*(?:or|and)\s*\}|(?i:or|and|und|et|ou|o|y)(?![A-Za-z])|或|和)"
# another candidate right after the letter ("B, 72", "A or B", "B B"): a letter, a number, a command, a bracket
_NEXT = regex.compile(
    rf"\)?(?:\*\*)?\s*(?:{_SEPARATOR}\s*(?:\*\*)?\s*(?:\(([A-Ja-j])\)|([A-J])(?![A-Za-z0-9])|(-?\d+(?:[./]\d+)*|\\[A-Za-z]+|[(\[]))"
    r"|\s+\(?([A-J])\)?(?![A-Za-z0-9]))"
)
# another candidate right before it ("72 or B", "3, B")
_PREVIOUS = regex.compile(rf"(?:(?<![A-Za-z])[A-J]|[0-9}})\]])\)?(?:\*\*)?\s*{_SEPARATOR}\s*(?:\*\*)?\s*\(?$")
_PROSE = regex.compile(
    r"(?i:it'?s|it\s+is|i\s+think|i\s+choose|i\s+pick|i\s+select|i'?d\s+(?:go\s+with|choose|pick|say)|go\s+with"
    r"|option|choice|answer\s*:?\s*(?:is\s*)?)\s*(?:option\s+|choice\s+)?(?:\*\*)?\s*(?:\(([A-Ja-j])\)|([A-J]))(?![A-Za-z0-9'’])"
    r"|\*\*\s*\(?([A-J])\)?\s*\*\*"  # **C**, **(C)**
    r"|(?:^|\n)\s*\(?([A-J])\)?\s*\.?\s*(?:$|\n)"  # alone on a line
    r"|(?<![A-Za-z0-9])\(?([A-J])\)?\s+is\s+(?:the\s+)?(?:correct|right|best)"
    r"|(?<![A-Za-z0-9\\])\(([A-J])\)(?![A-Za-z0-9])"  # (C) anywhere, unless the text lists the options
)
_LISTED_OPTION = regex.compile(r"(?<![A-Za-z0-9])\(([A-J])\)")
MAX_LETTERS = 10
MAX_BARE_CHARS = 40
MIN_LISTED_OPTIONS = 3
_BARE_LETTERS = regex.compile(r"[\s(*$]*[A-J][\s).*$]*(?:,|/|or|and|&|$)")


def _run(text: str, start: int, end: int, letter: str) -> tuple[str, ...]:
    """The letter at ``text[start:end]`` with every candidate listed next to it ("A or B", "B, 72", "B B B").

    One candidate is an answer; a run of several (even the same letter again) is a hedge.
    """
    run = [letter]
    if _PREVIOUS.search(text, max(0, start - 60), start, timeout=1.0):
        run.append("...")  # something was listed before it
    position = end
    for _ in range(MAX_LETTERS):
        following = _NEXT.match(text, position, timeout=1.0)
        if following is None:
            break
        candidate = next(group for group in following.groups() if group is not None)
        run.append(candidate.upper() if len(candidate) == 1 else candidate)
        position = following.end()
    return tuple(run)


def letters_in(text: str) -> tuple[str, ...]:
    """The first letter named in ``text`` (skipping "A"/"I" as words and negated letters), with its hedges."""
    for match in _LETTER.finditer(text, timeout=1.0):
        letter = (match.group(1) or match.group(2)).upper()
        if match.group(2) in ("A", "I") and _ARTICLE_OR_PRONOUN.match(text, match.end()):
            continue
        if _NEGATED.search(text, max(0, match.start() - 40), match.start(), timeout=1.0):
            continue
        return _run(text, match.start(), match.end(), letter)
    return ()


def _lists_options(text: str) -> bool:
    """"(A) 12 (B) 15 (C) 18": the question's options copied back, not an answer."""
    listed = {match.group(1) for match in _LISTED_OPTION.finditer(text, timeout=1.0)}
    return len(listed) >= MIN_LISTED_OPTIONS


def _in_prose(text: str) -> tuple[str, ...]:
    options_listed = _lists_options(text)
    last = None
    for match in _PROSE.finditer(text, timeout=1.0):
        if match.group(6) is not None and options_listed:
            continue
        last = match
    if last is None:
        return ()
    group = next(index for index, value in enumerate(last.groups(), start=1) if value is not None)
    return _run(text, last.start(group), last.end(group), last.group(group).upper())


def _in_part(text: str) -> tuple[str, ...]:
    boxes = boxed_contents(text)
    if boxes:
        runs = [(parse_choice(box),) if parse_choice(box) else letters_in(box) for box in boxes]
        found = _combine(run for run in runs if run)
        if found:
            return found
    sentence = answer_sentence(text)
    if sentence is not None:
        found = letters_in(sentence)
        if found:
            return found
    if len(text.strip()) <= MAX_BARE_CHARS and not _lists_options(text):  # "B", "(C).", "A or B or C"
        whole = parse_choice(text)
        if whole:
            return (whole,)
        if _BARE_LETTERS.match(text):
            return letters_in(text)
    return _in_prose(text)


def _combine(runs) -> tuple[str, ...]:
    """Several places (boxes, answer tags) naming the same one letter name it once; anything else is a hedge."""
    combined: list[str] = []
    for run in runs:
        if len(run) == 1 and run[0] in combined:
            continue
        combined += run
    return tuple(combined)


def find_choice(text: str) -> tuple[str, ...]:
    """The candidates an output settles on: one letter for an answer, several for a hedge, none when it names none."""
    return _combine(_in_part(part) for part in answer_parts(text))
