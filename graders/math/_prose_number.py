"""The answer of prose that names no other: its last number, or the list of candidates that number ends.

"So she makes 18 dollars" gives ``18``; "none, yes, 0, 1, 42", a numbered list of candidates
and ``(0, 3) (0, 3)`` give the whole list, which never equals a single reference. The last
number is searched backwards from the last digit, so a long chain of thought costs little.
"""

from __future__ import annotations

import regex

__all__ = ["last_number_answer"]

_NUMBER = regex.compile(
    # not inside a word or a code ("AZYUK2A", "x_2"), not the tail of another number
    r"(?<![A-Za-z_\d.])[-\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*\d+)?(?!\d|\.\d|[A-Z])"
    r"|(?<![A-Za-z_\d])[-\u2212]?\.\d+(?![\d.])"
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


def last_number_answer(text: str) -> str | None:
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
