"""Where the answer-bearing pieces of a model's output are: ``\\boxed{}`` contents, math spans, the
part after ``</think>`` and the ``<answer>`` tags.

Each scanner makes one linear pass (no backtracking regex over the same characters), so a
hostile output of a million ``\\boxed{`` or ``$`` costs one pass, not a quadratic search.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

__all__ = [
    "Span", "after_boxed_steps", "answer_parts", "boxed_contents", "joined_spans", "last_joined_boxes",
    "last_joined_spans", "math_spans", "thinking_unfinished",
    "without_delimiters",
]

_BOXED = regex.compile(r"\\(?:boxed|fbox)(?![A-Za-z])\s*(\{)?")
_BRACE = regex.compile(r"\\.|[{}]", regex.S)  # an escaped character is skipped whole
_BARE_BOX_TOKEN = regex.compile(r"\s*([^\s$]+)")  # \boxed 5
_DELIMITER = regex.compile(r"\$\$|\\\[|\\\]|\\\(|\\\)|(?<!\\)\$")
_CLOSER_OF = {"$$": "$$", "\\[": "\\]", "\\(": "\\)", "$": "$"}
_INLINE = ("$", "\\)")
_THINK_OPEN = regex.compile(r"<think(?:ing)?>", regex.I)
_THINK_CLOSE = regex.compile(r"</think(?:ing)?>", regex.I)
_ANSWER_TAG = regex.compile(r"<(/?)answer>", regex.I)
# what may stand between two spans of one answer: "$3$ or $4$", "$x=1$, $x=2$", "$1$ \quad\text{and} $2$"
_CONNECTOR = regex.compile(r"(?:\s*(?:,|;|&|\\q?quad|\\text\{\s*(?:and|or)\s*\}|and|or)){0,4}\s*")
# a variable naming the next value between two boxes: "x = \\boxed{1} or x = \\boxed{2}"
_ENDS_COMPUTATION = regex.compile(r"=\s*\$?\s*$")  # "... = \\boxed{200}": a box that is a step's result
_UNIT = regex.compile(r"^\s*[A-Za-z]{2,}(?=\s*(?:,|;|\band\b|\bor\b))")  # "\\boxed{1} paper and \\boxed{2} bins"
_NAMED = regex.compile(r"(?<![A-Za-z\\])[A-Za-z](?:_\{?\w{1,3}\}?)?\s*=")
MAX_CONNECTOR_CHARS = 60
MAX_BOXES = 50  # more boxes than any honest answer has: the rest are ignored (the joined list already fails)


@dataclass(frozen=True, slots=True)
class Span:
    """A math span ``$...$``, ``$$...$$``, ``\\(...\\)`` or ``\\[...\\]``: its bounds and stripped content."""

    start: int
    end: int
    content: str


def _closing_braces(text: str, start: int) -> dict[int, int]:
    """Position of each ``{`` from ``start`` on -> position of its ``}`` (escaped braces skipped)."""
    closing: dict[int, int] = {}
    stack: list[int] = []
    for brace in _BRACE.finditer(text, start, timeout=1.0):  # the C scanner skips the text between braces
        char = brace.group(0)
        if char == "{":
            stack.append(brace.start())
        elif char == "}" and stack:
            closing[stack.pop()] = brace.start()
    return closing


def boxed_contents(text: str) -> list[str]:
    """The contents of every complete ``\\boxed{...}`` / ``\\fbox{...}`` in order (braces nest).

    A box inside a box gives the inner content only; an unclosed box is skipped.
    """
    return [content for _, _, content in _boxes(text)]


def after_boxed_steps(text: str) -> str:
    """The text after the last box when every box ends a computation (``... = \\boxed{200}``); else "".

    Boxes that are intermediate results are no candidates: a later "Final Answer" states the answer.
    """
    boxes = _boxes(text)
    if not boxes or not all(_ENDS_COMPUTATION.search(text, max(start - 20, 0), start) for start, _, _ in boxes):
        return ""
    return text[boxes[-1][1] :]


def last_joined_boxes(text: str) -> list[str]:
    """The last box and the boxes joined to it by connectors only (``x = \\boxed{1}$ or $x = \\boxed{2}``).

    Boxes with prose between them are separate statements: only the last one counts.
    """
    boxes = _boxes(text)
    first = len(boxes) - 1
    while first > 0 and _joins(text[boxes[first - 1][1] : boxes[first][0]]):
        first -= 1
    return [content for _, _, content in boxes[max(first, 0) :]]


def _joins(gap: str) -> bool:
    """True when the text between two boxes only connects them (delimiters, names, a unit word aside)."""
    return _connects(_UNIT.sub("", _NAMED.sub(" ", _DELIMITER.sub(" ", gap)), 1))


def _boxes(text: str) -> list[tuple[int, int, str]]:
    """(start, end, stripped content) of every complete box, innermost kept, at most MAX_BOXES."""
    if "\\boxed" not in text and "\\fbox" not in text:
        return []
    matches = list(_BOXED.finditer(text, timeout=1.0))
    if not matches:
        return []
    closing = _closing_braces(text, matches[0].start())
    found: list[tuple[int, int, str]] = []  # (start, end, content)
    for match in matches:
        if match.group(1) is None:
            token = _BARE_BOX_TOKEN.match(text, match.end(), min(match.end() + 200, len(text)))
            if token:
                found.append((match.start(), token.end(), token.group(1)))
            continue
        close = closing.get(match.end() - 1)
        if close is not None:
            found.append((match.start(), close + 1, text[match.end() : close]))
    # keep the innermost: drop a box that contains the next one
    kept = [box for box, following in zip(found, found[1:] + [None]) if following is None or following[0] >= box[1]]
    return [(start, end, content.strip()) for start, end, content in kept[:MAX_BOXES] if content.strip()]


def math_spans(text: str) -> list[Span]:
    """Every complete math span in order: one pass over the delimiters.

    Inline spans (``$...$``, ``\\(...\\)``) stay on one line: a ``$`` whose partner is on a later
    line is a dollar sign ("costs $5 each.\\nThen $20"), and the next delimiter opens afresh.
    """
    spans = []
    opener: tuple[str, int, int] | None = None  # (closing delimiter expected, span start, content start)
    previous = 0  # end of the previous delimiter: each stretch of text is looked at once
    for match in _DELIMITER.finditer(text, timeout=1.0):
        token = match.group(0)
        if opener is not None and opener[0] in _INLINE and text.find("\n", previous, match.start()) >= 0:
            opener = None
        previous = match.end()
        if opener is not None and token == opener[0] and not _dollar_cannot_close(text, opener, match):
            content = text[opener[2] : match.start()].strip()
            if content:
                spans.append(Span(opener[1], match.end(), content))
            opener = None
        elif (opener is None or opener[0] == "$" == token) and token in _CLOSER_OF:
            opener = (_CLOSER_OF[token], match.start(), match.end())  # a $ that cannot close opens afresh
    return spans


def _dollar_cannot_close(text: str, opener: tuple[str, int, int], closer: regex.Match) -> bool:
    """``$2 = $18``: a ``$`` right before a digit, or after a space the opening one did not have, is a
    dollar sign (the rule Markdown renderers use), not the end of a span."""
    if opener[0] != "$":
        return False
    after = text[closer.end() : closer.end() + 1]
    spaced_inside = text[closer.start() - 1 : closer.start()].isspace() and not text[opener[2] : opener[2] + 1].isspace()
    return after.isdigit() or spaced_inside


def _connects(gap: str) -> bool:
    return len(gap) <= MAX_CONNECTOR_CHARS and _CONNECTOR.fullmatch(gap) is not None


def joined_spans(text: str, spans: list[Span]) -> str:
    """The first span and those joined to it by connectors only, as one answer without delimiters."""
    pieces = [spans[0].content]
    for previous, span in zip(spans, spans[1:]):
        gap = text[previous.end : span.start]
        if not _connects(gap):
            break
        pieces += [gap.strip() or ",", span.content]
    return " ".join(pieces)


def last_joined_spans(text: str, spans: list[Span]) -> str:
    """The last span with the spans joined to it before it ("we get $3$ or $4$" -> "3 or 4")."""
    first = len(spans) - 1
    while first > 0 and _connects(text[spans[first - 1].end : spans[first].start]):
        first -= 1
    return joined_spans(text, spans[first:])


def without_delimiters(text: str, spans: list[Span]) -> str:
    """The text with each span replaced by its content ("$1$ and $2$" -> "1 and 2")."""
    pieces, position = [], 0
    for span in spans:
        pieces += [text[position : span.start], span.content]
        position = span.end
    pieces.append(text[position:])
    return " ".join(piece.strip() for piece in pieces if piece.strip())


def thinking_unfinished(text: str) -> bool:
    """A ``<think>`` with no ``</think>`` after it: the output stopped while reasoning."""
    if "<" not in text:
        return False
    opened = None
    for opened in _THINK_OPEN.finditer(text, timeout=1.0):
        pass
    return opened is not None and _THINK_CLOSE.search(text, opened.end(), timeout=1.0) is None


def answer_parts(text: str) -> list[str]:
    """The parts of an output that may hold its final answer.

    Only what follows the last ``</think>`` counts (the reasoning before it is not the answer);
    an output that never closes its ``<think>`` has no part. When ``<answer>...</answer>`` tags
    are present, their contents are the parts.
    """
    if "<" not in text:
        return [text]
    if thinking_unfinished(text):
        return []
    closed = None
    for closed in _THINK_CLOSE.finditer(text, timeout=1.0):
        pass
    if closed is not None:
        text = text[closed.end() :]
    tagged = []
    opened = None  # where the content of the open tag starts
    for match in _ANSWER_TAG.finditer(text, timeout=1.0):  # one pass; a lazy .*? regex would be quadratic
        if not match.group(1):
            opened = match.end()
        elif opened is not None:
            if text[opened : match.start()].strip():
                tagged.append(text[opened : match.start()])
            opened = None
    return tagged or [text]
