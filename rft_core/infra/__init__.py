"""Machinery that knows no grader, for graders and plugins to build on (a public API, like ``rft_core``).

- OpenAI-compatible client: endpoint, limits, retries, one background event loop (``openai_client``)
- the judges' on-disk request cache (``cache``)
- torch/transformers helpers: lazy import, model location, device and dtype, a process-wide model cache
- worker processes: cpu counting that works on Linux and macOS, exiting with the parent
- the bubblewrap sandbox (the submodule ``rft_core.infra.sandbox``), a static scan of Python imports,
  and a memo a composite's children share while grading one batch

Everything here may depend on ``rft_core.kernel``, nothing else of the project.
"""

from .batch_memo import batch_memo, shared
from .cache import JudgeCache, cache_disabled_by_env, default_cache_dir, get_cache, request_key
from .cpus import CPUS_VARIABLE, available_cpus
from .imports import imported_modules, missing_imports
from .openai_client import (
    DEFAULT_BASE_URL,
    ClientSettings,
    JudgeCallError,
    JudgeClient,
    Reply,
    get_client,
    is_reasoning_model,
    on_background_loop,
    resolve_endpoint,
    run_in_background,
    submit_in_background,
    supports_structured,
)
from .torch_helpers import DEVICES, DTYPES, import_torch, load_cached, locate_model, pick_device, torch_dtype
from .workers import exit_with_parent

__all__ = [
    "CPUS_VARIABLE",
    "DEFAULT_BASE_URL",
    "DEVICES",
    "DTYPES",
    "ClientSettings",
    "JudgeCache",
    "JudgeCallError",
    "JudgeClient",
    "Reply",
    "available_cpus",
    "batch_memo",
    "cache_disabled_by_env",
    "default_cache_dir",
    "exit_with_parent",
    "get_cache",
    "get_client",
    "import_torch",
    "imported_modules",
    "is_reasoning_model",
    "load_cached",
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
