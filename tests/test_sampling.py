"""rft sample: k samples per prompt from a real HTTP server on 127.0.0.1 (tests/judge_server.py)
and from a tiny random local causal LM, written as rows rft score reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from judge_server import JudgeServer, Reply, completion, completions, error
from tiny_models import llama_config, word_tokenizer

from rft_core.cli import main
from rft_core.kernel.errors import RftError
from rft_core.integrations.sampling import (
    ItemSamples,
    SampleOptions,
    SampleTotals,
    output_row,
    read_prompt_rows,
    sample_file,
)
from rft_core.integrations.sampling_api import ApiSampler
from rft_core.integrations.sampling_local import LocalSampler

ONE_OBJECT = "; the data file holds one JSON object a line"  # what the row reader says a bad line should be
RFT = [sys.executable, "-m", "rft_core.cli"]
ROWS = [
    {"prompt": "capital of France?", "answer": "Paris", "id": "a"},
    {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}], "answer": "4"},
    {"prompt": [{"role": "user", "content": "capital of Italy?"}], "answer": "Rome"},
]


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Each test has its own cache and no inherited OpenAI settings."""
    monkeypatch.setenv("RFT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RFT_NO_CACHE", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def last_user(body: dict) -> str:
    return body["messages"][-1]["content"]


def echo(body: dict, number: int) -> Reply:
    """n choices, each naming the prompt, the seed and the choice: every sample is traceable to its request."""
    return completions([f"{last_user(body)}|seed={body.get('seed')}|{j}" for j in range(body.get("n", 1))],
                       prompt_tokens=10, completion_tokens=3)


@pytest.fixture
def server():
    with JudgeServer(echo, lifetime=60) as running:
        yield running


def write_rows(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def sample(tmp_path, server, *extra: str, rows=ROWS, k: int = 3) -> list[dict]:
    data = write_rows(tmp_path / "data.jsonl", rows)
    out = tmp_path / "samples.jsonl"
    argv = ["sample", str(data), "-o", str(out), "--model", "policy", "-k", str(k), "--base-url", server.base_url,
            "--max-retries", "2", "--no-progress", *extra]
    assert main(argv) == 0
    return read_rows(out)


def test_one_request_with_n_gives_k_samples_per_row_in_order(tmp_path, server, capsys):
    out = sample(tmp_path, server, "--seed", "7", "--temperature", "0.8", "--max-tokens", "64", "--top-p", "0.9")
    assert [row["completions"] for row in out] == [
        [f"capital of France?|seed=7|{j}" for j in range(3)],
        [f"2+2?|seed=7|{j}" for j in range(3)],
        [f"capital of Italy?|seed=7|{j}" for j in range(3)],
    ]
    assert [{key: value for key, value in row.items() if key != "completions"} for row in out] == ROWS
    assert server.count == 3
    by_prompt = {last_user(body): body for body in server.requests}
    assert by_prompt["2+2?"] == {
        "model": "policy", "messages": ROWS[1]["messages"], "temperature": 0.8, "top_p": 0.9, "max_tokens": 64,
        "seed": 7, "n": 3,
    }
    assert by_prompt["capital of France?"]["messages"] == [{"role": "user", "content": "capital of France?"}]
    assert capsys.readouterr().err.strip() == (
        "3 items: 9 samples; 3 requests, 0 samples from the cache; tokens: 30 prompt + 9 completion = 39"
    )


def test_one_sample_per_request_gives_sample_j_seed_plus_j(tmp_path, server):
    out = sample(tmp_path, server, "--seed", "7", "--one-sample-per-request")
    assert out[0]["completions"] == [f"capital of France?|seed={7 + j}|0" for j in range(3)]
    assert server.count == 9 and all("n" not in body for body in server.requests)
    assert sorted((last_user(body), body["seed"]) for body in server.requests if last_user(body) == "2+2?") == [
        ("2+2?", 7), ("2+2?", 8), ("2+2?", 9)
    ]


@pytest.mark.parametrize("answer", [
    pytest.param(lambda body: completion(f"{last_user(body)} {body['seed']}"), id="n-ignored"),
    pytest.param(lambda body: error(400, "n must be 1") if "n" in body
                 else completion(f"{last_user(body)} {body['seed']}"), id="n-rejected"),
])
def test_a_server_without_n_gets_one_request_per_missing_sample(tmp_path, server, answer):
    server.script = lambda body, number: answer(body)
    out = sample(tmp_path, server, "--seed", "0", "--concurrency", "1")
    prompts = ["capital of France?", "2+2?", "capital of Italy?"]
    assert [row["completions"] for row in out] == [[f"{prompt} {j}" for j in range(3)] for prompt in prompts]
    assert server.requests[0]["n"] == 3
    for prompt in prompts:
        separate = sorted(body["seed"] for body in server.requests if "n" not in body and last_user(body) == prompt)
        assert separate in ([1, 2], [0, 1, 2])


def test_a_server_without_n_is_remembered_for_the_rest_of_the_run(tmp_path, server):
    server.script = lambda body, number: (error(400, "n must be 1") if "n" in body
                                          else completion(f"{last_user(body)} {body['seed']}"))
    rows = [{"prompt": f"question {i}?"} for i in range(8)]
    out = sample(tmp_path, server, "--seed", "0", "--concurrency", "1", rows=rows)
    assert [row["completions"] for row in out] == [[f"question {i}? {j}" for j in range(3)] for i in range(8)]
    asked_with_n = {last_user(body) for body in server.requests if "n" in body}
    assert "question 0?" in asked_with_n
    assert asked_with_n <= {f"question {i}?" for i in range(4)}  # items started after the refusal ask one by one


def test_429_and_500_are_retried(tmp_path, server):
    def flaky(body, number):
        if number == 0:
            return error(429, "slow down", headers={"Retry-After": "0"})
        if number == 1:
            return error(500, "boom")
        return echo(body, number)

    server.script = flaky
    out = sample(tmp_path, server, rows=ROWS[:1])
    assert out[0]["completions"] == [f"capital of France?|seed=None|{j}" for j in range(3)]
    assert server.count == 3


def test_concurrency_and_requests_per_minute_bound_the_requests(tmp_path, server):
    server.script = lambda body, number: completion(f"s{number}", delay=0.05)
    rows = [{"prompt": f"question {index}"} for index in range(6)]
    out = sample(tmp_path, server, "--one-sample-per-request", "--concurrency", "2", rows=rows, k=2)
    assert [len(row["completions"]) for row in out] == [2] * 6
    assert server.count == 12 and server.max_in_flight == 2

    server.times.clear()
    sample(tmp_path, server, "--no-cache", "--requests-per-minute", "600", rows=rows[:4], k=1)
    assert len(server.times) == 4
    assert server.times[-1] - server.times[0] >= 0.2  # 600/min: three 0.1 s intervals, with room for arrival jitter


def test_a_rerun_reads_every_sample_from_the_cache(tmp_path, server, capsys):
    first = sample(tmp_path, server, "--one-sample-per-request")
    capsys.readouterr()
    assert server.count == 9
    again = sample(tmp_path, server, "--one-sample-per-request")
    assert again == first and server.count == 9
    assert "0 requests, 9 samples from the cache" in capsys.readouterr().err
    sample(tmp_path, server, "--one-sample-per-request", "--no-cache")
    assert server.count == 18


def test_without_a_seed_the_k_identical_requests_keep_k_cached_samples(tmp_path, server):
    server.script = lambda body, number: completion(f"sample {number}")
    first = sample(tmp_path, server, "--one-sample-per-request", rows=ROWS[:1])
    assert sorted(first[0]["completions"]) == ["sample 0", "sample 1", "sample 2"]
    assert sample(tmp_path, server, "--one-sample-per-request", rows=ROWS[:1]) == first and server.count == 3


def test_a_failing_item_is_recorded_and_the_others_succeed_then_scored(tmp_path, server):
    server.script = lambda body, number: error(500, "model crashed") if "2+2" in last_user(body) else echo(body, number)
    out = sample(tmp_path, server, "--max-retries", "1")
    assert out[1]["completions"] == [None, None, None]
    assert out[1]["completion_errors"] == ["the model server answered HTTP 500: model crashed"] * 3
    assert all(out[index]["completions"][2].endswith("|2") for index in (0, 2))
    assert server.count == 2 + 2  # two items once, the failing one twice (one retry)

    spec = tmp_path / "spec.yaml"
    spec.write_text('type: string_check\noperation: ilike\ninput: "{{ sample.output_text }}"\n'
                    'reference: "{{ item.answer }}"\n')
    scores = tmp_path / "scores.jsonl"
    done = subprocess.run([*RFT, "score", str(spec), str(tmp_path / "samples.jsonl"), "-o", str(scores),
                           "--no-progress"], capture_output=True, text=True, timeout=60, env={**os.environ})
    assert done.returncode == 0, done.stderr
    rows = read_rows(scores)
    assert [(row["index"], row["sample_index"], row["status"]) for row in rows] == [
        (index, j, "error" if index == 1 else "ok") for index in range(3) for j in range(3)
    ]
    assert rows[3]["reason"] == "line 2: sample 0 was not generated: " + out[1]["completion_errors"][0]
    assert [row["reward"] for row in rows if row["index"] == 0] == [0.0, 0.0, 0.0]  # "paris" is not in the echo

    again = sample(tmp_path, server, "--max-retries", "0")  # the failed samples were not cached: asked again
    assert server.count == 4 + 1 and again[1]["completions"] == [None, None, None]


def test_end_to_end_in_subprocesses_sample_then_score(tmp_path, server):
    server.script = lambda body, number: completions(["Paris", "Lyon"][: body.get("n", 1)])
    data = write_rows(tmp_path / "data.jsonl", [{"prompt": "capital of France?", "answer": "paris"},
                                                {"prompt": "France's capital?", "answer": "paris"}])
    samples = tmp_path / "samples.jsonl"
    done = subprocess.run([*RFT, "sample", str(data), "-o", str(samples), "--model", "m", "-k", "2",
                           "--base-url", server.base_url], capture_output=True, text=True, timeout=60,
                          env={**os.environ})
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().endswith("2 items: 4 samples; 2 requests, 0 samples from the cache; "
                                        "tokens: 40 prompt + 10 completion = 50")
    spec = tmp_path / "spec.yaml"
    spec.write_text('type: string_check\noperation: ilike\ninput: "{{ sample.output_text }}"\n'
                    'reference: "{{ item.answer }}"\n')
    scored = subprocess.run([*RFT, "score", str(spec), str(samples), "--no-progress"], capture_output=True,
                            text=True, timeout=60, env={**os.environ})
    assert scored.returncode == 0, scored.stderr
    rows = [json.loads(line) for line in scored.stdout.splitlines()]
    assert [(row["index"], row["sample_index"], row["reward"]) for row in rows] == [
        (0, 0, 1.0), (0, 1, 0.0), (1, 0, 1.0), (1, 1, 0.0)
    ]


@pytest.mark.parametrize("line, message", [
    ('{"answer": 1}', "line 2: the row has no prompt: give 'prompt' (a string or chat messages) or 'messages'"),
    ('{"prompt": 3}', "line 2: 'prompt' must be a string or a non-empty list of {role, content} messages"),
    ('{"messages": "hi"}', "line 2: 'messages' must be a non-empty list of {role, content} messages"),
    ('{"messages": [{"content": "x"}]}', "line 2: 'messages' must be a non-empty list of {role, content} messages"),
    ('{"item": {"prompt": "x"}}', "line 2: the row has 'item': give the prompt and the item's fields at the top level"),
    ('[1, 2]', "line 2: a row must be a JSON object, not list" + ONE_OBJECT),
    ('{"prompt": ', "line 2: invalid JSON at column 12: Expecting value" + ONE_OBJECT),
    ('{"prompt": "\xff"}', "line 2: invalid UTF-8 at byte 12" + ONE_OBJECT),
], ids=["no-prompt", "prompt-number", "messages-string", "message-without-role", "scoring-row", "array", "bad-json",
        "bad-utf8"])
def test_a_bad_row_stops_before_any_request_naming_its_line(tmp_path, server, capsys, line, message):
    data = tmp_path / "data.jsonl"
    data.write_bytes(b'{"prompt": "fine"}\n' + line.encode("latin-1") + b"\n")
    assert main(["sample", str(data), "-o", str(tmp_path / "out.jsonl"), "--model", "m",
                 "--base-url", server.base_url]) == 1
    assert capsys.readouterr().err == f"error: {data}: {message}\n"
    assert server.count == 0


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_openai_without_an_api_key_says_which_variable(tmp_path, capsys, monkeypatch, value):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    if value is None:
        monkeypatch.delenv("MY_KEY", raising=False)
    else:
        monkeypatch.setenv("MY_KEY", value)
    data = write_rows(tmp_path / "data.jsonl", ROWS[:1])
    assert main(["sample", str(data), "-o", str(tmp_path / "out.jsonl"), "--model", "gpt-4o-mini",
                 "--api-key-env", "MY_KEY"]) == 1
    assert capsys.readouterr().err == (
        "error: no API key for https://api.openai.com/v1: set MY_KEY (or name another with --api-key-env)\n"
    )


def test_output_row_and_totals():
    item = ItemSamples(["a", None], [None, "timeout"], {"prompt_tokens": 4, "completion_tokens": 2}, requests=3)
    row = output_row({"prompt": "p", "completions": ["old"], "id": 1}, item)
    assert row == {"prompt": "p", "id": 1, "completions": ["a", None], "completion_errors": [None, "timeout"]}
    totals = SampleTotals()
    totals.add(item)
    assert totals.render() == ("1 items: 1 samples, 1 failed (null in completions, reason in completion_errors); "
                               "3 requests, 0 samples from the cache; tokens: 4 prompt + 2 completion = 6")


def test_api_sampler_request_bodies():
    sampler = ApiSampler(SampleOptions(model="m", k=2, base_url="http://127.0.0.1:9/v1", seed=3, cache=False))
    assert sampler.body([{"role": "user", "content": "x"}], sample=1) == {
        "model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 1.0, "seed": 4
    }
    assert sampler.body([], n=2)["n"] == 2 and sampler.body([], n=2)["seed"] == 3
    reasoning = ApiSampler(SampleOptions(model="o4-mini", base_url="http://127.0.0.1:9/v1", max_tokens=9, cache=False))
    assert reasoning.body([])["max_completion_tokens"] == 9 and "max_tokens" not in reasoning.body([])


# --- the local transformers backend --------------------------------------------------------

WORDS = ["Paris", "Rome", "Lyon", "is", "the", "capital", "of", "France", "Italy", "?", "answer", "user", "assistant"]
CHAT_TEMPLATE = ("{% for m in messages %}{{ m['role'] }} {{ m['content'] }} {% endfor %}"
                 "{% if add_generation_prompt %}assistant {% endif %}")


def save_tiny_causal_lm(path: Path, chat_template: str | None) -> Path:
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(0)
    tokenizer = word_tokenizer(WORDS, chat_template)
    LlamaForCausalLM(llama_config(tokenizer, max_position_embeddings=64)).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    return save_tiny_causal_lm(tmp_path_factory.mktemp("tiny-lm"), CHAT_TEMPLATE)


@pytest.fixture(scope="module")
def tiny_plain_lm(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    return save_tiny_causal_lm(tmp_path_factory.mktemp("tiny-plain-lm"), None)


def local_options(model: Path, **fields) -> SampleOptions:
    return SampleOptions(**{"model": str(model), "k": 3, "backend": "transformers", "max_tokens": 6, "seed": 1,
                            "batch_size": 2, "device": "cpu", **fields})


def test_local_model_gives_k_samples_per_prompt_that_rft_score_reads(tmp_path, tiny_lm, capsys):
    data = write_rows(tmp_path / "data.jsonl", ROWS)
    out = tmp_path / "samples.jsonl"
    totals = sample_file(data, out, local_options(tiny_lm))
    rows = read_rows(out)
    assert [{key: value for key, value in row.items() if key != "completions"} for row in rows] == ROWS
    for row in rows:
        assert len(row["completions"]) == 3
        for text in row["completions"]:
            assert set(text.split()) <= set(WORDS) and len(text.split()) <= 6
    assert len({text for row in rows for text in row["completions"]}) > 3  # sampled, not one answer repeated
    assert (totals.items, totals.samples, totals.failed, totals.requests) == (3, 9, 0, 0)
    assert totals.render().startswith("3 items: 9 samples; tokens: ")  # no requests or cache to speak of
    assert 0 < totals.usage["completion_tokens"] <= 9 * 6 and totals.usage["prompt_tokens"] > 0

    assert sample_file(data, tmp_path / "again.jsonl", local_options(tiny_lm)).samples == 9
    assert read_rows(tmp_path / "again.jsonl") == rows  # the same seed and batch size: the same samples

    spec = tmp_path / "spec.yaml"
    spec.write_text('type: string_check\noperation: ilike\ninput: "{{ sample.output_text }}"\n'
                    'reference: "{{ item.answer }}"\n')
    scores = tmp_path / "scores.jsonl"
    assert main(["score", str(spec), str(out), "-o", str(scores), "--no-progress"]) == 0
    scored = read_rows(scores)
    assert [(row["index"], row["sample_index"], row["status"]) for row in scored] == [
        (index, j, "ok") for index in range(3) for j in range(3)
    ]
    for row, sampled in zip(scored, (text for row in rows for text in row["completions"])):
        answer = rows[row["index"]]["answer"]
        assert row["reward"] == (1.0 if answer.lower() in sampled.lower() else 0.0)


def test_local_greedy_repeats_the_one_answer(tmp_path, tiny_lm):
    data = write_rows(tmp_path / "data.jsonl", ROWS[:2])
    sample_file(data, tmp_path / "out.jsonl", local_options(tiny_lm, temperature=0.0, seed=None))
    for row in read_rows(tmp_path / "out.jsonl"):
        assert len(set(row["completions"])) == 1 and len(row["completions"]) == 3


def test_local_chat_prompt_without_a_chat_template_names_the_line(tmp_path, tiny_plain_lm):
    data = write_rows(tmp_path / "data.jsonl", ROWS[:2])
    with pytest.raises(RftError, match=r"^line 2: the prompt is chat messages but the tokenizer of .* has no chat "
                                       r"template: give a text 'prompt', or a model whose tokenizer has one$"):
        sample_file(data, tmp_path / "out.jsonl", local_options(tiny_plain_lm))


def test_local_sampler_formats_chat_prompts_with_the_template(tiny_lm, tmp_path):
    sampler = LocalSampler(local_options(tiny_lm))
    prompts = read_prompt_rows(write_rows(tmp_path / "data.jsonl", ROWS))
    assert [sampler.text(prompt) for prompt in prompts] == [
        "capital of France?", "system Be brief. user 2+2? assistant ", "user capital of Italy? assistant "
    ]


def test_a_missing_local_model_is_an_error_naming_it(tmp_path):
    data = write_rows(tmp_path / "data.jsonl", ROWS[:1])
    with pytest.raises(RftError, match=r"^--model .*nowhere: cannot load a causal LM and its tokenizer: "):
        sample_file(data, tmp_path / "out.jsonl", local_options(tmp_path / "nowhere"))


@pytest.mark.parametrize("fields, message", [
    ({"k": 0}, "k must be at least 1, not 0"),
    ({"temperature": -0.5, "top_p": 1.5}, "temperature must be 0 or more, not -0.5; top_p must be in (0, 1], not 1.5"),
    ({"max_retries": -1, "timeout": 0},
     "max_retries must be 0 or more, not -1; timeout must be more than 0 seconds, not 0"),
], ids=["k", "sampling", "retries"])
def test_impossible_options_are_refused_at_once(fields, message):
    with pytest.raises(RftError) as caught:
        SampleOptions(model="m", **fields)
    assert str(caught.value) == message
