"""Find the final answer in a model's output.

Only the part after ``</think>`` counts, and inside ``<answer>`` tags when there are any. In
that part the methods are tried in order: every ``\\boxed{}``, an answer phrase, a GSM8K
``####`` line, the whole part when it is a bare math answer, the last math span, the last
number of prose, a short text. Several different answers (boxes, tags) come back as one list, which does not
equal a single reference: offering candidates is not answering.

Every pattern here is linear (no nested quantifiers over the same characters), and the
regex module's timeout bounds each search on top.
"""

from __future__ import annotations

from collections.abc import Sequence

import regex

from ._phrases import answer_sentence, conclusion_sentence, value_of
from ._spans import answer_parts, boxed_contents, last_boxed, last_joined_spans, math_spans, without_delimiters

__all__ = ["EXTRACTORS", "extract", "last_boxed", "looks_like_math"]

EXTRACTORS = ("boxed", "phrase", "gsm8k", "whole", "latex", "number", "text")
"""The default extraction order; the first method that finds something wins."""

_GSM8K = regex.compile(r"####\s*([^\n]*)")
_NUMBER = regex.compile(
    # not inside a word or a code ("AZYUK2A", "x_2"), not the tail of another number
    r"(?<![A-Za-z_\d.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*\d+)?(?!\d|\.\d|[A-Z])"
    r"|(?<![A-Za-z_\d])-?\.\d+(?![\d.])"
)
# a list in prose: "none, yes, 0, 1, 42" ends with its last item
_LIST_SEPARATOR = regex.compile(r"(?:,|;|\s(?:or|and))\s*$")
# "(1, 2)", "[0, 1)", "none", "\text{(C)}"; never the words "or"/"and" that join items
_ITEM = r"(?!(?:or|and)(?:\s|$))(?:\([^()]{1,60}\)|\[[^\[\]]{1,60}\]|[^\s,;:]{1,60})"
_LIST_ITEM = regex.compile(rf"(?:^|\s)({_ITEM}(?:\s{_ITEM}){{0,2}})$")
_BRACKETED = regex.compile(r"[(\[][^()\[\]]{0,60}$")  # the last number inside "(1, 2)": the tuple is the item
_CLOSING = regex.compile(r"[^()\[\]]{0,60}[)\]]")
MAX_LIST_ITEMS = 200
NUMBER_WINDOW = 80  # characters before the last digit that one number (with its separators) may span
_FOLLOWING_ITEMS = regex.compile(r"(?:\s*(?:,|;|\s(?:or|and))\s*[^\s,;.][^,;\n]{0,60}){2,50}")  # two items or more
_NUMBERED_ITEM = regex.compile(r"(?:^|\n)[ \t]*\d{1,3}[.)][ \t]*$")
_NUMBERED_LINES = regex.compile(r"(?m)^[ \t]*\d{1,3}[.)]\s")
_LAST_DIGIT = regex.compile(r"(?r)\d")  # searched backwards from the end
_VERBS = frozenset("is are was were be could would might may can equals equal makes gives get gets has have".split())
_NOT_ITEMS = frozenset(
    "so then thus hence therefore total finally overall altogether now well here answer result sum".split()
)  # "So, in total, 42" is a sentence, not a list
# --- a bare answer: short, and no word of prose in it ---
MAX_WHOLE_CHARS = 1000
MAX_TEXT_CHARS = 60
_MATH_WORDS = frozenset(
    "sqrt pi sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh ln log exp inf infty infinity oo abs "
    "factorial binomial and or mod gcd lcm min max det".split()
)
_ENGLISH_PAIRS = frozenset("is it so be to of in at an as by if on we me my no do go he up us am ok hi".split())
_WORD = regex.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")
_TEXT_GROUP = regex.compile(r"\\(?:text|mbox|mathrm|textrm|textbf|operatorname|begin|end)\s*\{[^{}]{0,60}\}")
_NOT_MATH = regex.compile(r"[#?\"@]|[^\x00-\x7f\u0370-\u03ff\u2200-\u22ff\u00b0-\u00bf\u00d7\u00f7\u2070-\u209f\u2212]")


def looks_like_math(text: str) -> bool:
    """Short text with no word of prose: an answer written bare (``\\frac{10}{9}``, ``x^2+2x+1``, ``3 or 4``)."""
    if len(text) > MAX_WHOLE_CHARS or _NOT_MATH.search(text, timeout=1.0):
        return False
    for word in _WORD.finditer(_TEXT_GROUP.sub(" ", text), timeout=1.0):
        name = word.group(0).lower()
        if name not in _MATH_WORDS and (len(name) > 2 or name in _ENGLISH_PAIRS):
            return False
    return any(char.isalnum() for char in text)


def _boxed(text: str) -> str | None:
    contents = boxed_contents(text)
    return ", ".join(_distinct(contents)) if contents else None


def _phrase(text: str) -> str | None:
    sentence = answer_sentence(text) or conclusion_sentence(text)
    if sentence is None:
        return None
    value = value_of(sentence)
    if value is not None and "####" in value:  # "Answer: #### 5"
        value = value.rsplit("####", 1)[1].strip()
    return value or None


def _gsm8k(text: str) -> str | None:
    last = None
    for last in _GSM8K.finditer(text, timeout=1.0):
        pass
    return last.group(1).strip() or None if last else None


