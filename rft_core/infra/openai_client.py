"""Calls to an OpenAI-compatible chat completions server: bounded, rate-limited, retried, timed out.

``JudgeClient.complete(request)`` sends one request with the ``openai`` SDK's
AsyncOpenAI (its own retries off: we retry here) and returns a ``Reply`` or
raises a ``GradeError`` (``call_error``) carrying the status to report.

- In flight: at most ``max_concurrency`` requests per server settings (a semaphore per client).
- Rate: ``requests_per_minute`` spaces requests evenly; ``tokens_per_minute`` is a
  token bucket charged with an estimate before a request and corrected with the
  usage the server reports. Both are shared by every loop and thread of the process.
- Retries: 408, 409, 429, 5xx, timeouts and dropped connections are retried up to
  ``max_retries`` times with exponential backoff and jitter; a ``Retry-After`` (or
  ``retry-after-ms``) header is honoured instead, and pauses every request to that
  server for as long. Other 4xx fail at once.
- Timeout: ``timeout`` seconds per attempt, for the whole attempt (not per read).
- Structured outputs: a 400/422 answer to a request with ``response_format`` is
  retried once without it; if that works, the server+model is remembered as not
  supporting structured outputs and later requests go without.

Event loops: every judgment runs on one event loop in a background thread
(``run_in_background`` for sync callers, ``on_background_loop`` from any other loop),
so connections, semaphores and limits are shared by the whole process and outlive a
batch. Clients are made per loop all the same (HTTP connections belong to a loop)
and closed when their loop shuts down (``asyncio.run``, or the background loop at exit).

The ``judge`` extra is imported lazily. Requests are sent as built, straight over aiohttp when it
is installed (the ``judge`` extra has it: the SDK spends milliseconds of CPU per call building
them), else through the ``openai`` SDK's ``post`` on httpx (``http_transport``).

Over 400 lines on purpose: the limits, the per-loop clients, the background loop and the retry
loop are one mechanism (every request passes all of them, and they share one state per run);
split apart, each piece would only be readable with the others open beside it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import os
import random
import re
import ssl
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any


from rft_core.kernel.errors import GradeError, MissingDependencyError
from rft_core.kernel.runtime import Runtime
from rft_core.kernel.types import Status

from .http_transport import (
    _aiohttp_installed,
    _AioHttpPoster,
    _ConnectionFailed,
    _SdkPoster,
    _StatusError,
    _UnexpectedReply,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "ClientSettings",
    "JudgeClient",
    "Reply",
    "call_error",
    "get_client",
    "is_reasoning_model",
    "on_background_loop",
    "resolve_endpoint",
    "run_in_background",
    "submit_in_background",
    "supports_structured",
]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
RETRY_STATUSES = frozenset({408, 409, 429})
MAX_RETRY_AFTER = 300.0  # seconds; a longer Retry-After is capped
CHARS_PER_TOKEN = 4  # for the tokens_per_minute estimate before the server reports usage
_REASONING_NAME = re.compile(r"^(?:o\d+|gpt-5)(?:$|[-_.:])", re.I)


def is_reasoning_model(model: str) -> bool:
    """True for OpenAI reasoning model names (o1, o3-mini, o4-mini, gpt-5...), with or without a provider prefix."""
    return _REASONING_NAME.match(model.rsplit("/", 1)[-1]) is not None


def resolve_endpoint(base_url: str | None, api_key: str | None, api_key_env: str) -> tuple[str, str | None]:
    """The server to call and its API key.

    The URL is ``base_url``, else $OPENAI_BASE_URL, else OpenAI's; the key is ``api_key``, else the
    variable ``api_key_env``. Local servers (vLLM, Ollama, llama.cpp) accept any key, so they get a
    placeholder; the key is None only when OpenAI's own server would be called without one.
    """
    url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    key = api_key or os.environ.get(api_key_env) or None  # an empty variable is no key
    if key is None and url != DEFAULT_BASE_URL:
        key = "not-needed"
    return url, key


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Everything about how to reach one server; equal settings share a client."""

    base_url: str
    api_key: str
    max_concurrency: int = 16
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    timeout: float = 60.0
    max_retries: int = 4
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    label: str = "judge"  # what error messages call the server's model: "judge", or "model" for rft sample


@dataclass(slots=True)
class Reply:
    """What the server answered, reduced to what grading and the cache need."""

    content: str | None
    refusal: str | None = None
    finish_reason: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    model: str | None = None
    request: dict[str, Any] = field(default_factory=dict)  # the request that got this reply
    attempts: int = 1
    structured: bool | None = None  # from the cache: whether the stored reply answered a response_format
    choices: list[dict[str, str | None]] = field(default_factory=list)  # every choice's content and finish_reason

    def was_structured(self) -> bool:
        return self.structured if self.structured is not None else "response_format" in self.request

    def to_cache(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "refusal": self.refusal,
            "finish_reason": self.finish_reason,
            "usage": self.usage,
            "model": self.model,
            "structured": self.was_structured(),
        }

    @classmethod
    def from_cache(cls, stored: dict[str, Any], request: dict[str, Any]) -> Reply:
        return cls(
            stored.get("content"),
            stored.get("refusal"),
            stored.get("finish_reason"),
            dict(stored.get("usage") or {}),
            stored.get("model"),
            request,
            0,
            stored.get("structured"),
        )


def call_error(message: str, *, attempts: int, http_status: int | None = None, status: Status = Status.ERROR,
               code: str = "model_grader_server_error") -> GradeError:
    """The GradeError of a request that failed for good; its details (the attempts made, the HTTP
    status) go into the Result's metadata."""
    details: dict[str, Any] = {"attempts": attempts}
    if http_status is not None:
        details["http_status"] = http_status
    return GradeError(message, status=status, code=code, **details)


# --- what servers support -----------------------------------------------------------

def supports_structured(base_url: str, model: str, runtime: Runtime) -> bool:
    """False once a server rejected response_format for this model (remembered by the runtime)."""
    return (base_url, model) not in _connections(runtime).no_structured


# --- rate limits, shared across loops and threads --------------------------------------


class RateLimiter:
    """Even spacing for requests/min, a token bucket for tokens/min, and a pause for Retry-After."""

    def __init__(self, requests_per_minute: float | None, tokens_per_minute: float | None) -> None:
        self.rpm = requests_per_minute
        self.tpm = tokens_per_minute
        self._lock = threading.Lock()
        self._next_request = 0.0
        self._tokens = float(tokens_per_minute or 0)
        self._refilled = time.monotonic()
        self._paused_until = 0.0

    async def acquire(self, tokens: int) -> None:
        while True:
            wait = self._try_acquire(tokens)
            if wait <= 0:
                return
            await asyncio.sleep(min(wait, 60.0))

    def _try_acquire(self, tokens: int) -> float:
        with self._lock:
            now = time.monotonic()
            wait = self._paused_until - now
            if wait <= 0 and self.rpm:
                wait = self._next_request - now
            if wait <= 0 and self.tpm:
                self._refill(now)
                needed = min(float(tokens), self.tpm)  # a request bigger than a minute's budget waits for a full bucket
                if self._tokens < needed:
                    wait = (needed - self._tokens) / (self.tpm / 60.0)
            if wait > 0:
                return wait
            if self.rpm:
                self._next_request = max(self._next_request, now) + 60.0 / self.rpm
            if self.tpm:
                self._tokens -= tokens
            return 0.0

    def _refill(self, now: float) -> None:
        assert self.tpm
        self._tokens = min(self.tpm, self._tokens + (now - self._refilled) * self.tpm / 60.0)
        self._refilled = now

    def settle(self, estimated: int, actual: int) -> None:
        """Correct the bucket once the server has reported the real token count."""
        if self.tpm and actual:
            with self._lock:
                self._tokens -= actual - estimated

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)


# --- one client per (settings, event loop) ----------------------------------------------

class _Connections:
    """A runtime's judge connections: a rate limiter per server (shared by every event loop, so the
    limits bound the whole run), a client per (settings, event loop), the (server, model) pairs
    found to refuse response_format, and one TLS context (building one is slow)."""

    def __init__(self) -> None:
        self.limiters: dict[tuple[str, str], RateLimiter] = {}
        self.per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[ClientSettings, JudgeClient]] = (
            weakref.WeakKeyDictionary()
        )
        self.no_structured: set[tuple[str, str]] = set()
        self.lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    def tls(self) -> ssl.SSLContext:
        """The TLS context of every client, trusting ``$SSL_CERT_FILE`` / ``$SSL_CERT_DIR`` when set."""
        if self._tls is None:
            self._tls = ssl.create_default_context(
                cafile=os.environ.get("SSL_CERT_FILE") or None, capath=os.environ.get("SSL_CERT_DIR") or None
            )
        return self._tls

    def client(self, settings: ClientSettings) -> JudgeClient:
        loop = asyncio.get_running_loop()
        with self.lock:
            clients = self.per_loop.setdefault(loop, {})
            client = clients.get(settings)
            if client is None:
                key = (settings.base_url, settings.api_key)
                limiter = self.limiters.get(key)
                if limiter is None or (limiter.rpm, limiter.tpm) != (settings.requests_per_minute, settings.tokens_per_minute):
                    limiter = self.limiters[key] = RateLimiter(settings.requests_per_minute, settings.tokens_per_minute)
                client = clients[settings] = JudgeClient(settings, limiter, self)
        return client


