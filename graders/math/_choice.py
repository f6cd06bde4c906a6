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
_ARTICLE_OR_PRONOUN = regex.compile(r"\s+(?!(?:is|was|seems|looks|appears|must|should)\b)[a-z]")  # "A triangle", "I think"
_NEGATED = regex.compile(
    r"(?i)(?:not|n't|never|rule\s+out|eliminate|exclude|rather\s+than|instead\s+of|neither|nor)\s+(?:be\s+)?(?:option\s+)?\(?$"
)
_HEDGE = regex.compile(
    r"\s*(?:\*\*)?\s*(?:,|/|&|;|\\lor|\\text\{\s*(?:or|and)\s*\}|(?i:or|and|und|et|ou|o|y|或|和))\s*(?:\*\*)?\s*(?:\(([A-Ja-j])\)|([A-J]))(?![A-Za-z0-9])"
)
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
_BARE_LETTERS = regex.compile(r"[\s(*$]*[A-J][\s).*$]*(?:,|/|or|and|&|$)")


def _letters_at(text: str, position: int) -> tuple[str, ...]:
    """The letter whose match starts a run at ``position``, and the letters hedged after it ("A or B, C")."""
    letters = []
    for _ in range(MAX_LETTERS):
        hedge = _HEDGE.match(text, position, timeout=1.0)
        if hedge is None:
            break
        letters.append((hedge.group(1) or hedge.group(2)).upper())
        position = hedge.end()
    return tuple(letters)


def letters_in(text: str) -> tuple[str, ...]:
    """The first letter named in ``text`` (skipping "A"/"I" as words and negated letters), with its hedges."""
    for match in _LETTER.finditer(text, timeout=1.0):
        letter = (match.group(1) or match.group(2)).upper()
        if match.group(2) in ("A", "I") and _ARTICLE_OR_PRONOUN.match(text, match.end()):
            continue
        if _NEGATED.search(text, max(0, match.start() - 40), match.start(), timeout=1.0):
            continue
        return tuple(dict.fromkeys((letter, *_letters_at(text, match.end()))))
    return ()


def _in_prose(text: str) -> tuple[str, ...]:
    listed = {match.group(1) for match in _LISTED_OPTION.finditer(text, timeout=1.0)}
    last = None
    for match in _PROSE.finditer(text, timeout=1.0):
        if match.group(6) is not None and len(listed) >= 3:
            continue  # "(A) 12 (B) 15 (C) 18": the question's options, not an answer
        last = match
    if last is None:
        return ()
    letter = next(group for group in last.groups() if group is not None).upper()
    return tuple(dict.fromkeys((letter, *_letters_at(text, last.end()))))


def _in_part(text: str) -> tuple[str, ...]:
    boxes = boxed_contents(text)
    if boxes:
        letters = [parse_choice(box) or "".join(letters_in(box)) for box in boxes]
        found = tuple(dict.fromkeys(letter for group in letters if group for letter in group))
        if found:
            return found
    sentence = answer_sentence(text)
    if sentence is not None:
        found = letters_in(sentence)
        if found:
            return found
    if len(text.strip()) <= MAX_BARE_CHARS:  # "B", "(C).", "A or B or C"
        whole = parse_choice(text)
        if whole:
            return (whole,)
        if _BARE_LETTERS.match(text):
            return letters_in(text)
    return _in_prose(text)


def find_choice(text: str) -> tuple[str, ...]:
    """The letters an output settles on: one for an answer, several for a hedge, none when it names none."""
    letters: dict[str, None] = {}
    for part in answer_parts(text):
        letters.update(dict.fromkeys(_in_part(part)))
    return tuple(letters)
