"""Find the choice letter (A-J) a multiple-choice answer settles on, and tell a hedge from an answer.

``I think it's B``, ``The answer is for sure D, it can't be A or B``, ``(C)``, ``Option C`` and
``**C**`` each settle on one letter. ``A or B``, ``\\boxed{A}`` then ``\\boxed{B}`` and ``A, B, C``
name several: they come back as all the letters named, which never equal one reference.
"""

from __future__ import annotations

import regex

from ._phrases import answer_sentence
from ._spans import answer_parts, boxed_contents

__all__ = ["find_choice"]

_LETTER = regex.compile(r"(?<![A-Za-z0-9'’\\])(?:\(([A-Ja-j])\)|([A-J]))(?![A-Za-z0-9'’])")
_ARTICLE_OR_PRONOUN = regex.compile(r"\s+(?!(?:is|was|seems|looks|appears|must|should|or|and)\b)[a-z]")  # "A triangle", "I think"
_NEGATED = regex.compile(
    r"(?i)(?:not|n't|never|rule\s+out|eliminate|exclude|rather\s+than|instead\s+of|neither|nor)\s+(?:be\s+)?(?:option\s+)?\(?$"
)
_SEPARATOR = r"(?:,|/|&|;|\\lor|\\text\{\s*(?:or|and)\s*\}|(?<![A-Za-z])(?i:or|and|und|et|ou|o|y)(?![A-Za-z])|或|和)"
# what may wrap a candidate: \text{(C)}, **C**, $C$
_OPEN = r"(?:\\(?:text|textbf|mathrm|mathbf)\s*\{|\*\*|\$|\()*"
_CLOSE = r"(?:[)}$]|\*\*)*"
# another candidate right after the letter ("B, 72", "A or B", "B B", "\text{(C)}, \text{Monday}")
_NEXT = regex.compile(
    rf"{_CLOSE}\s*(?:{_SEPARATOR}\s*{_OPEN}\s*(?:([A-Ja-j])(?![A-Za-z0-9])|(-?\d+(?:[./]\d+)*|\\[A-Za-z]+|[(\[]|[A-Z][a-z]+))"
    rf"|\s+{_OPEN}([A-J]){_CLOSE}(?![A-Za-z0-9]))"
)
# another candidate right before it ("72 or B", "Monday, \text{(C)}", "C C"), unless a connective ("So, C")
_PREVIOUS = regex.compile(rf"(\S+?)[*:.]*\s*({_SEPARATOR})\s*{_OPEN}\s*$")
_SAME_BEFORE = regex.compile(rf"(?<![A-Za-z0-9]){_OPEN}\(?[A-J]\)?{_CLOSE}\s+{_OPEN}$")
_CONNECTIVES = frozenset("so therefore thus hence well ok okay hmm yes answer is then now sure".split())
_NUMBERED_ITEM = regex.compile(r"(?:^|\n)[ \t]*\d{1,3}[.)][ \t]*" + _OPEN + r"$")  # "20. \text{(C)}"
_NUMBERED_LINES = regex.compile(r"(?m)^[ \t]*\d{1,3}[.)]\s")
_PROSE = regex.compile(
    r"(?i:it'?s|it\s+is|i\s+think|i\s+choose|i\s+pick|i\s+select|i'?d\s+(?:go\s+with|choose|pick|say)|go\s+with"
    r"|(?:option|choice|answer)\s*:?\s*(?:is\s*:?\s*)?)\s*(?:option\s+|choice\s+)?(?:\*\*)?\s*(?:\(([A-Ja-j])\)|([A-J]))(?![A-Za-z0-9'’])"
    r"|\*\*\s*\(?([A-J])\)?\s*\*\*"  # **C**, **(C)**
    r"|(?:^|\n)\s*\(?([A-J])\)?\s*\.?\s*(?:$|\n)"  # alone on a line
    r"|(?<![A-Za-z0-9])\(?([A-J])\)?\s+is\s+(?:the\s+)?(?:correct|right|best)"
    r"|(?<![A-Za-z0-9\\])\(([A-J])\)(?![A-Za-z0-9])"  # (C) anywhere, unless the text lists the options
)
_LISTED_OPTION = regex.compile(r"(?<![A-Za-z0-9])\(([A-J])\)")
MAX_LETTERS = 10
MAX_BARE_CHARS = 40
MIN_LISTED_OPTIONS = 3
# B, \mathrm{E}, **C**; not E*2 (a product with a variable named E)
_BARE_LETTER = regex.compile(rf"\s*(?:(?i:option|choice)\s*)?{_OPEN}\s*[A-J](?![A-Za-z0-9])(?!(?:[)}}$]|\*\*)*+\s*+[-+*/^=_])")


def _run(text: str, start: int, end: int, letter: str) -> tuple[str, ...]:
    """The letter at ``text[start:end]`` with every candidate listed next to it ("A or B", "B, 72", "B B B").

    One candidate is an answer; a run of several (even the same letter again) is a hedge.
    """
    run = [letter]
    previous = _PREVIOUS.search(text, max(0, start - 60), start, timeout=1.0)
    if previous and (previous.group(2) != "," or previous.group(1).casefold() not in _CONNECTIVES):
        run.append("...")  # something was listed before it
    elif _SAME_BEFORE.search(text, max(0, start - 60), start, timeout=1.0):
        run.append("...")  # a letter right before it: "C C C"
    elif _NUMBERED_ITEM.search(text, max(0, start - 60), start, timeout=1.0) and len(_NUMBERED_LINES.findall(text)) > 1:
        run.append("...")  # an item of a numbered list of candidates
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
        found = _combine(run for run in map(letters_in, boxes) if run)
        if found:
            return found
    sentence = answer_sentence(text)
    if sentence is not None:
        found = letters_in(sentence)
        if found:
            return found
    if len(text.strip()) <= MAX_BARE_CHARS and _BARE_LETTER.match(text) and not _lists_options(text):
        return letters_in(text)  # "B", "(C).", "B) 42", "Option C", "A or B or C"
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
