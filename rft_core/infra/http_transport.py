"""How a judge request travels: one POST of Chat Completions JSON, over aiohttp when it is installed
(the ``judge`` extra has it), else through the ``openai`` SDK's client on httpx.

Both posters raise the same three failures, so ``openai_client.JudgeClient`` retries, honours
Retry-After and times out in one place whichever carries the request. The SDK spends milliseconds
of CPU per call building an httpx request and a standard-library JSON body; the aiohttp poster
sends the same request (URL, bearer key, JSON written by orjson) without that cost.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from .openai_client import ClientSettings

__all__: list[str] = []  # private to openai_client, which imports what it uses by name


class _StatusError(Exception):
    """The server answered an HTTP error: its status, headers and body (parsed JSON, or text)."""

    def __init__(self, status: int, headers: Any, body: Any) -> None:
        super().__init__(f"HTTP {status}")
        self.status, self.headers, self.body = status, headers, body


class _ConnectionFailed(Exception):
    """The server could not be reached, or dropped the connection."""


class _UnexpectedReply(Exception):
    """A 2xx answer that is not JSON."""


class _AioHttpPoster:
    """Chat Completions POSTs over one aiohttp session per event loop, the body written with orjson.

    The SDK builds an httpx request, its headers and a standard-library JSON body for every call
    before its aiohttp transport sends it: milliseconds of CPU per call, which bound how many
    judge calls one process keeps in flight. This sends the same request (URL, bearer key, JSON)."""

    def __init__(self, settings: ClientSettings, tls: ssl.SSLContext) -> None:
        import aiohttp

        self._aiohttp = aiohttp
        self._url = settings.base_url + "/chat/completions"
        headers = {"authorization": f"Bearer {settings.api_key}", "content-type": "application/json",
                   "accept": "application/json"}  # lower case, as the SDK sends them
        connector = aiohttp.TCPConnector(limit=0, ssl=tls)  # the semaphore bounds requests
        self._session = aiohttp.ClientSession(headers=headers, connector=connector)

    async def post(self, request: dict[str, Any], timeout: float) -> Any:
        aiohttp = self._aiohttp
        try:
            async with self._session.post(self._url, data=orjson.dumps(request)) as response:
                status, headers, raw = response.status, response.headers, await response.read()
        except aiohttp.ClientError as exc:
            raise _ConnectionFailed(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = raw.decode("utf-8", "replace")
            if status < 300:
                raise _UnexpectedReply(f"the body is not JSON: {body[:200]!r}") from None
        if status >= 300:
            raise _StatusError(status, headers, body)
        return body

    def is_closed(self) -> bool:
        return self._session.closed

    async def close(self) -> None:
        await self._session.close()


class _SdkPoster:
    """The same POSTs through the ``openai`` SDK's client on httpx (when aiohttp is not installed)."""

    def __init__(self, openai: Any, settings: ClientSettings, tls: ssl.SSLContext) -> None:
        self._openai = openai
        arguments: dict[str, Any] = {
            "base_url": settings.base_url,
            "api_key": settings.api_key,
            "max_retries": 0,  # we retry, honouring Retry-After and our own limits
            "timeout": settings.timeout,
        }
        http_client = _http_client(openai, tls)
        if http_client is not None:
            arguments["http_client"] = http_client
        self._sdk = openai.AsyncOpenAI(**arguments)

    async def post(self, request: dict[str, Any], timeout: float) -> Any:
        openai = self._openai
        started = time.monotonic()
        try:
            return await self._sdk.post("/chat/completions", cast_to=object, body=request, options={"timeout": timeout})
        except openai.APITimeoutError:
            if time.monotonic() - started < 0.9 * timeout:
                # Some transports report a refused or dropped connection as a connect timeout; a
                # real timeout takes the whole timeout.
                raise _ConnectionFailed("the connection failed or was dropped") from None
            raise asyncio.TimeoutError from None
        except openai.APIStatusError as exc:
            body = exc.body if exc.body is not None else getattr(exc, "message", str(exc))
            raise _StatusError(exc.status_code, exc.response.headers, body) from None
        except openai.APIConnectionError as exc:
            raise _ConnectionFailed(str(exc)) from None
        except (openai.OpenAIError, ValueError) as exc:  # ValueError: a 2xx body that is not JSON
            raise _UnexpectedReply(f"{type(exc).__name__}: {exc}") from None

    def is_closed(self) -> bool:
        return self._sdk.is_closed()

    async def close(self) -> None:
        await self._sdk.close()


def _http_client(openai: Any, tls: ssl.SSLContext) -> Any:
    """The SDK's default async httpx client, with the run's TLS context."""
    factory = getattr(openai, "DefaultAsyncHttpxClient", None)
    if factory is None:
        return None
    try:
        return factory(verify=tls)
    except (TypeError, RuntimeError):  # an SDK whose clients differ
        return None


def _aiohttp_installed() -> bool:
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        return False
    return True
