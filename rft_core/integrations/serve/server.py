"""Run the ``rft serve`` app with uvicorn: one process, or ``workers`` processes sharing the port."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn

from ...kernel.errors import RftError
from ...kernel.spec import load_spec
from .app import DEFAULT_MAX_REQUEST_BYTES, create_app

__all__ = ["app_from_environment", "create_app", "serve"]

OPTIONS_VARIABLE = "RFT_SERVE_OPTIONS"
"""How ``serve`` hands its options to worker processes (uvicorn starts them from an import string)."""


def serve(
    spec: str | Path | None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    token_env: str | None = None,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    request_graders: bool = True,
    log_level: str = "info",
) -> None:
    """Serve until Ctrl-C or SIGTERM (uvicorn finishes the requests in flight, then returns).

    The spec and the token are checked before the port opens: RftError says what to fix.
    ``workers`` > 1 runs that many processes, each with its own copy of the spec.
    """
    if workers < 1:
        raise RftError(f"--workers must be at least 1, not {workers}")
    if spec is not None:
        load_spec(spec)  # every problem reported now, not in each worker
    options = {
        "spec": str(spec) if spec is not None else None, "token_env": token_env,
        "max_request_bytes": max_request_bytes, "request_graders": request_graders,
    }
    _token(token_env)
    settings: dict[str, Any] = {"host": host, "port": port, "log_level": log_level, "timeout_graceful_shutdown": 30}
    with _stopped_by_signal():
        if workers == 1:
            uvicorn.run(_app(options), **settings)
        else:
            os.environ[OPTIONS_VARIABLE] = json.dumps(options)
            uvicorn.run("rft_core.integrations.serve.server:app_from_environment", factory=True, workers=workers, **settings)


class _Stopped(Exception):
    """SIGTERM, raised again by uvicorn once it has shut down gracefully."""


@contextlib.contextmanager
def _stopped_by_signal() -> Iterator[None]:
    """A graceful shutdown on Ctrl-C or SIGTERM is a normal end: uvicorn raises the signal again after
    it, which would otherwise kill the process (SIGTERM) or surface as KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stopped(signum: int, frame: Any) -> None:
        raise _Stopped

    previous = signal.signal(signal.SIGTERM, stopped)
    try:
        yield
    except (_Stopped, KeyboardInterrupt):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def app_from_environment() -> Any:
    """The app of a worker process, from the options ``serve`` left in ``$RFT_SERVE_OPTIONS``."""
    return _app(json.loads(os.environ[OPTIONS_VARIABLE]))


def _app(options: dict[str, Any]) -> Any:
    return create_app(
        options["spec"], token=_token(options["token_env"]), max_request_bytes=options["max_request_bytes"],
        request_graders=options["request_graders"],
    )


def _token(variable: str | None) -> str | None:
    if variable is None:
        return None
    token = os.environ.get(variable, "")
    if not token:
        raise RftError(f"--token-env {variable}: the variable is not set or empty: export {variable}=<token> "
                       "(clients send it as 'Authorization: Bearer <token>')")
    return token
