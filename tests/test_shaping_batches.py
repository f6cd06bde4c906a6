"""Randomized checks that the batch paths of ``repetition`` and ``tool_call`` give exactly what
grading one sample at a time gives, and that repetition's numpy n-gram counts equal plain Python
sets of ``str.split()`` n-grams (collisions, odd whitespace, surrogates and caps included)."""

from __future__ import annotations

import json
import random
import sys
from itertools import permutations

import pytest

from graders.shaping.repetition import Repetition
from graders.tool_call.tool_call import ToolCall
from rft_core import Status

pytest.importorskip("numpy")
from graders.shaping.ngram_counts import CHUNK_CHARS, distinct_ngrams, ngram_shares

# pieces of text: words, every kind of separator str.split() knows, and characters it does not split on
PIECES = ["a", "b", "ab", "é", "日本", "\ud800", "x\x00y", "\u200b", " ", "  ", "\n", "\t", "\u2003", "\u3000",
          "\x85", "\x1c", "\xa0", "\u2028", ".", "so we check again "]


def python_counts(text: str, n: int, keep: int) -> tuple[int, int]:
    """(distinct n-grams, n-grams) of the text's last ``keep`` words, with a Python set."""
    words = text.split()[-keep:]
    grams = [tuple(words[start : start + n]) for start in range(len(words) - n + 1)]
    return len(set(grams)), len(grams)


def random_text(rng: random.Random) -> str:
    text = "".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 60)))
    if rng.random() < 0.2:
        text += rng.choice(PIECES[:4]) * rng.randrange(2, 30)  # a loop of one word (or one long word)
    return text


def thue_morse(order: int) -> tuple[str, str]:
    """Two different words with the same polynomial hash modulo 2**64, whatever the multiplier."""
    word = "a"
    for _ in range(order):
        word += word.translate(str.maketrans("ab", "ba"))
    return word, word.translate(str.maketrans("ab", "ba"))


@pytest.mark.parametrize("seed", range(4))
def test_numpy_counts_equal_python_sets(seed):
    rng = random.Random(seed)
    for _ in range(150):
        texts = [random_text(rng) for _ in range(rng.randrange(1, 20))]
        n, keep = rng.randrange(1, 6), rng.choice([1, 3, 10, 20_000])
        counts = distinct_ngrams(texts, n, keep)
        assert counts is not None
        assert list(zip(*(array.tolist() for array in counts))) == [python_counts(text, n, keep) for text in texts]


def test_every_whitespace_character_splits_and_no_other_does():
    spaces = [chr(point) for point in range(sys.maxunicode + 1) if chr(point).isspace()]
    rng = random.Random(5)
    others = [chr(rng.randrange(sys.maxunicode + 1)) for _ in range(3000)]
    texts = [f"x{char}y x{char}y" for char in spaces + others]
    counts = distinct_ngrams(texts, 1, 100)
    assert counts is not None
    assert list(zip(*(array.tolist() for array in counts))) == [python_counts(text, 1, 100) for text in texts]


def test_two_words_with_the_same_hash_are_told_apart():
    first, second = thue_morse(11)
    texts = [f"{first} {second}", f"{first} {first}"] * 10
    assert distinct_ngrams(texts, 1, 100) is None  # the collision is found, not counted as a repeat
    grader = Repetition(n=1)
    batched = grader.grade_batch(texts, [{}] * len(texts))
    assert batched == [grader.grade(text) for text in texts]
    assert [result.metadata["repeated"] for result in batched[:2]] == [0.0, 0.5]


