"""A scripted OpenAI-compatible chat completions server on 127.0.0.1, for tests and benchmarks.

``JudgeServer(script)`` listens on a free port in a background thread. For every
``POST /v1/chat/completions`` it records the request (``requests``: the parsed
JSON bodies, ``headers``) and asks ``script(body, number)`` what to do, where
``number`` counts requests from 0 (``tls=`` a server-side SSLContext serves https). The script returns a ``Reply``: a JSON answer
(status, body, headers, delay before answering) or ``drop=True`` to close the
connection without answering. ``completion(content)`` builds an OpenAI-shaped
200 body, ``completions(contents)`` one with several choices (a request's ``n``).
The server stops itself after ``lifetime`` seconds at the latest.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["JudgeServer", "Reply", "completion", "completions", "error"]


@dataclass
class Reply:
    """What the server does with one request."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False


def completion(
    content: str | None,
    *,
    refusal: str | None = None,
    finish_reason: str = "stop",
    prompt_tokens: int = 20,
    completion_tokens: int = 5,
    model: str = "judge-model",
    delay: float = 0.0,
    cached_tokens: int | None = None,
) -> Reply:
    """A 200 reply in the Chat Completions wire format."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if refusal is not None:
        message["refusal"] = refusal
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
    if cached_tokens is not None:
        body["usage"]["prompt_tokens_details"] = {"cached_tokens": cached_tokens}
    return Reply(body, delay=delay)


def completions(contents: list[str | None], **fields: Any) -> Reply:
    """A 200 reply with one choice per content (what a server gives for ``n``); fields as completion's."""
    reply = completion(contents[0], **fields)
    finish_reason = reply.body["choices"][0]["finish_reason"]
    reply.body["choices"] = [
        {"index": index, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason,
         "logprobs": None}
        for index, content in enumerate(contents)
    ]
    return reply


def error(status: int, message: str = "error", headers: dict[str, str] | None = None, delay: float = 0.0) -> Reply:
    """An error reply shaped like OpenAI's."""
    body = {"error": {"message": message, "type": "test_error", "code": None, "param": None}}
    return Reply(body, status=status, headers=headers or {}, delay=delay)


Script = Callable[[dict[str, Any], int], Reply]


class JudgeServer:
    """The server; use as a context manager or call ``start``/``stop``."""

    def __init__(self, script: Script | None = None, lifetime: float = 120.0, tls: Any = None) -> None:
        self.script: Script = script or (lambda body, number: completion('{"steps": [], "result": 1}'))
        self.lifetime = lifetime
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.times: list[float] = []  # time.monotonic() at each request's arrival
        self.in_flight = 0
        self.max_in_flight = 0  # most requests being answered at once
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _handler(self))
        if tls is not None:  # an ssl.SSLContext for the server side: https
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self.base_url = f"{'https' if tls is not None else 'http'}://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True
        self._stopped = False

    def start(self) -> JudgeServer:
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._timer.cancel()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> JudgeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def _record(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> int:
        with self._lock:
            number = len(self.requests)
            self.requests.append(body)
            self.headers.append(headers)
            self.paths.append(path)
            self.times.append(time.monotonic())
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return number

    def _done(self) -> None:
        with self._lock:
            self.in_flight -= 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up on a slow reply is expected, not news


def _handler(server: JudgeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in separate writes

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"_unparsed": raw.decode("utf-8", "replace")}
            number = server._record(self.path, dict(self.headers), body)
            try:
                if not self.path.endswith("/chat/completions"):
                    reply = error(404, f"no route {self.path}")
                else:
                    reply = server.script(body, number)
                if reply.delay:
                    time.sleep(reply.delay)
            finally:
                server._done()  # before the answer leaves, so the client never sees a stale count
            if reply.drop:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            payload = json.dumps(reply.body).encode() if not isinstance(reply.body, bytes) else reply.body
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler
