"""Machinery that knows no grader, for graders and plugins to build on (a public API, like ``rft_core``).

- OpenAI-compatible client: endpoint, limits, retries, one background event loop (``openai_client``)
- the judges' on-disk request cache (``cache``)
- torch/transformers helpers: lazy import, model location, device and dtype, a process-wide model cache
- worker processes: exiting with the parent
- the bubblewrap sandbox (the submodule ``rft_core.infra.sandbox``), a static scan of Python imports,
  and a memo a composite's children share while grading one batch

Everything here may depend on ``rft_core.kernel``, nothing else of the project.
"""

from .batch_memo import batch_memo, shared
from .cache import JudgeCache, default_cache_dir, flight_key, get_cache, request_key
from .imports import imported_modules, missing_imports
from .openai_client import (
    DEFAULT_BASE_URL,
    ClientSettings,
    JudgeClient,
    call_error,
    Reply,
    get_client,
    is_reasoning_model,
    on_background_loop,
    resolve_endpoint,
    run_in_background,
    submit_in_background,
    supports_structured,
)
from .torch_helpers import DEVICES, DTYPES, import_torch, locate_model, pick_device, torch_dtype
from .workers import exit_with_parent

__all__ = [
    "DEFAULT_BASE_URL",
    "DEVICES",
    "DTYPES",
    "ClientSettings",
    "JudgeCache",
    "JudgeClient",
    "Reply",
    "batch_memo",
    "call_error",
    "default_cache_dir",
    "exit_with_parent",
    "flight_key",
    "get_cache",
    "get_client",
    "import_torch",
    "imported_modules",
    "is_reasoning_model",
    "locate_model",
    "missing_imports",
    "on_background_loop",
    "pick_device",
    "request_key",
    "resolve_endpoint",
    "run_in_background",
    "shared",
    "submit_in_background",
    "supports_structured",
    "torch_dtype",
]
