"""Reading a judge's verdict from its reply, never guessing: score_model and label_model against a
local OpenAI-compatible server that sends each reply as it is written here."""

from __future__ import annotations

import json

import pytest

from judge_server import JudgeServer, completion
from rft_core import Result, Status, load_spec

FAST = {"timeout": 2.0, "max_retries": 0, "cache": False, "max_concurrency": 1}
LABELS = ["correct", "incorrect", "partially-correct"]


@pytest.fixture(scope="module")
def server():
    with JudgeServer(lifetime=120) as running:
        yield running


def judged(server, spec: dict, reply: str | None) -> Result:
    """The Result of a judge whose server answers ``reply`` (the message content, None for no content)."""
    server.script = lambda body, number: completion(reply)
    spec = {"model": "judge-model", "input": [{"role": "user", "content": "Grade {{ sample.output_text }}"}],
            "base_url": server.base_url, **FAST, **spec}
    return load_spec(spec).grade("the answer", {})


def score_verdict(server, reply: str | None) -> Result:
    return judged(server, {"type": "score_model", "range": [0, 10]}, reply)


def label_verdict(server, reply: str | None) -> Result:
    return judged(server, {"type": "label_model", "labels": LABELS, "passing_labels": ["correct"]}, reply)


def no_verdict(result: Result) -> bool:
    return (result.status, result.error_code, result.reward) == (Status.PARSE_ERROR, "model_grader_parse_error", 0.0)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"steps": [], "result": 0.8}', 0.8),  # the structured-output shape
        ('  {"result": 3}  ', 3.0),  # whitespace around it
        ('{"result": "0.5"}', 0.5),  # a numeric string
        ('Here you go:\n```json\n{"steps": [], "result": 7}\n```', 7.0),  # fenced
        ('Reasoning... {"note": "x"} then {"steps": [], "result": 4.5} done', 4.5),  # the last {...} with result
        ("Score: 8/10", 8.0),  # a score line; the denominator is not the score
        ("**Final score:** 6", 6.0),  # markdown emphasis
        ("rating = 2.5", 2.5),
        ("score: 1\nOn reflection, score: 0", 0.0),  # the last line wins
        ("0.9", 0.9),  # only a number
        ("1e-1", 0.1),
    ],
    ids=["json", "padded", "numeric_string", "fenced", "embedded", "slash", "markdown", "equals", "last_line",
         "bare", "exponent"],
)
def test_score_verdict(server, text, value):
    result = score_verdict(server, text)
    assert result.ok, result
    assert result.reward == pytest.approx(value)
    assert result.metadata["score"] == pytest.approx(value) and "clamped" not in result.metadata


def test_the_steps_of_a_json_verdict_are_kept(server):
    steps = [{"description": "compare", "conclusion": "same"}]
    fenced = score_verdict(server, 'Here:\n```json\n{"steps": ' + json.dumps(steps) + ', "result": 7}\n```')
    assert (fenced.reward, fenced.metadata["steps"]) == (7.0, steps)
    assert "steps" not in score_verdict(server, "Score: 7/10").metadata  # a score line has none


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
def test_no_score_verdict(server, text):
    assert no_verdict(score_verdict(server, text))


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
def test_label_verdict(server, text, label):
    result = label_verdict(server, text)
    assert result.ok and result.metadata["label"] == label
    assert result.reward == (1.0 if label == "correct" else 0.0)


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
def test_no_label_verdict(server, text):
    assert no_verdict(label_verdict(server, text))


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("I'm sorry, but I can't help with that.", True),
        ("I cannot evaluate this content.", True),
        ("As an AI, I won't grade this.", True),
        ("Sorry, I am unable to comply.", True),
        ("The sample says I'm sorry but gives no number.", False),  # not at the start
        ("", False),
        (None, False),
    ],
    ids=["sorry", "cannot", "as_an_ai", "sorry_comma", "quoted", "empty", "none"],
)
def test_a_refusal_is_told_from_an_unreadable_reply(server, text, refusal):
    """A reply with no score is a refusal when it starts as one (error code and metadata say so)."""
    result = score_verdict(server, text)
    assert (result.status, result.reward) == (Status.PARSE_ERROR, 0.0)
    assert result.error_code == ("model_grader_refusal_error" if refusal else "model_grader_parse_error")
    assert result.metadata.get("refusal", False) is refusal


def test_a_quoted_apology_with_a_score_is_a_verdict(server):
    result = score_verdict(server, "The sample says I'm sorry but is correct. Score: 1")
    assert result.ok and result.reward == 1.0 and "refusal" not in result.metadata


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
def test_hostile_replies_parse_in_linear_time_and_fail_closed(server, text):
    """Megabyte-scale replies built to make regexes backtrack: each is read in milliseconds
    (a quadratic pattern would take minutes here) and none yields a verdict."""
    assert no_verdict(score_verdict(server, text))
    assert no_verdict(label_verdict(server, text))
