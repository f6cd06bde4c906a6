"""rft serve's app on a real uvicorn server (127.0.0.1): the OpenAI SDK, OpenRLHF's own client, /score,
malformed requests, the token, and many concurrent clients sharing batches."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import aiohttp
import openai
import pytest
import yaml
from openrlhf.utils.agent import SingleTurnAgentExecutor

from rft_core import Grader, Result
from rft_core.integrations.serve import create_app

from serve_server import call, running

pytestmark = pytest.mark.integration

SPEC = yaml.safe_load((Path(__file__).resolve().parent.parent / "examples" / "spec.yaml").read_text())
STRING_CHECK = {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
                "reference": "{{ item.answer }}", "operation": "eq"}
RUN = "/v1/fine_tuning/alpha/graders/run"

GATE = threading.Event()
BATCH_SIZES: list[int] = []


class Gate(Grader):
    """1.0 once the test opens the gate (a grader stuck until then)."""

    type = "gate"

    def evaluate(self, sample, item):
        GATE.wait(30)
        return Result(1.0)


class Counting(Grader):
    """1.0 when the output equals item.answer; records each batch's size and takes 50 ms a batch."""

    type = "counting"

    def evaluate(self, sample, item):
        return self.evaluate_batch([sample], [item])[0]

    def evaluate_batch(self, samples, items):
        BATCH_SIZES.append(len(samples))
        time.sleep(0.05)
        return [Result(float(s.output_text == i["answer"])) for s, i in zip(samples, items)]


class Unserializable(Grader):
    """1.0, with metadata JSON cannot carry (a tuple key)."""

    type = "unserializable"

    def evaluate(self, sample, item):
        return Result(1.0, metadata={(1, 2): "pair"})


@pytest.fixture(scope="module")
def server():
    from rft_core.kernel.plugins import make_plugin_manager
    from rft_core.kernel.registry import Registry

    registry = Registry.from_plugin_manager(make_plugin_manager(load_entry_points=False))
    for cls in (Gate, Counting, Unserializable):
        registry.register(cls, plugin="tests")
    with running(create_app(SPEC, registry=registry)) as url:
        yield url


# --- OpenAI's grader API, through the official SDK ----------------------------------------------


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=f"{server}/v1", api_key="unused", max_retries=0, timeout=30)


def test_sdk_run_string_check(client):
    response = client.fine_tuning.alpha.graders.run(grader=STRING_CHECK, model_sample="Paris", item={"answer": "Paris"})
    assert response.reward == 1.0
    assert response.metadata.name == "exact" and response.metadata.type == "string_check"
    assert response.metadata.errors.other_error is False and response.metadata.errors.invalid_variable_error is False
    assert response.metadata.execution_time >= 0 and response.metadata.sampled_model_name is None


def test_sdk_run_multi_reports_sub_rewards(client):
    response = client.fine_tuning.alpha.graders.run(grader=SPEC, model_sample="Answer: Lyon", item={"answer": "Paris"})
    assert response.sub_rewards == {"format": 1.0, "exact": 0.0, "close": pytest.approx(0.2, abs=0.2)}
    assert response.reward == pytest.approx(0.1 + 0.2 * response.sub_rewards["close"])
    assert response.metadata.scores == response.sub_rewards


def test_sdk_run_flags_a_missing_variable(client):
    # the item lacks "answer": OpenAI's invalid_variable_error flag, reward 0, not a crash
    response = client.fine_tuning.alpha.graders.run(grader=STRING_CHECK, model_sample="Paris", item={})
    assert response.reward == 0.0
    assert response.metadata.errors.invalid_variable_error is True


def test_sdk_validate(client):
    assert client.fine_tuning.alpha.graders.validate(grader=STRING_CHECK).grader.reference == "{{ item.answer }}"
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        client.fine_tuning.alpha.graders.validate(grader={"type": "string_chek", "reference": "x"})
    assert "string_chek" in str(caught.value) and "string_check" in str(caught.value)  # the known types are listed


