"""graders/_judge_client: Retry-After parsing, backoff, rate limits, reply parsing, client lifetime."""

from __future__ import annotations

import asyncio
import email.utils
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from judge_server import JudgeServer, completion, error

from rft_core import GradeError

from rft_core.infra.openai_client import (
    ClientSettings,
    RateLimiter,
    _backoff,
    _reply,
    _retry_after,
    get_client,
    supports_structured,
)
from rft_core.kernel.runtime import Runtime


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "250"}, 0.25),  # OpenAI's millisecond header wins
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "100000"}, 300.0),  # capped
        ({"retry-after": "-3"}, 0.0),
        ({"retry-after": "soon"}, None),  # unreadable: use backoff
        ({}, None),
    ],
    ids=["seconds", "fraction", "ms", "ms_first", "capped", "negative", "garbage", "absent"],
)
def test_retry_after(headers, seconds):
    assert _retry_after(headers) == seconds


def test_retry_after_http_date():
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= _retry_after({"retry-after": when}) <= 31


@pytest.mark.parametrize(("attempt", "ceiling"), [(1, 0.5), (2, 1.0), (3, 2.0), (10, 5.0)])
def test_backoff_doubles_with_jitter_and_a_cap(attempt, ceiling):
    settings = ClientSettings("http://x", "k", backoff_initial=0.5, backoff_max=5.0)
    delays = [_backoff(settings, attempt) for _ in range(200)]
    assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
    assert len(set(delays)) > 1  # jitter


def test_rate_limiter_spaces_requests():
    limiter = RateLimiter(requests_per_minute=600, tokens_per_minute=None)  # one per 0.1 s
    assert limiter._try_acquire(0) == 0
    wait = limiter._try_acquire(0)
    assert 0.05 < wait <= 0.1


def test_rate_limiter_token_bucket():
    limiter = RateLimiter(requests_per_minute=None, tokens_per_minute=6000)  # 100 tokens/s
    assert limiter._try_acquire(5000) == 0
    assert limiter._try_acquire(900) == 0
    wait = limiter._try_acquire(500)  # 100 left: 400 more take about 4 s
    assert 3.5 < wait <= 4.0
    limiter.settle(estimated=900, actual=100)  # the server used fewer than estimated: refund
    assert limiter._try_acquire(500) == 0


def test_rate_limiter_pause():
    limiter = RateLimiter(None, None)
    limiter.pause(0.5)
    assert 0.4 < limiter._try_acquire(0) <= 0.5


@pytest.mark.parametrize(
    ("body", "content", "refusal", "usage"),
    [
        (completion("hi").body, "hi", None, {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}),
        (completion(None, refusal="no").body, None, "no", {"prompt_tokens": 20, "completion_tokens": 5,
                                                           "total_tokens": 25}),
        ({"choices": []}, None, None, {}),  # no choices: no content, the grader fails closed
        ({"choices": [{"message": {"content": ["parts"]}}], "usage": {"total_tokens": "3"}}, None, None, {}),
    ],
    ids=["content", "refusal", "no_choices", "odd_types"],
)
def test_reply_parsing(body, content, refusal, usage):
    reply = _reply(body, {"model": "m"}, 1)
    assert (reply.content, reply.refusal, reply.usage) == (content, refusal, usage)


def test_a_reply_that_is_not_an_object_is_an_error():
    with pytest.raises(GradeError, match="not a JSON object") as raised:
        _reply("<html>", {}, 1)
    assert (raised.value.code, raised.value.details) == ("model_grader_server_error", {"attempts": 1})


def test_one_client_per_loop_closed_when_the_loop_ends():
    with JudgeServer(lambda body, number: completion("ok"), lifetime=30) as server:
        settings = ClientSettings(server.base_url, "k", timeout=5)

        async def twice():
            first, second = get_client(settings, runtime), get_client(settings, runtime)
            assert first is second
            reply = await first.complete({"model": "m", "messages": [{"role": "user", "content": "x"}]})
            return first, reply

        with Runtime() as runtime:
            client, reply = asyncio.run(twice())
            assert reply.content == "ok" and reply.attempts == 1
            assert client._sdk.is_closed()  # closed by asyncio.run's shutdown_asyncgens
            other, _ = asyncio.run(twice())
            assert other is not client


def test_structured_fallback_is_remembered_per_server_model_and_runtime():
    def refusing(body, number):
        return error(400, "response_format is not supported") if "response_format" in body else completion("ok")

    request = {"model": "m-test", "messages": [{"role": "user", "content": "x"}],
               "response_format": {"type": "json_object"}}
    with JudgeServer(refusing, lifetime=30) as server, Runtime() as runtime, Runtime() as other:
        settings = ClientSettings(server.base_url, "k", timeout=5)

        async def ask():
            return await get_client(settings, runtime).complete(request)

        assert supports_structured(server.base_url, "m-test", runtime)
        assert asyncio.run(ask()).content == "ok"  # answered without response_format
        assert not supports_structured(server.base_url, "m-test", runtime)
        assert supports_structured(server.base_url, "another-model", runtime)
        assert supports_structured(server.base_url, "m-test", other)  # another run asks afresh