def test_long_texts_are_chunked_and_a_text_over_the_chunk_is_left_to_python():
    loop = "so we check again " * (CHUNK_CHARS // 40)
    texts = [loop, "a b c d e", loop, ""]
    assert ngram_shares(texts, 4, 20_000) == [1.0 - python_counts(t, 4, 20_000)[0] / python_counts(t, 4, 20_000)[1]
                                              if python_counts(t, 4, 20_000)[1] else 0.0 for t in texts]
    assert ngram_shares(["x " * CHUNK_CHARS], 4, 20_000) is None


def hostile_texts(rng: random.Random) -> list[str]:
    """~300 texts: random ones plus huge, empty, unicode and loop texts."""
    texts = [random_text(rng) for _ in range(280)]
    texts += ["", " ", "\n\n", "x " * 450_000, "x" * 999_999, "\ud800 \x00 " * 50_000, "日本 語 " * 5_000,
              ". " * 100_000, "I think so. " * 1_000, thue_morse(11)[0] + " " + thue_morse(11)[1]]
    rng.shuffle(texts)
    return texts


@pytest.mark.parametrize("seed", range(3))
def test_repetition_batches_equal_one_by_one_on_random_configs(seed):
    rng = random.Random(seed)
    texts = hostile_texts(rng)
    for _ in range(3):
        fields = {"n": rng.randrange(1, 6), "max_units": rng.choice([5, 50, 20_000]),
                  "threshold": rng.choice([0.0, 0.1, 0.5]), "factor": rng.choice([0.5, 1.0, 2.0])}
        grader = Repetition(**fields)
        start = rng.randrange(0, 100)
        batch = texts[start : start + rng.randrange(16, 300)]
        assert grader.grade_batch(batch, [{}] * len(batch)) == [grader.grade(text) for text in batch], fields


# --- tool_call -----------------------------------------------------------------------------------

VALUES = [1, 1.0, 2, True, False, None, "1", "Paris", "", [1, 2], [True], {"a": 1}, {"a": 1.0}, {"a": True},
          "\ud800", "日本", 2**70, -0.0, 1e300]
NAMES = ["weather", "time", "search", "Weather", ""]


VALID = [value for value in VALUES if value not in ("\ud800", 2**70)]  # both are valid Python, not for orjson


def random_arguments(rng: random.Random, values: list = VALUES) -> dict:
    return {rng.choice("abcd"): rng.choice(values) for _ in range(rng.randrange(0, 4))}


def random_made_call(rng: random.Random, expected: list[dict]):
    """A made call: a copy of an expected one (maybe altered, keys reordered) or a new or malformed one."""
    kind = rng.random()
    if expected and kind < 0.6:
        want = rng.choice(expected)
        arguments = dict(reversed(want["arguments"].items())) if rng.random() < 0.3 else dict(want["arguments"])
        if rng.random() < 0.3 and arguments:
            arguments[rng.choice(list(arguments))] = rng.choice(VALUES)
        name = want["name"] if rng.random() < 0.9 else rng.choice(NAMES)
    else:
        name, arguments = rng.choice(NAMES), random_arguments(rng)
    try:
        text = json.dumps(arguments, indent=rng.choice([None, 1]), ensure_ascii=rng.random() < 0.5)
    except (TypeError, ValueError):
        text = "{}"
    shape = rng.random()
    if shape < 0.55:
        return {"id": "c", "type": "function", "function": {"name": name, "arguments": text}}
    if shape < 0.7:
        return {"name": name, "arguments": arguments}  # flat, arguments an object
    return rng.choice([
        {"function": {"name": name, "arguments": text[:-1] or "{"}},  # cut JSON
        {"function": {"name": name, "arguments": "[1, 2]"}},
        {"function": {"name": name, "arguments": ""}},
        {"function": {"name": name}},
        {"function": {"name": 7, "arguments": text}},
        {"function": None, "name": name, "arguments": text},
        {"function": "weather"},
        {"function": {}},
        "not a call",
        None,
        {"function": {"name": name, "arguments": "{\"a\": " * 300 + "1" + "}" * 300}},  # nested too deeply
        {"function": {"name": name, "arguments": json.dumps({"a": "x" * 200})}},  # over max_argument_chars below
    ])


def random_rows(rng: random.Random, count: int) -> tuple[list, list]:
    samples, items = [], []
    shared = None
    for _ in range(count):
        if shared is not None and rng.random() < 0.3:
            item = shared  # a group of samples answering the same prompt
        else:
            expected = [{"name": rng.choice(NAMES[:3]), "arguments": random_arguments(rng)}
                        for _ in range(rng.randrange(0, 4))]
            item = {"tool_calls": rng.choice([expected, expected, json.dumps(expected, default=str), "not json",
                                              [{"type": "function", "function": call} for call in expected]])}
            shared = item
        expected = item["tool_calls"] if isinstance(item["tool_calls"], list) else []
        expected = [call.get("function", call) for call in expected]
        made = [random_made_call(rng, expected) for _ in range(rng.randrange(0, 5))]
        samples.append({"output_tools": rng.choice([made, made, made, made, "calls", None])})
        items.append(item)
    return samples, items


@pytest.mark.parametrize("seed", range(4))
def test_tool_call_batches_equal_one_by_one_on_random_configs(seed):
    rng = random.Random(seed)
    samples, items = random_rows(rng, 300)
    for fields in [{}, {"ordered": True}, {"arguments": "subset"}, {"metric": "exact"},
                   {"metric": rng.choice(["precision", "recall"]), "max_calls": 3, "max_argument_chars": 100}]:
        grader = ToolCall(**fields)
        batched = grader.grade_batch(samples, items)
        assert batched == [grader.grade(s, i) for s, i in zip(samples, items)], fields
        assert {result.status for result in batched} >= {Status.OK, Status.PARSE_ERROR, Status.ERROR}


def json_same(left, right) -> bool:
    """JSON equality, written independently of the grader: true is not 1, 1 is 1.0."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_same(left[key], right[key]) for key in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(json_same, left, right))
    return type(left) is type(right) and left == right


def reference_f1(expected: list[dict], made: list[dict]) -> float:
    """F1 of the best one-to-one pairing, found by trying every assignment."""
    made_calls = [(call["function"]["name"], json.loads(call["function"]["arguments"])) for call in made]
    width = max(len(made_calls), len(expected))
    best = max((sum(slot < len(made_calls) and expected[row]["name"] == made_calls[slot][0]
                    and json_same(expected[row]["arguments"], made_calls[slot][1])
                    for row, slot in enumerate(order) if row < len(expected))
                for order in permutations(range(width))), default=0)
    if not expected or not made_calls:
        return float(not expected and not made_calls)
    precision, recall = best / len(made_calls), best / len(expected)
    return 2 * precision * recall / (precision + recall) if best else 0.0


def test_tool_call_f1_equals_a_brute_force_reference():
    rng = random.Random(11)
    samples, items = [], []
    for _ in range(400):
        expected = [{"name": rng.choice(NAMES[:3]), "arguments": random_arguments(rng, VALID)}
                    for _ in range(rng.randrange(0, 4))]
        made = []
        for _ in range(rng.randrange(0, 4)):
            source = rng.choice(expected) if expected and rng.random() < 0.7 else {
                "name": rng.choice(NAMES[:3]), "arguments": random_arguments(rng, VALID)}
            arguments = dict(source["arguments"])
            if arguments and rng.random() < 0.3:
                arguments[rng.choice(list(arguments))] = rng.choice(VALID)
            made.append({"type": "function", "function": {"name": source["name"], "arguments": json.dumps(arguments)}})
        samples.append({"output_tools": made})
        items.append({"tool_calls": expected})
    results = ToolCall().grade_batch(samples, items)
    assert all(result.ok for result in results)
    rewards = [result.reward for result in results]
    assert rewards == pytest.approx([reference_f1(i["tool_calls"], s["output_tools"]) for s, i in zip(samples, items)])