def test_sdk_run_sends_an_openai_judge_prompt_verbatim(client, monkeypatch, tmp_path):
    # OpenAI's own example (API reference, Run grader): the judge gets its message as written, filled in,
    # and the sampling parameters it sets (no instruction added, no <sample> tags, no default seed)
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from judge_server import JudgeServer, completion

    example = json.loads((Path(__file__).resolve().parent / "fixtures" / "openai" /
                          "api_reference_run_score_model.json").read_text(encoding="utf-8"))
    [case] = example["cases"]
    monkeypatch.setenv("RFT_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with JudgeServer(lifetime=60) as judge:
        judge.script = lambda body, number: completion(case["judge"], model=body["model"])
        monkeypatch.setenv("OPENAI_BASE_URL", judge.base_url)
        response = client.fine_tuning.alpha.graders.run(
            grader=example["grader"], model_sample=case["model_sample"], item=case["item"])
        [body] = judge.requests
    assert response.reward == case["reward"]
    assert response.metadata.sampled_model_name == "gpt-4o-2024-08-06"
    assert body["messages"] == case["request"]["messages"]
    assert {key: body[key] for key in ("temperature", "top_p", "seed")} == {"temperature": 1, "top_p": 1, "seed": 42}


def test_run_without_grader_uses_the_spec(server):
    status, body = call(server + RUN, {"model_sample": "Answer: paris", "item": {"answer": "Paris"}})
    assert status == 200 and body["reward"] == 1.0 and body["metadata"]["name"] == "trivia"


# --- OpenRLHF: its own HTTP client (openrlhf.utils.agent.SingleTurnAgentExecutor) ----------------


def test_openrlhf_client_gets_rewards_and_extra_logs(server):
    executor = SingleTurnAgentExecutor(remote_rm_url=f"{server}/get_reward")
    prompt = "<|im_start|>user\nCapital of France?<|im_end|>\n<|im_start|>assistant\n"
    [info] = asyncio.run(executor._fetch_rewards_via_http([prompt + "Answer: Paris<|im_end|>"], [prompt], ["Paris"]))
    assert info["rewards"] == [1.0] and info["scores"] == [1.0]
    assert info["extra_logs"] == {"format": [1.0], "exact": [1.0], "close": [1.0], "ungradable": [0.0]}


def test_get_reward_labels_and_ungradable_queries(server):
    body = {
        "query": ["Q1 Answer: Paris", "Q2 Answer: Rome</s>", "something else"],
        "prompts": ["Q1 ", "Q2 ", "Q3 "],
        "labels": ['{"answer": "paris"}', "Rome", "x"],  # a JSON object label is the item; a string is item.answer
    }
    status, answer = call(server + "/get_reward", body)
    assert status == 200
    assert answer["rewards"][:2] == [1.0, 1.0]
    # the third query does not start with its prompt: not graded on a guess, flagged
    assert answer["rewards"][2] == 0.0 and answer["extra_logs"]["ungradable"] == [0.0, 0.0, 1.0]
    assert len(answer["extra_logs"]["close"]) == 3


# --- /score, /graders, /health ---------------------------------------------------------------------


def test_score_rows_in_rft_score_formats(server):
    rows = [
        {"output_text": "Answer: Paris", "answer": "Paris", "id": "a"},
        {"completions": ["Answer: Rome", "Rome"], "answer": "Rome"},
        {"item": {"answer": "Oslo"}, "sample": {"output_text": "Answer: Oslo"}},
        7,
    ]
    status, body = call(server + "/score", {"rows": rows})
    assert status == 200
    out = body["rows"]
    assert [(r["index"], r.get("sample_index"), r["status"]) for r in out] == [
        (0, None, "ok"), (1, 0, "ok"), (1, 1, "ok"), (2, None, "ok"), (3, None, "error")]
    assert [r["reward"] for r in out[:4]] == [1.0, 1.0, 0.0, 1.0]  # "Rome" lacks the "Answer:" the spec extracts
    assert out[0]["id"] == "a" and out[0]["sub_rewards"]["exact"]["reward"] == 1.0
    assert "a row must be a JSON object" in out[4]["reason"]


def test_score_with_a_request_grader(server):
    status, body = call(server + "/score", {"grader": STRING_CHECK, "rows": [{"output_text": "a", "answer": "b"}]})
    assert status == 200 and body["rows"][0]["reward"] == 0.0


def test_graders_and_health(server):
    assert call(server + "/health") == (200, {"status": "ok"})
    status, body = call(server + "/graders")
    assert status == 200
    assert {"string_check", "gate", "counting", "unserializable"} <= {entry["type"] for entry in body["graders"]}
    assert body["spec"]["components"] == ["format", "exact", "close"]


# --- malformed requests: a clear 4xx, and the server goes on ---------------------------------------

BAD = [
    # (path, raw body, status, words the message must hold)
    pytest.param(RUN, b"{not json", 400, "not valid JSON", id="bad-json"),
    pytest.param(RUN, b"[1, 2]", 400, "must be a JSON object, not an array", id="array-body"),
    pytest.param(RUN, b'{"item": {}}', 422, "'model_sample' must be a string", id="no-sample"),
    pytest.param(RUN, b'{"model_sample": "x", "item": [1]}', 422, "'item' must be a JSON object", id="item-array"),
    pytest.param(RUN, b'{"model_sample": "x", "grader": {"type": "nope"}}', 422, "nope", id="unknown-type"),
    pytest.param(RUN, b'{"model_sample": "x", "grader": {"type": "string_check", "operation": 5}}', 422,
                 "operation", id="bad-field"),
    pytest.param(RUN, b'{"model_sample": "x", "grader": "string_check"}', 422, "must be a grader object", id="grader-str"),
    pytest.param("/get_reward", b'{"query": ["a"], "prompts": ["a", "b"], "labels": ["x"]}', 422,
                 "'prompts' has 2 entries", id="lengths-differ"),
    pytest.param("/get_reward", b'{"query": "a", "prompts": [], "labels": []}', 422, "'query' must be a list",
                 id="query-not-list"),
    pytest.param("/get_reward", b'{"query": [1], "prompts": ["a"], "labels": [null]}', 422, "'query'[0]",
                 id="query-not-text"),
    pytest.param("/get_reward", b'{"prompts": []}', 422, "missing 'query', 'labels'", id="get-reward-missing"),
    pytest.param("/score", b'{"rows": {"a": 1}}', 422, "'rows' is an object", id="rows-object"),
    pytest.param("/v1/fine_tuning/alpha/graders/validate", b"{}", 422, "send the grader", id="validate-empty"),
]


@pytest.mark.parametrize(("path", "raw", "status", "words"), BAD)
def test_malformed_requests_get_a_clear_error(server, path, raw, status, words):
    got, body = call(server + path, raw=raw)
    assert got == status
    assert words in body["error"]["message"]
    assert call(server + "/health")[0] == 200


def test_a_too_large_body_is_refused(server):
    from rft_core.integrations.serve.app import create_app as build

    with running(build(SPEC, max_request_bytes=1000)) as small:
        status, body = call(small + "/score", {"rows": [{"output_text": "x" * 2000, "answer": "x"}]})
        assert status == 413 and "limit of 1000 bytes" in body["error"]["message"]
        assert call(small + "/score", {"rows": [{"output_text": "x", "answer": "x"}]})[0] == 200


def test_wrong_method_and_path(server):
    assert call(server + "/score", method="GET")[0] == 405
    assert call(server + "/nowhere", {})[0] == 404


# --- the token and --spec-only -------------------------------------------------------------------


def test_bearer_token():
    with running(create_app(SPEC, token="s3cret")) as url:
        assert call(url + "/score", {"rows": []})[0] == 401
        status, body = call(url + "/score", {"rows": []}, headers={"Authorization": "Bearer wrong"})
        assert status == 401 and "bearer token" in body["error"]["message"]
        assert call(url + "/health")[0] == 200  # probes need no token
        sdk = openai.OpenAI(base_url=f"{url}/v1", api_key="s3cret", max_retries=0, timeout=30)
        assert sdk.fine_tuning.alpha.graders.run(grader=STRING_CHECK, model_sample="a", item={"answer": "a"}).reward == 1.0


def test_spec_only_refuses_request_graders():
    with running(create_app(SPEC, request_graders=False)) as url:
        status, body = call(url + RUN, {"grader": STRING_CHECK, "model_sample": "a"})
        assert status == 403 and "--spec-only" in body["error"]["message"]
        assert call(url + RUN, {"model_sample": "Answer: a", "item": {"answer": "a"}})[1]["reward"] == 1.0


# --- concurrency ------------------------------------------------------------------------------------


async def _many_clients(url: str, clients: int, requests_each: int) -> list[tuple[int, list[float], list[float]]]:
    """Every client sends its own answers; returns (status, rewards, expected) per request."""
    grader = {"type": "counting"}

    async def client(number: int, session: aiohttp.ClientSession) -> list[tuple[int, list[float], list[float]]]:
        outcomes = []
        for request in range(requests_each):
            rows = [{"output_text": f"{number}-{request}-{k}", "answer": f"{number}-{request}-{k if k % 3 else 'x'}"}
                    for k in range(5)]
            async with session.post(url + "/score", json={"grader": grader, "rows": rows}) as response:
                body = await response.json()
            expected = [0.0 if k % 3 == 0 else 1.0 for k in range(5)]
            outcomes.append((response.status, [row["reward"] for row in body["rows"]], expected))
        return outcomes

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=clients)) as session:
        results = await asyncio.gather(*(client(number, session) for number in range(clients)))
    return [outcome for outcomes in results for outcome in outcomes]


def test_many_concurrent_clients_share_batches_and_get_their_own_rewards(server):
    BATCH_SIZES.clear()
    outcomes = asyncio.run(_many_clients(server, clients=64, requests_each=3))
    assert len(outcomes) == 192
    assert all(status == 200 and rewards == expected for status, rewards, expected in outcomes)
    assert sum(BATCH_SIZES) == 192 * 5
    assert len(BATCH_SIZES) < 192  # requests that waited while a batch was graded were graded together


def test_a_stuck_grader_does_not_block_other_graders(server):
    GATE.clear()
    stuck: dict[str, object] = {}
    thread = threading.Thread(target=lambda: stuck.update(answer=call(server + "/score", {
        "grader": {"type": "gate"}, "rows": [{"output_text": "x"}]})))
    thread.start()
    try:
        status, body = call(server + RUN, {"grader": STRING_CHECK, "model_sample": "a", "item": {"answer": "a"}})
        assert status == 200 and body["reward"] == 1.0
        assert "answer" not in stuck  # the gate grader is still stuck while the other request was answered
    finally:
        GATE.set()
        thread.join(30)
    assert stuck["answer"][0] == 200 and stuck["answer"][1]["rows"][0]["reward"] == 1.0


def test_error_response_is_openai_shaped(server):
    status, body = call(server + RUN, raw=b"{")
    assert status == 400
    assert set(body["error"]) == {"message", "type", "param", "code"} and body["error"]["type"] == "invalid_request_error"
    assert json.dumps(body)  # plain JSON


def test_an_unexpected_failure_is_a_500_and_the_server_goes_on(server):
    # the grader's result holds a value JSON cannot carry: the answer fails, not the server
    status, body = call(server + "/score", {"grader": {"type": "unserializable"}, "rows": [{"output_text": "x"}]})
    assert status == 500 and body["error"]["type"] == "server_error"
    assert "internal error" in body["error"]["message"]
    assert call(server + "/health")[0] == 200


def test_garbage_on_the_socket_is_refused_and_the_server_goes_on(server):
    import socket
    from urllib.parse import urlparse

    address = urlparse(server)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        answer = sock.recv(1024)
    assert answer.startswith(b"HTTP/1.1 400")
    assert call(server + "/health")[0] == 200
