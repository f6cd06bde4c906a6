"""Answer phrases ("The final answer is", "Answer:", "答案是", "Réponse :", "Therefore, ... is") and the
value that follows one.

The patterns are bounded (no nested quantifiers over the same characters) and every search has
a timeout on top; the text after a phrase is read from a window of at most ``WINDOW`` characters.
"""

from __future__ import annotations

import string

import regex

from ._spans import Span, joined_spans, math_spans, without_delimiters

__all__ = ["answer_sentence", "conclusion_sentence", "has_final_phrase", "value_of"]

WINDOW = 3000  # characters after a phrase that may hold its answer
MAX_CONCLUSIONS = 20  # the last conclusions looked at (each reads a window)

# "final answer" in several languages and PRM800K's "# Answer" heading: the strongest markers; "is"/":" optional
_FINAL = (
    r"\#{1,6}\s*answer|final\s+answer|r[ée]ponse\s+finale|respuesta\s+final|resposta\s+final|risposta\s+finale"
    r"|endg[üu]ltige\s+antwort|окончательный\s+ответ|итоговый\s+ответ|最终答案|最終答案|最終的な答え"
)
_ANSWER = (
    r"answer|r[ée]ponse|respuesta|resposta|risposta|antwort|ответ|答案|解答|答え|정답|jawaban|cevap|jibu|উত্তর|คำตอบ"
    r"|సమాధానం"
)  # the MGSM languages among them
# "The answer to part (a) is": a short qualifier between the word and its verb
_QUALIFIER = r"(?:\s+(?:to|for|of)\s[^.:\n$]{0,50}?)?"
_VERB = (
    r"\s*(?:\*\*)?\s*(?:(?:is|was|will\s+be|would\s+be|should\s+be|must\s+be|equals|est|es|ist|lautet|è|é)(?![A-Za-z])"
    r"|[:：=是为為は은는])"
)
_ANSWER_WORDS = ("answer", "réponse", "reponse", "respuesta", "resposta", "risposta", "antwort", "ответ", "答", "정답",
                 "jawaban", "cevap", "jibu", "উত্তর", "คำตอบ", "సమాధానం")  # every phrase below holds one of these
_FINAL_PHRASE = regex.compile(rf"(?i)(?<![A-Za-z])(?:{_FINAL})(?:\*\*)?(?:{_QUALIFIER}{_VERB})?\s*[:：]?")
_ANSWER_PHRASE = regex.compile(rf"(?i)(?<![A-Za-z])(?:{_ANSWER}){_QUALIFIER}{_VERB}\s*[:：]?")
_CONCLUSIONS = ("therefore", "thus", "hence", "so", "consequently", "in total", "altogether", "in conclusion",
                "overall", "finally", "donc", "daher", "por lo tanto", "因此", "所以")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)  # keeps every position
_CLAUSE_START = regex.compile(r"(?:^|[.!?;,\n])[\s*]{0,8}$")  # a conclusion word opens a sentence or clause
_LEAD = regex.compile(r"[\s,:：*_`>]{0,40}")  # between a phrase and its answer: spaces, colons, Markdown (never a minus sign)
_SENTENCE_END = regex.compile(r"\.(?=\s*$|\s+[^a-z0-9\s])|\.\s*\n|[。！？?]|\n")
_COPULA = regex.compile(
    r"(?i)(?<![A-Za-z\\])(?:is|are|was|were|equals|equal\s+to|comes\s+to|est|ist|es|è|是|为|為)(?![A-Za-z])|(?<![<>!=\\])=(?!=)"
)
# a subject that only names the answer: words and names ($n$, $a_1$, $\theta$, $f(x)$), no digits or operators
_NAME = regex.compile(r"\\?[A-Za-z]+(?:_\{?\w+\}?)?(?:\([A-Za-z]\))?")
_NOT_A_NAME = regex.compile(r"[\d+*/^=<>]|\s-\s")
_MATH_AFTER = regex.compile(r"\s*[=<>+*/^\d-]")
_APPOSITION = regex.compile(r"(?i)(?:which|that|this|it)\s*$")  # "5, which is prime": not a subject
_LEADING_WORDS = regex.compile(
    r"(?:(?!(?:sqrt|pi|sin|cos|tan|log|ln|exp|frac|infty|inf)(?![A-Za-z]))[A-Za-z][a-z']+[\s,]+)+"
)
_DIGIT = regex.compile(r"\d")
_PROSE_NUMBER = regex.compile(r"(?<![A-Za-z0-9.,])\d+(?:[.,]\d+)*(?![A-Za-z0-9])")  # not a digit inside a word
_NEGATION = regex.compile(r"(?i)\b(?:not|never|no)\b|n't")


def _last(pattern: regex.Pattern, text: str) -> regex.Match | None:
    last = None
    for last in pattern.finditer(text, timeout=1.0):
        pass
    return last


def has_final_phrase(text: str) -> bool:
    """True when the text holds a "final answer" marker (the strongest kind)."""
    return _FINAL_PHRASE.search(text, timeout=1.0) is not None