def _connections(runtime: Runtime) -> _Connections:
    return runtime.shared("judge connections", _Connections)


def get_client(settings: ClientSettings, runtime: Runtime) -> JudgeClient:
    """The runtime's client for these settings in the running event loop (made on first use)."""
    return _connections(runtime).client(settings)


class _BackgroundLoop:
    """One event loop in a daemon thread, for sync callers (``grade``, ``grade_batch``, ``rft score``):
    its clients, connections and limits live across batches instead of being rebuilt per batch.
    The runtime holds it (``_background_loop``) and closes it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="rft-judge-loop", daemon=True)
        self.thread.start()

    def run(self, coroutine: Any) -> Any:
        future = self.submit(coroutine)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # e.g. KeyboardInterrupt in the caller: stop the work too
            raise

    def submit(self, coroutine: Any) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def close(self) -> None:
        if not self.loop.is_running():
            return

        async def shutdown() -> None:
            # As asyncio.run does: cancel what is still running (an interrupted run), let it
            # finish, then close this loop's clients (see _close_at_shutdown).
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.loop.shutdown_asyncgens()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(timeout=5)
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()


def _background_loop(runtime: Runtime) -> _BackgroundLoop:
    return runtime.shared("judge event loop", _BackgroundLoop)


def run_in_background(coroutine: Any, runtime: Runtime) -> Any:
    """Run a coroutine on the runtime's judge loop (started on first use, again after a fork) and wait.
    Called from the judge loop's own thread (which must not block), it runs on a fresh loop instead."""
    background = _background_loop(runtime)
    if threading.current_thread() is background.thread:
        from rft_core.kernel.grader import run_sync

        return run_sync(coroutine)
    return background.run(coroutine)


def submit_in_background(coroutine: Any, runtime: Runtime) -> concurrent.futures.Future:
    """Start a coroutine on the runtime's judge loop without waiting (``rft sample`` keeps a window
    of items in flight); the caller waits on, or cancels, the returned future."""
    return _background_loop(runtime).submit(coroutine)


async def on_background_loop(coroutine: Any, runtime: Runtime) -> Any:
    """Await a coroutine that runs on the runtime's judge loop, from any event loop. Every judgment
    runs there, so ``max_concurrency`` and the rate limits bound the whole run, whichever loops
    (TRL's, a composite's, ``asyncio.run`` in a thread) ask."""
    background = _background_loop(runtime)
    if asyncio.get_running_loop() is background.loop:
        return await coroutine
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, background.loop))


async def _close_at_shutdown(client: Any):
    """An async generator whose ``finally`` closes the client: ``asyncio.run`` (and any loop
    that calls ``shutdown_asyncgens``) finalises it before the loop closes."""
    try:
        yield
    finally:
        await client.close()


class JudgeClient:
    """Sends requests for one server within one event loop."""

    def __init__(self, settings: ClientSettings, limiter: RateLimiter, connections: _Connections) -> None:
        self.settings = settings
        self.limiter = limiter
        self.connections = connections  # the run's: where a refused response_format is remembered
        self.semaphore = asyncio.Semaphore(settings.max_concurrency)
        self.inflight: dict[str | bytes, asyncio.Future] = {}  # request key -> the reply being fetched (dedup)
        self._sdk: Any = None
        self._closer: Any = None

    async def _client(self) -> Any:
        if self._sdk is None:
            try:
                import openai
            except ImportError:
                raise MissingDependencyError("openai", "judge", "score_model and label_model") from None
            tls = self.connections.tls()
            self._sdk = (_AioHttpPoster(self.settings, tls) if _aiohttp_installed()
                         else _SdkPoster(openai, self.settings, tls))
            self._closer = _close_at_shutdown(self._sdk)
            await self._closer.__anext__()
        return self._sdk

    async def complete(self, request: dict[str, Any], structured_fallback: bool = True) -> Reply:
        """Send the request, retrying as the module docstring says; ``structured_fallback=False``
        turns a rejected response_format into an error instead of a retry without it."""
        client = await self._client()
        settings = self.settings
        estimated = _estimate_tokens(request)
        attempts = 0
        retries_left = settings.max_retries
        dropped_format = False
        while True:
            attempts += 1
            await self.limiter.acquire(estimated)
            delay: float | None = None
            try:
                async with self.semaphore:
                    response = await _within(settings.timeout, client.post(request, settings.timeout))
                reply = _reply(response, request, attempts, settings.label)
                self.limiter.settle(estimated, reply.usage.get("total_tokens", 0))
                if dropped_format:
                    self.connections.no_structured.add((settings.base_url, request["model"]))
                return reply
            except asyncio.TimeoutError:
                failure = call_error(
                    f"the {settings.label} did not answer within timeout={settings.timeout:g}s "
                    f"({attempts} attempt{'s' if attempts > 1 else ''})",
                    status=Status.TIMEOUT, attempts=attempts, code="model_grader_server_error",
                )
            except _StatusError as exc:
                status_code = exc.status
                if status_code in (400, 422) and "response_format" in request and structured_fallback and not dropped_format:
                    request = {key: value for key, value in request.items() if key != "response_format"}
                    dropped_format = True
                    estimated = _estimate_tokens(request)
                    continue  # not a retry: the same question without structured outputs
                failure = call_error(
                    f"the {settings.label} server answered HTTP {status_code}: {_error_detail(exc.body)}",
                    attempts=attempts, http_status=status_code,
                )
                if status_code not in RETRY_STATUSES and status_code < 500:
                    raise failure from None
                delay = _retry_after(exc.headers)
                if delay is not None:
                    self.limiter.pause(delay)
            except _ConnectionFailed as exc:
                failure = call_error(f"cannot reach the {settings.label} at {settings.base_url}: {exc}",
                                         attempts=attempts)
            except _UnexpectedReply as exc:  # e.g. a 200 whose body is not JSON
                raise call_error(f"unexpected reply from the {settings.label}: {exc}", attempts=attempts) from None
            if retries_left <= 0:
                raise failure
            retries_left -= 1
            if delay is None:
                delay = _backoff(settings, attempts)
            await asyncio.sleep(delay)


