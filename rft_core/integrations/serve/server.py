"""Run the ``rft serve`` app with uvicorn: in this process, or in ``workers`` processes sharing the port."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import uvicorn

from ...kernel.errors import RftError
from ...kernel.spec import load_spec
from .app import DEFAULT_MAX_REQUEST_BYTES, create_app
from .workers import freeze_startup_objects, run_workers, stopped_by_signal

__all__ = ["create_app", "serve"]


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
    ``workers`` > 1 runs that many processes (``workers.run_workers``), each with its own copy of the spec.
    """
    if workers < 1:
        raise RftError(f"--workers must be at least 1, not {workers}")
    if spec is not None:
        load_spec(spec)  # every problem reported now, not in each worker
    build_app = functools.partial(
        create_app, str(spec) if spec is not None else None, token=_token(token_env),
        max_request_bytes=max_request_bytes, request_graders=request_graders,
    )
    settings: dict[str, Any] = {"host": host, "port": port, "log_level": log_level, "timeout_graceful_shutdown": 30}
    with stopped_by_signal():
        if workers == 1:
            app = build_app()
            freeze_startup_objects()
            uvicorn.run(app, **settings)
        else:
            run_workers(build_app, workers, settings)


def _token(variable: str | None) -> str | None:
    if variable is None:
        return None
    token = os.environ.get(variable, "")
    if not token:
        raise RftError(f"--token-env {variable}: the variable is not set or empty: export {variable}=<token> "
                       "(clients send it as 'Authorization: Bearer <token>')")
    return token
