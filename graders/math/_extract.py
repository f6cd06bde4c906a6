"""Find the final answer in a model's output.

Only the part after ``</think>`` counts, and inside ``<answer>`` tags when there are any. In
that part the methods are tried in order: every ``\\boxed{}``, an answer phrase, a GSM8K
``####`` line, the whole part when it is a bare math answer, the last math span, the last
number of prose, a short text. Several different answers (boxes, tags) come back as one list,
which does not equal a single reference: offering candidates is not answering.

Every pattern here is linear (no nested quantifiers over the same characters), and the
regex module's timeout bounds each search on top.
"""

from __future__ import annotations

from collections.abc import Sequence

import regex

from ._phrases import answer_sentence, conclusion_sentence, has_final_phrase, value_of
from ._prose_number import last_number_answer
from ._spans import (
    after_boxed_steps,
    answer_parts,
    boxed_contents,
    last_joined_boxes,
    last_joined_spans,
    math_spans,
    without_delimiters,
)

__all__ = ["EXTRACTORS", "extract", "looks_like_math", "solution_boxed"]

EXTRACTORS = ("boxed", "phrase", "gsm8k", "whole", "latex", "number", "text")
"""The default extraction order; the first method that finds something wins."""

_GSM8K = regex.compile(r"####\s*([^\n]*)")
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


def _every_boxed(text: str) -> str | None:
    if has_final_phrase(after_boxed_steps(text)):
        return None  # boxed steps (= \boxed{200}), then "Final Answer: ...": the phrase states the answer
    contents = boxed_contents(text)
    return ", ".join(_distinct(contents)) if contents else None


def solution_boxed(text: str) -> str | None:
    """The answer of a worked solution: its last box, with the boxes joined to it (``\\boxed{4}`` or ``\\boxed{-3}``)."""
    contents = last_joined_boxes(text)
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


def _text(text: str) -> str | None:
    """A short output with no math in it ("Evelyn", "Monday"): compared as text with a text reference."""
    text = text.strip()
    return text if 0 < len(text) <= MAX_TEXT_CHARS else None


_METHODS = {
    "boxed": _every_boxed, "phrase": _phrase, "gsm8k": _gsm8k, "whole": _whole, "latex": _latex, "number": last_number_answer,
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
