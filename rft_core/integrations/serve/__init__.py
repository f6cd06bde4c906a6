"""``rft serve``: a spec behind HTTP for trainers and tools (OpenAI's grader API, OpenRLHF, batch scoring).

Needs ``pip install 'rft-graders[serve]'`` (Starlette and uvicorn), imported only when used.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ...kernel.errors import MissingDependencyError

__all__ = ["create_app", "serve"]


def create_app(*args: Any, **kwargs: Any) -> Any:
    """The ASGI app: see ``rft_core.integrations.serve.app.create_app``."""
    return _server().create_app(*args, **kwargs)


def serve(*args: Any, **kwargs: Any) -> None:
    """Serve a spec until Ctrl-C or SIGTERM: see ``rft_core.integrations.serve.server.serve``."""
    _server().serve(*args, **kwargs)


def _server() -> ModuleType:
    try:
        from . import server
    except ModuleNotFoundError as exc:
        if exc.name in ("starlette", "uvicorn"):
            raise MissingDependencyError(exc.name, "serve", "rft serve") from None
        raise
    return server
