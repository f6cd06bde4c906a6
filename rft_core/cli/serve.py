"""The serve command: the spec as an HTTP grading service."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..kernel.errors import RftError
from .options import positive_int


def add_commands(commands: Any) -> None:
    serve = commands.add_parser(
        "serve", help="serve a spec over HTTP: OpenAI's /graders/run, OpenRLHF's /get_reward, /score (docs/serve.md)"
    )
    serve.add_argument("spec", type=Path, nargs="?", help="the spec that grades requests sending no grader")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    serve.add_argument("--workers", type=positive_int, default=1, metavar="N", help="server processes (1)")
    serve.add_argument(
        "--token-env", metavar="VAR", help="require 'Authorization: Bearer <token>' with the token in variable VAR"
    )
    serve.add_argument(
        "--max-request-mb", type=positive_int, default=64, metavar="MB", help="refuse larger request bodies (64)"
    )
    serve.add_argument(
        "--spec-only", action="store_true", help="refuse graders sent in requests: grade only with SPEC"
    )
    serve.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], default="info",
        help="uvicorn's log level; info logs every request (default), warning only problems",
    )
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from ..integrations.serve import serve

    if args.spec_only and args.spec is None:
        raise RftError("--spec-only needs a SPEC to grade with: rft serve SPEC --spec-only")
    serve(
        args.spec, host=args.host, port=args.port, workers=args.workers, token_env=args.token_env,
        max_request_bytes=args.max_request_mb * 1024 * 1024, request_graders=not args.spec_only,
        log_level=args.log_level,
    )
    return 0
