"""HTTP plumbing of ``rft serve``, on plain ASGI: JSON endpoints (orjson both ways, a body size
limit, OpenAI-shaped errors) and the bearer token."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["BearerToken", "JSONEndpoint", "RequestError", "encode", "json_kind", "send_error", "send_json"]

LOG = logging.getLogger("rft.serve")

OPEN_PATHS = frozenset({"/health"})
"""Paths answered without the token (load balancers probe them)."""


class RequestError(Exception):
    """A request the server cannot serve: answered with ``status`` and the message, the server goes on."""

    def __init__(self, status: int, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param


ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               413: "invalid_request_error", 422: "invalid_request_error"}


def encode(content: Any) -> bytes:
    """JSON bytes with orjson (numpy values included; anything else unknown as its str)."""
    return orjson.dumps(content, default=str, option=orjson.OPT_SERIALIZE_NUMPY)


async def send_json(send: Send, status: int, payload: bytes) -> None:
    """Answer with ``payload``, JSON bytes already encoded."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def send_error(send: Send, status: int, message: str, param: str | None = None) -> None:
    """OpenAI's error shape, which its SDK turns into ``BadRequestError`` etc. with this message."""
    kind = ERROR_TYPES.get(status, "server_error")
    await send_json(send, status, encode({"error": {"message": message, "type": kind, "param": param, "code": None}}))


Handler = Callable[[Any, dict[str, Any]], Awaitable[Any]]


class JSONEndpoint:
    """The ASGI app of one route: the request body decoded as a JSON object (``{}`` for a GET),
    ``handler(service, body)``, and its answer encoded as JSON.

    A RequestError is answered with its status and message, anything unexpected with 500: the
    server never dies of a request. No per-request Request/Response objects: this is the hot path.
    """

    def __init__(self, service: Any, handler: Handler, max_request_bytes: int) -> None:
        self.service = service
        self.handler = handler
        self.max_request_bytes = max_request_bytes
        self.__name__ = handler.__name__.lstrip("_")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await read_json(scope, receive, self.max_request_bytes) if scope["method"] == "POST" else {}
            payload = encode(await self.handler(self.service, body))
        except RequestError as exc:
            await send_error(send, exc.status, exc.message, exc.param)
            return
        except Exception as exc:
            LOG.exception("%s %s failed", scope["method"], scope["path"])
            await send_error(send, 500, f"internal error: {type(exc).__name__}: {exc} (the server log has the traceback)")
            return
        await send_json(send, 200, payload)


async def read_json(scope: Scope, receive: Receive, limit: int) -> dict[str, Any]:
    """The body as a JSON object; RequestError 413 past ``limit`` bytes, 400 for anything but a JSON object."""
    declared = next((value for name, value in scope["headers"] if name == b"content-length"), b"")
    if declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"request body of {declared.decode()} bytes is over this server's limit of {limit} "
                           "bytes (rft serve --max-request-mb): send fewer rows per request")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RequestError(400, "the client went away before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"request body is over this server's limit of {limit} bytes "
                               "(rft serve --max-request-mb): send fewer rows per request")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    try:
        body = orjson.loads(chunks[0] if len(chunks) == 1 else b"".join(chunks))
    except orjson.JSONDecodeError as exc:
        raise RequestError(400, f"the request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise RequestError(400, f"the request body must be a JSON object, not {json_kind(body)}")
    return body


def json_kind(value: Any) -> str:
    """What a JSON value is, for messages: "an object", "an array", "null"..."""
    kinds = {dict: "an object", list: "an array", str: "a string", type(None): "null", bool: "a boolean"}
    return kinds.get(type(value), "a number")


class BearerToken:
    """ASGI middleware: every HTTP request but ``OPEN_PATHS`` needs ``Authorization: Bearer <token>``
    (what the OpenAI SDK sends as its api_key)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                message = "missing or wrong bearer token: send 'Authorization: Bearer <token>' with the token " \
                          "in the variable named by rft serve --token-env"
                await send_error(send, 401, message)
                return
        await self.app(scope, receive, send)