async def _within(seconds: float, awaitable: Any) -> Any:
    """Await with a deadline for the whole attempt (the SDK's timeout is per read);
    ``asyncio.timeout`` where there is one, as it costs no extra task per request."""
    if hasattr(asyncio, "timeout"):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, timeout=seconds)


def _reply(response: Any, request: dict[str, Any], attempts: int, label: str = "judge") -> Reply:
    """A Reply from the Chat Completions JSON body; anything else is an error."""
    if not isinstance(response, dict):
        raise call_error(f"unexpected reply from the {label}: not a JSON object: {str(response)[:200]!r}",
                             attempts=attempts)
    usage = _usage(response.get("usage"))
    model = response.get("model") if isinstance(response.get("model"), str) else None
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return Reply(None, None, None, usage, model, request, attempts)
    choice = choices[0]
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    refusal = message.get("refusal")
    texts = [_choice_text(choice) for choice in choices if isinstance(choice, dict)]
    return Reply(
        texts[0]["content"],
        refusal if isinstance(refusal, str) and refusal else None,
        texts[0]["finish_reason"],
        usage,
        model,
        request,
        attempts,
        choices=texts,
    )


def _choice_text(choice: dict[str, Any]) -> dict[str, str | None]:
    """One choice's message content and finish_reason, each a string or None."""
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    content, finish_reason = message.get("content"), choice.get("finish_reason")
    return {
        "content": content if isinstance(content, str) else None,
        "finish_reason": finish_reason if isinstance(finish_reason, str) else None,
    }


def _usage(usage: Any) -> dict[str, int]:
    """The token counts of a response's usage; ``cached_tokens`` (prompt tokens the server served
    from its cache, under ``prompt_tokens_details``) when the server reports it."""
    if not isinstance(usage, dict):
        return {}
    counts = {
        name: usage[name]
        for name in ("prompt_tokens", "completion_tokens", "total_tokens")
        if type(usage.get(name)) is int
    }
    details = usage.get("prompt_tokens_details")
    if isinstance(details, dict) and type(details.get("cached_tokens")) is int:
        counts["cached_tokens"] = details["cached_tokens"]
    return counts


def _estimate_tokens(request: dict[str, Any]) -> int:
    chars = sum(_content_chars(message.get("content")) for message in request.get("messages", []))
    completion = request.get("max_completion_tokens") or request.get("max_tokens") or 0
    return chars // CHARS_PER_TOKEN + int(completion)


def _content_chars(content: Any) -> int:
    """Characters of a message's content: a string, or typed parts (text counted, images not)."""
    if isinstance(content, list):
        return sum(len(part.get("text") or "") for part in content if isinstance(part, dict))
    return len(content or "")


def _backoff(settings: ClientSettings, attempts: int) -> float:
    """Exponential backoff with jitter: half to all of initial * 2^(attempt-1), capped."""
    ceiling = min(settings.backoff_max, settings.backoff_initial * 2 ** (attempts - 1))
    return ceiling * random.uniform(0.5, 1.0)


def _retry_after(headers: Any) -> float | None:
    """Seconds from a ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date) header."""
    if headers is None:
        return None
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return min(max(float(milliseconds) / 1000, 0.0), MAX_RETRY_AFTER)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _error_detail(body: Any) -> str:
    """The message of an error body: OpenAI's ``{"error": {"message"}}``, else the body itself."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"][:500]
        if isinstance(inner, str):
            return inner[:500]
    return str(body)[:500]
