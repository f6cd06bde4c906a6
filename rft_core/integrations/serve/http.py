"""HTTP plumbing of ``rft serve``: JSON bodies under a size limit, OpenAI-shaped errors, the bearer token."""

from __future__ import annotations

import hmac
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["BearerToken", "JSONBody", "RequestError", "error_response", "json_kind", "read_json"]

OPEN_PATHS = frozenset({"/health"})
"""Paths answered without the token (load balancers probe them)."""


class RequestError(Exception):
    """A request the server cannot serve: answered with ``status`` and the message, the server goes on."""

    def __init__(self, status: int, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param


class JSONBody(Response):
    """A JSON response written with orjson (numpy values included; anything else unknown as its str)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=str, option=orjson.OPT_SERIALIZE_NUMPY)


ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               413: "invalid_request_error", 422: "invalid_request_error"}


def error_response(status: int, message: str, param: str | None = None) -> JSONBody:
    """OpenAI's error shape, which its SDK turns into ``BadRequestError`` etc. with this message."""
    kind = ERROR_TYPES.get(status, "server_error")
    return JSONBody({"error": {"message": message, "type": kind, "param": param, "code": None}}, status_code=status)


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """The body as a JSON object; RequestError 413 past ``limit`` bytes, 400 for anything but a JSON object."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"request body of {declared} bytes is over this server's limit of {limit} bytes "
                           "(rft serve --max-request-mb): send fewer rows per request")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"request body is over this server's limit of {limit} bytes "
                               "(rft serve --max-request-mb): send fewer rows per request")
        chunks.append(chunk)
    try:
        body = orjson.loads(b"".join(chunks))
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
                await error_response(401, message)(scope, receive, send)
                return
        await self.app(scope, receive, send)
