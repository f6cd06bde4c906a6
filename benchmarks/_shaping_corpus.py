"""A reproducible corpus of reasoning outputs and tool calls for the shaping-grader benchmarks."""

from __future__ import annotations

import json
import random

from _corpus import ANSWERS, WRONG

WORDS = ("first we note that the value follows from the given facts so we compute it step by step and check "
         "each result against the question before we commit to one final answer").split()
TOOLS = ("get_weather", "get_time", "search", "convert_units")


def reasoning_outputs(count: int, seed: int = 0) -> list[str]:
    """``count`` outputs in <think>/<answer> form, 20-80 words of reasoning; about a quarter break the
    format (two answers, a hedge, text outside, an empty answer) and a tenth loop."""
    rng = random.Random(seed)
    outputs = []
    for _ in range(count):
        index = rng.randrange(len(ANSWERS))
        think = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(20, 80)))
        if rng.random() < 0.1:
            think += " so we check again" * 12
        answer = ANSWERS[index]
        kind = rng.random()
        if kind < 0.06:
            text = f"<think>{think}</think><answer>{WRONG[index]}</answer><answer>{answer}</answer>"
        elif kind < 0.12:
            text = f"<think>{think}</think>\n<answer>{WRONG[index]} or {answer}</answer>"
        elif kind < 0.18:
            text = f"Sure! <think>{think}</think>\n<answer>{answer}</answer>"
        elif kind < 0.24:
            text = f"<think>{think}</think>\n<answer> </answer>"
        else:
            text = f"<think>{think}</think>\n<answer>{answer}</answer>"
        outputs.append(text)
    return outputs


def tool_rows(count: int, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """``count`` (sample, item) pairs: one or two expected calls; about half the samples match exactly,
    the rest call another function, change an argument, or add a call."""
    rng = random.Random(seed)
    samples, items = [], []
    for _ in range(count):
        expected = [
            {"name": rng.choice(TOOLS), "arguments": {"city": rng.choice(ANSWERS), "days": rng.randrange(1, 8)}}
            for _ in range(rng.choice((1, 1, 2)))
        ]
        made = [dict(call, arguments=dict(call["arguments"])) for call in expected]
        kind = rng.random()
        if kind < 0.15:
            made[0]["name"] = rng.choice(TOOLS)
        elif kind < 0.3:
            made[0]["arguments"]["days"] += 1
        elif kind < 0.45:
            made.append({"name": "search", "arguments": {"query": "weather"}})
        calls = [{"id": f"call_{n}", "type": "function",
                  "function": {"name": call["name"], "arguments": json.dumps(call["arguments"])}}
                 for n, call in enumerate(made)]
        samples.append({"output_tools": calls})
        items.append({"tool_calls": expected})
    return samples, items
