"""What the transformers-backed graders share: finding a model, loading it once per process, devices.

torch and transformers are imported here lazily (inside functions), so modules that import this
one still import without the ``rm`` extra; a missing package raises MissingDependencyError.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationInfo

from rft_core.kernel.errors import MissingDependencyError
from rft_core.kernel.paths import spec_path

__all__ = ["DEVICES", "DTYPES", "import_torch", "locate_model", "pick_device", "torch_dtype"]

DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("auto", "float32", "float16", "bfloat16")
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")


def import_torch(needed_for: str) -> tuple[Any, Any]:
    """``(torch, transformers)``, or MissingDependencyError naming the ``rm`` extra."""
    try:
        import torch
    except ImportError:
        raise MissingDependencyError("torch", "rm", needed_for) from None
    try:
        import transformers
    except ImportError:
        raise MissingDependencyError("transformers", "rm", needed_for) from None
    return torch, transformers


def locate_model(value: str, what: str, needed_for: str, info: ValidationInfo | None) -> str:
    """A model a spec names: a local directory (relative to the spec file's folder) or a hub id.

    Call it from the validator of the field naming the model with the validator's ``info``
    (``rft_core.spec_path`` resolves the directory with it). Returns the directory's absolute path,
    or the hub id when the Hub (or its local cache) has it. Raises ValueError naming the path and how to fix it otherwise, MissingDependencyError
    without torch and transformers.
    """
    for package in ("torch", "transformers"):  # found without importing: a spec loads fast
        if importlib.util.find_spec(package) is None:
            raise MissingDependencyError(package, "rm", needed_for)
    path = spec_path(value, info)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ValueError(
                f"{what} {value!r} ({path.resolve()}) has no config.json, so it is not a saved transformers "
                "model: save one there with model.save_pretrained(DIR) and tokenizer.save_pretrained(DIR)"
            )
        return str(path.resolve())
    where = f"{what} {value!r}: no such directory ({path.resolve()})"
    if not _HUB_ID.fullmatch(value) or Path(value).is_absolute():
        raise ValueError(f"{where}; give the directory of a saved model (relative paths start from the spec file's folder)")
    _, transformers = import_torch(needed_for)
    try:
        transformers.AutoConfig.from_pretrained(value)
    except Exception as exc:  # noqa: BLE001 - OSError offline, ValueError/HTTP errors for a bad id
        problem = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"{where}, and the Hugging Face Hub could not provide it ({problem}); give the directory of a saved "
            f"model, or download it while online (huggingface-cli download {value}) or unset HF_HUB_OFFLINE"
        ) from None
    return value


def pick_device(torch: Any, device: str) -> str:
    """``auto`` is cuda when there is a GPU, else mps on Apple silicon, else cpu."""
    if device != "auto":
        return device
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def torch_dtype(torch: Any, dtype: str, device: str) -> Any:
    """``auto`` is float32 on cpu and the checkpoint's own dtype on an accelerator."""
    if dtype == "auto":
        return torch.float32 if device == "cpu" else "auto"
    return getattr(torch, dtype)