def answer_sentence(text: str) -> str | None:
    """The text after the last "final answer" phrase (else the last "answer is" phrase), to its sentence's end."""
    folded = text.casefold()
    if not any(word in folded for word in _ANSWER_WORDS):  # a substring test is far cheaper than the regex
        return None
    match = _last(_FINAL_PHRASE, text) or _last(_ANSWER_PHRASE, text)
    return _sentence(text, match.end())[0] if match else None


def _conclusion_ends(text: str) -> list[int]:
    """Where each conclusion word that opens a sentence or clause ends, in order.

    ``str.find`` per word: a case-insensitive alternation tried at every position costs ~100x more.
    """
    folded = text.translate(_ASCII_LOWER)
    ends = []
    for word in _CONCLUSIONS:
        position = folded.find(word)
        while position >= 0:
            end = position + len(word)
            if (
                (position == 0 or folded[position - 1] not in string.ascii_lowercase)
                and (end == len(folded) or folded[end] not in string.ascii_lowercase)
                and (
                    _CLAUSE_START.search(folded, max(0, position - 9), position)
                    or (text[position].isupper() and text[position - 1] in " \t")  # line breaks flattened away
                )
            ):
                ends.append(end)
            position = folded.find(word, end)
    return sorted(ends)


def conclusion_sentence(text: str) -> str | None:
    """The last sentence opened by "Therefore", "Thus", "So", "In total"... that states a value ("is 42",
    "$x = 5$"), unless a math span comes after it (then that later span is the answer)."""
    spans = math_spans(text)
    last_span = spans[-1].start if spans else -1
    for start in _conclusion_ends(text)[-MAX_CONCLUSIONS:][::-1]:
        sentence, end = _sentence(text, start)
        if sentence is None or end <= last_span:
            continue
        inner = math_spans(sentence)
        if _subject_split(sentence, inner) is not None:
            return sentence  # "So the total is 42 apples"
        if inner and _DIGIT.search(inner[0].content) and not _DIGIT.search(sentence, 0, inner[0].start):
            return sentence  # "Thus, $x = 5$."
        if spans and not inner and len(_PROSE_NUMBER.findall(sentence)) == 1:
            return sentence  # "Therefore, the error increases by 100%.": prose with one number after the last math span
    return None


def _sentence(text: str, start: int) -> tuple[str | None, int]:
    """The text from ``start`` to the end of its sentence (math spans are never cut), and where it ends."""
    window = text[start : start + WINDOW]
    lead = _LEAD.match(window).end()
    window = window[lead:]
    spans = math_spans(window)
    inside = iter(spans)
    span = next(inside, None)
    stop = len(window)
    for end in _SENTENCE_END.finditer(window, timeout=1.0):
        while span is not None and span.end <= end.start():
            span = next(inside, None)
        if span is None or end.start() < span.start:  # not inside a span
            stop = end.start()
            break
    return window[:stop].strip() or None, start + lead + stop


def _subject_split(sentence: str, spans: list[Span]) -> str | None:
    """The part after "is"/"=" when the part before only names the answer ("The largest $n$ is 34" -> "34")."""
    for copula in _COPULA.finditer(sentence, timeout=1.0):
        if any(span.start <= copula.start() < span.end for span in spans):
            continue
        before, after = sentence[: copula.start()], sentence[copula.end() :]
        outside = "".join(_outside(before, spans))
        named = all(_NAME.fullmatch(span.content) for span in spans if span.end <= copula.start())
        if _NOT_A_NAME.search(outside) or not named or len(before) > 120 or _APPOSITION.search(before):
            return None  # "5, which is prime", "$x + y$ = 5": the part before is not only a name
        if _DIGIT.search(after) or "$" in after or "\\" in after:
            return after.strip()
        return None
    return None


def _outside(text: str, spans: list[Span]) -> list[str]:
    pieces, position = [], 0
    for span in spans:
        if span.start >= len(text):
            break
        pieces.append(text[position : span.start])
        position = span.end
    pieces.append(text[position:])
    return pieces


def value_of(sentence: str) -> str | None:
    """The answer in an answer sentence: the value after a naming subject, a leading math span, or the text."""
    spans = math_spans(sentence)
    after = _subject_split(sentence, spans)
    if after is not None:
        sentence, spans = after, math_spans(after)
    if spans and not _DIGIT.search(sentence, 0, spans[0].start):
        if _MATH_AFTER.match(sentence, spans[0].end):  # "$x + y$ = 5": the math goes on past the span
            return without_delimiters(sentence[spans[0].start :], math_spans(sentence[spans[0].start :]))
        return joined_spans(sentence, spans)  # "probably $5$ or $6$" -> "5 or 6"
    words = _LEADING_WORDS.match(sentence)
    if words is not None and _NEGATION.search(words.group(0)):
        return None  # "not 5, it is 6": the value is not the first number; the last number decides
    if words is not None and _DIGIT.search(sentence, words.end()):
        sentence = sentence[words.end() :]  # "for sure 42 apples" -> "42 apples"
    sentence = sentence.strip()
    return sentence.removesuffix("**").strip() if sentence.count("**") == 1 else sentence or None  # "**18**."
