"""graders/judge/_verdict: reading a judge's verdict from its reply, never guessing."""

from __future__ import annotations

import pytest

from graders.judge._verdict import label_verdict, looks_like_refusal, score_verdict


@pytest.mark.parametrize(
    ("text", "value", "structured"),
    [
        ('{"steps": [], "result": 0.8}', 0.8, True),  # the structured-output shape
        ('  {"result": 3}  ', 3.0, True),  # whitespace around it
        ('{"result": "0.5"}', 0.5, True),  # a numeric string
        ('Here you go:\n```json\n{"steps": [], "result": 7}\n```', 7.0, True),  # fenced
        ('Reasoning... {"note": "x"} then {"steps": [], "result": 4.5} done', 4.5, True),  # the last {...} with result
        ("Score: 8/10", 8.0, False),  # a score line; the denominator is not the score
        ("**Final score:** 6", 6.0, False),  # markdown emphasis
        ("rating = 2.5", 2.5, False),
        ("score: 1\nOn reflection, score: 0", 0.0, False),  # the last line wins
        ("0.9", 0.9, False),  # only a number
        ("1e-1", 0.1, False),
    ],
    ids=["json", "padded", "numeric_string", "fenced", "embedded", "slash", "markdown", "equals", "last_line",
         "bare", "exponent"],
)
def test_score_verdict(text, value, structured):
    verdict = score_verdict(text)
    assert verdict is not None
    assert (verdict.value, verdict.structured) == (pytest.approx(value), structured)


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        '{"steps": [], "result": "high"}',  # result that is not a number: no verdict, not a guess
        '{"steps": [], "result": true}',  # a bool is not a score
        '{"steps": [], "result": NaN}',  # not finite
        '{"steps": [], "result": ',  # cut off
        "The answer is good, maybe 7 or 8 out of 10.",  # numbers in prose without a score line
        "{" * 10_000,  # hostile: many braces
    ],
    ids=["none", "empty", "word", "bool", "nan", "truncated", "prose_numbers", "braces"],
)
def test_no_score_verdict(text):
    assert score_verdict(text) is None


LABELS = ["correct", "incorrect", "partially-correct"]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ('{"steps": [], "result": "correct"}', "correct"),
        ('{"result": "INCORRECT"}', "incorrect"),  # case is ignored
        ("Verdict: partially-correct.", "partially-correct"),
        ("label: 'correct'", "correct"),
        ("`incorrect`", "incorrect"),  # the reply is just a label
        ("This one is partially-correct overall", "partially-correct"),  # one label mentioned
        ("Answer: incorrect\n\nLabel: correct", "correct"),  # the last label line wins
    ],
    ids=["json", "case", "verdict_line", "label_line", "bare", "mention", "last_line"],
)
def test_label_verdict(text, label):
    verdict = label_verdict(text, LABELS)
    assert verdict is not None and verdict.value == label


@pytest.mark.parametrize(
    "text",
    [
        "",
        '{"result": "excellent"}',  # not a label: no verdict even though text follows
        "It is correct in parts but incorrect overall.",  # two labels: ambiguous
        "no idea",
        "incorrectly formatted",  # 'incorrect' only as part of a word
    ],
    ids=["empty", "unknown", "ambiguous", "none", "substring"],
)
def test_no_label_verdict(text):
    assert label_verdict(text, LABELS) is None


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("I'm sorry, but I can't help with that.", True),
        ("I cannot evaluate this content.", True),
        ("As an AI, I won't grade this.", True),
        ("Sorry, I am unable to comply.", True),
        ("The sample says I'm sorry but is correct. Score: 1", False),  # not at the start
        ("", False),
        (None, False),
    ],
    ids=["sorry", "cannot", "as_an_ai", "sorry_comma", "quoted", "empty", "none"],
)
def test_looks_like_refusal(text, refusal):
    assert looks_like_refusal(text) is refusal


HOSTILE = {
    "label_lines": "label: aaaa " * 30000 + "*x",  # was quadratic with an unbounded lazy capture
    "score_words": "score: " * 30000 + "x",
    "score_spaces": "score" + " " * 200_000 + "x",  # adjacent whitespace runs must not trade characters
    "star_spaces": "result**" + " \t" * 100_000 + "*" * 1000,
    "braces": "{" * 200_000,
    "nested_open": '{"a": ' * 30000,
    "fences": "```json\n{" * 20000,
    "bare_spaces": " " * 100_000 + "*" * 100_000 + "1x",
    "label_mentions": "correct incorrect " * 10000,
}


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_replies_parse_in_linear_time_and_fail_closed(text):
    """Megabyte-scale replies built to make regexes backtrack: each is read in milliseconds
    (a quadratic pattern would take minutes here) and none yields a verdict."""
    assert score_verdict(text) is None
    assert label_verdict(text, LABELS) is None
