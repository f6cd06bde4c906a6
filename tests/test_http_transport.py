"""rft_core/infra/http_transport: both posters send the same request and raise the same three failures."""

from __future__ import annotations

import asyncio
import socket
import ssl
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from judge_server import JudgeServer, Reply, completion, error

from rft_core.infra.http_transport import (
    _AioHttpPoster,
    _ConnectionFailed,
    _SdkPoster,
    _StatusError,
    _UnexpectedReply,
)
from rft_core.infra.openai_client import ClientSettings

REQUEST = {"model": "judge", "messages": [{"role": "user", "content": "grade"}]}


def _aiohttp(settings):
    pytest.importorskip("aiohttp")
    return _AioHttpPoster(settings, ssl.create_default_context())


def _sdk(settings):
    openai = pytest.importorskip("openai")
    return _SdkPoster(openai, settings, ssl.create_default_context())


POSTERS = [pytest.param(_aiohttp, id="aiohttp"), pytest.param(_sdk, id="sdk")]


def post(make, base_url, request=REQUEST, timeout=10.0):
    """One POST through a fresh poster, closed afterwards; the parsed body or the raised failure."""

    async def run():
        poster = make(ClientSettings(base_url=base_url, api_key="secret-key", timeout=timeout))
        try:
            return await poster.post(request, timeout)
        finally:
            await poster.close()
            assert poster.is_closed()

    return asyncio.run(run())


@pytest.mark.parametrize("make", POSTERS)
def test_a_reply_is_the_parsed_body_and_the_request_goes_as_built(make):
    with JudgeServer(lambda body, number: completion("fine")) as server:
        body = post(make, server.base_url)
    assert body["choices"][0]["message"]["content"] == "fine"
    assert server.paths == ["/v1/chat/completions"]
    assert server.requests == [REQUEST]
    assert {name.lower(): value for name, value in server.headers[0].items()}["authorization"] == "Bearer secret-key"


@pytest.mark.parametrize("make", POSTERS)
def test_an_http_error_carries_its_status_headers_and_body(make):
    with JudgeServer(lambda body, number: error(429, "slow down", headers={"Retry-After": "7"})) as server:
        with pytest.raises(_StatusError) as caught:
            post(make, server.base_url)
    assert caught.value.status == 429
    assert caught.value.headers["Retry-After"] == "7"
    assert "slow down" in str(caught.value.body)  # the SDK keeps only the body's "error" object


@pytest.mark.parametrize("make", POSTERS)
def test_a_success_whose_body_is_not_json_is_an_unexpected_reply(make):
    with JudgeServer(lambda body, number: Reply(b"<html>not json</html>")) as server:
        with pytest.raises(_UnexpectedReply):
            post(make, server.base_url)


@pytest.mark.parametrize("make", POSTERS)
def test_a_dropped_connection_is_a_connection_failure(make):
    with JudgeServer(lambda body, number: Reply(drop=True)) as server:
        with pytest.raises(_ConnectionFailed):
            post(make, server.base_url)


@pytest.mark.parametrize("make", POSTERS)
def test_a_port_nobody_listens_on_is_a_connection_failure(make):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(_ConnectionFailed):
        post(make, f"http://127.0.0.1:{port}/v1")