def _whole(text: str) -> str | None:
    text = text.strip()
    if not looks_like_math(text):
        return None
    return without_delimiters(text, math_spans(text)) or None


def _latex(text: str) -> str | None:
    spans = [span for span in math_spans(text) if looks_like_math(span.content)]  # "$5 each and $20": dollars
    return last_joined_spans(text, spans) if spans else None


def _last_number(text: str) -> regex.Match | None:
    """The last number, found backwards from the last digit (a forward regex scan of a long chain of
    thought costs ~50x more): each window reaches from before a digit to just past it."""
    end = len(text)
    while end > 0:
        found = _LAST_DIGIT.search(text, 0, end, timeout=1.0)
        if found is None:
            return None
        digit = found.start()
        window_start = max(0, digit - NUMBER_WINDOW)
        last = None
        for last in _NUMBER.finditer(text, window_start, min(len(text), digit + 3), timeout=1.0):
            pass
        if last is not None:
            return last
        end = window_start
    return None


def _bracketed(text: str, start: int, stop: int) -> tuple[int, int] | None:
    """The bounds of the bracket group around ``text[start:stop]`` ("(1, 2)", "[0, 1)"), or None."""
    opener = _BRACKETED.search(text, max(0, start - 60), start, timeout=1.0)
    closer = _CLOSING.match(text, stop, min(len(text), stop + 61), timeout=1.0) if opener else None
    return (opener.start(), closer.end()) if closer else None


def _list_start(text: str, start: int) -> tuple[int, list[str]]:
    """Where the list of items ending at ``start`` begins ("none, yes, 0, 1, 42"), and its earlier items."""
    items: list[str] = []
    for _ in range(MAX_LIST_ITEMS):
        before = text[max(0, start - 200) : start]
        separator = _LIST_SEPARATOR.search(before, timeout=1.0)
        item = separator and _LIST_ITEM.search(before, 0, separator.start(), timeout=1.0)
        words = item.group(1).split() if item else []
        if not words or words[-1].lower() in _NOT_ITEMS:
            break
        verbs = [index for index, word in enumerate(words) if word.lower() in _VERBS]
        if verbs:  # "It could be 3, 4 or 5": the list starts after the verb
            if verbs[-1] + 1 < len(words):
                items.append(" ".join(words[verbs[-1] + 1 :]))
                start -= len(before) - item.start(1) - len(" ".join(words[: verbs[-1] + 1])) - 1
            break
        items.append(item.group(1))
        start -= len(before) - item.start(1)
    return start, items


def _number(text: str) -> str | None:
    """The last number of prose (the bracket group around it, if any). When it ends a list of
    candidates ("none, yes, 0, 1, 42", a numbered list, the same value over and over), the list."""
    last = _last_number(text)
    if last is None:
        return None
    bounds = _bracketed(text, last.start(), last.end())
    start, stop = bounds or last.span()
    if _NUMBERED_ITEM.search(text, max(0, start - 12), start) and len(_NUMBERED_LINES.findall(text)) > 1:
        return text[_NUMBERED_LINES.search(text).start() : stop].strip()  # "1. 7\n2. 12\n3. 42"
    list_start, items = _list_start(text, start)
    following = _FOLLOWING_ITEMS.match(text, stop, timeout=1.0)
    if following:  # "12, \text{Monday}, Evelyn, yes": more candidates after the last number
        stop = following.end()
    if following or len(items) >= 2 or any(char.isdigit() for item in items for char in item):
        return text[list_start:stop].strip()  # graded as the list, which fails a single reference
    return _repeated_run(text, start, text[start:stop])


def _repeated_run(text: str, start: int, found: str) -> str:
    """``found`` with the copies of it right before it ("(0, 3) (0, 3) (0, 3)"): degenerate text, not an answer."""
    copies = 1
    while copies < MAX_LIST_ITEMS:
        before = text[:start].rstrip()
        if not before.endswith(found) or len(before) == len(found):
            break
        start, copies = len(before) - len(found), copies + 1
    return " ".join([found] * copies)


def _text(text: str) -> str | None:
    """A short output with no math in it ("Evelyn", "Monday"): compared as text with a text reference."""
    text = text.strip()
    return text if 0 < len(text) <= MAX_TEXT_CHARS else None


_METHODS = {
    "boxed": _boxed, "phrase": _phrase, "gsm8k": _gsm8k, "whole": _whole, "latex": _latex, "number": _number,
    "text": _text,
}  # fmt: skip


def _distinct(answers: list[str]) -> list[str]:
    """In order, without repeats (spacing ignored): ``\\boxed{3}`` twice is one answer."""
    seen: dict[str, str] = {}
    for answer in answers:
        seen.setdefault("".join(answer.split()), answer)
    return list(seen.values())


def _first(text: str, methods: Sequence[str]) -> tuple[str, str] | None:
    for method in methods:
        found = _METHODS[method](text)
        if found:
            return found, method
    return None


def extract(text: str, methods: Sequence[str] = EXTRACTORS) -> tuple[str, str] | None:
    """``(answer, method)`` from the first method that finds an answer, or None.

    Several ``<answer>`` tags with different answers give the list of them.
    """
    found = [answer for answer in (_first(part, methods) for part in answer_parts(text)) if answer]
    if not found:
        return None
    return ", ".join(_distinct([answer for answer, _ in found])), found[-1][1]
