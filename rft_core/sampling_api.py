"""``rft sample`` against an OpenAI-compatible server, through the LLM judges' client and cache.

Per item: one request with ``n=k`` when the server gives k choices for it (vLLM, OpenAI);
a server that answers ``n`` with fewer choices, or rejects it (HTTP 400/422), is remembered
for the process and the missing samples are asked one request each, sample j with
``seed + j`` when a seed is set. Requests run on the judges' background event loop with
their concurrency limit, rate limits, retries (429, 5xx, timeouts; ``Retry-After``
honoured) and per-attempt timeout (``graders._judge_client``).

Cache (``graders._judge_cache``, the judges' sqlite file): the key is the request body and,
for one-sample requests, the sample number, so k identical requests keep k different
samples and a re-run reads them back without a request. Only replies whose every choice has
text are stored; a failed sample is asked again next run.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

from graders._judge_cache import cache_disabled_by_env, get_cache, request_key
from graders._judge_client import ClientSettings, JudgeCallError, get_client, resolve_endpoint, submit_in_background
from graders.judge._config import is_reasoning_model

from .errors import MissingDependencyError, RftError
from .sampling import ItemSamples, PromptRow, SampleOptions

__all__ = ["ApiSampler"]

REJECTED_N = (400, 422)  # a server that refuses n > 1 says so with these

_no_n: set[tuple[str, str]] = set()  # (base_url, model) that do not give n choices per request


class ApiSampler:
    """Samples k completions per prompt from one server, a window of items in flight."""

    def __init__(self, options: SampleOptions) -> None:
        try:
            import openai  # noqa: F401
        except ImportError:
            raise MissingDependencyError("openai", "judge", "rft sample") from None
        base_url, api_key = resolve_endpoint(options.base_url, None, options.api_key_env)
        if api_key is None:
            raise RftError(f"no API key for {base_url}: set {options.api_key_env} (or name another with --api-key-env)")
        self.options = options
        self.settings = ClientSettings(
            base_url=base_url,
            api_key=api_key,
            max_concurrency=options.concurrency,
            requests_per_minute=options.requests_per_minute,
            tokens_per_minute=options.tokens_per_minute,
            timeout=options.timeout,
            max_retries=options.max_retries,
            label="model",
        )
        self.cache = get_cache(options.cache_dir) if options.cache and not cache_disabled_by_env() else None
        per_item = 1 if options.n_per_request else options.k
        self.window = max(4, 2 * -(-options.concurrency // per_item))  # items in flight: keeps every slot busy

    def samples(self, prompts: Sequence[PromptRow]) -> Iterator[ItemSamples]:
        """One ItemSamples per prompt, in order; items are fetched ahead within the window."""
        pending: deque[Any] = deque()
        try:
            for prompt in prompts:
                pending.append(submit_in_background(self._item(_chat(prompt.prompt))))
                if len(pending) >= self.window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:  # an interrupted run: stop the requests still in flight
                future.cancel()

    async def _item(self, messages: list[dict[str, Any]]) -> ItemSamples:
        client = get_client(self.settings)
        k = self.options.k
        result = ItemSamples.empty(k)
        server = (self.settings.base_url, self.options.model)
        if k > 1 and self.options.n_per_request and server not in _no_n:
            await self._fill(client, result, self.body(messages, n=k), list(range(k)), None)
        missing = [j for j in range(k) if result.completions[j] is None and result.errors[j] is None]
        await asyncio.gather(*(self._fill(client, result, self.body(messages, sample=j), [j], j) for j in missing))
        return result

    def body(self, messages: list[dict[str, Any]], *, sample: int = 0, n: int | None = None) -> dict[str, Any]:
        """The request for sample ``sample`` (its seed is seed + sample), or for n samples at once."""
        options = self.options
        body: dict[str, Any] = {"model": options.model, "messages": messages, "temperature": options.temperature}
        if options.top_p is not None:
            body["top_p"] = options.top_p
        if options.max_tokens is not None:
            body["max_completion_tokens" if is_reasoning_model(options.model) else "max_tokens"] = options.max_tokens
        if options.seed is not None:
            body["seed"] = options.seed + sample
        if n is not None:
            body["n"] = n
        return body

    async def _fill(self, client: Any, result: ItemSamples, body: dict[str, Any], positions: list[int],
                    sample: int | None) -> None:
        """Get the samples at ``positions`` with one request (or from the cache) into ``result``."""
        key = request_key(self.settings.base_url, body, sample)
        stored = self.cache.get(key) if self.cache is not None else None
        if stored is not None:
            choices = stored.get("choices") or [{"content": stored.get("content"),
                                                 "finish_reason": stored.get("finish_reason")}]
            result.cached += min(len(choices), len(positions))
        else:
            try:
                reply = await client.complete(body, structured_fallback=False)
            except JudgeCallError as exc:
                result.requests += exc.attempts
                if "n" in body and exc.http_status in REJECTED_N:
                    _no_n.add((self.settings.base_url, self.options.model))  # ask one by one instead
                else:
                    result.fail(positions, str(exc))
                return
            result.requests += reply.attempts
            result.add_usage(reply.usage)
            choices = reply.choices
            if self.cache is not None and choices and all(isinstance(c["content"], str) for c in choices):
                self.cache.put(key, self.options.model, {**reply.to_cache(), "choices": choices})
        for position, choice in zip(positions, choices):
            if isinstance(choice.get("content"), str):
                result.completions[position] = choice["content"]
            else:
                result.fail([position], f"the model's reply has no text (finish_reason {choice.get('finish_reason')})")
        if len(choices) < len(positions):
            if "n" in body:  # the server ignores n: the rest are asked one by one
                _no_n.add((self.settings.base_url, self.options.model))
            else:
                result.fail(positions[len(choices):], "the model's reply has no choices")


def _chat(prompt: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A text prompt is the user's message; chat messages go as they are."""
    return [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
