"""Paths a spec names: a relative one starts from the spec file's folder.

The spec loader validates each grader's config with the folder in pydantic's validation context
(``model_validate(fields, context=spec_context(folder))``); a ``SpecPath`` field, and a validator
that calls ``spec_path(value, info)``, resolve against it. Validated without that context (a config
built in Python), relative paths start from the working directory. Either way the value is
absolute once validated, so a pickled grader (TRL, Ray, worker processes) means the same file
whatever its process's working directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo, WithJsonSchema

__all__ = ["SpecPath", "context_folder", "read_named_file", "spec_context", "spec_path"]

_FOLDER = "rft_spec_folder"


def spec_context(folder: str | Path | None) -> dict[str, Any]:
    """The validation context under which relative paths start from ``folder`` (None: the working directory)."""
    return {_FOLDER: Path(os.path.abspath(folder)) if folder is not None else None}


def context_folder(info: ValidationInfo | None) -> Path | None:
    """The spec's folder a validation was given (``spec_context``), None when it was given none."""
    context = info.context if info is not None else None
    folder = context.get(_FOLDER) if isinstance(context, Mapping) else None
    return folder if isinstance(folder, Path) else None


def spec_path(value: str | PathLike[str], info: ValidationInfo | None) -> Path:
    """The absolute path of a file a spec names.

    Args:
        value: the path as the spec gives it.
        info: the ``ValidationInfo`` of the validator calling this (pydantic passes it to a validator
            that takes a second argument); a relative ``value`` starts from the spec file's folder it
            carries, else (a config built in Python, or None) from the working directory.
    """
    path = Path(value)
    if path.is_absolute():
        return path
    return (context_folder(info) or Path.cwd()) / path


def _to_spec_path(value: Any, info: ValidationInfo) -> Any:
    return spec_path(value, info) if isinstance(value, (str, PathLike)) else value


SpecPath = Annotated[
    Path,
    BeforeValidator(_to_spec_path),
    WithJsonSchema({"type": "string", "description": "A path; a relative one starts from the spec file's folder."}),
]
"""Config field type of a file or folder a spec names: validated to an absolute ``Path`` (a relative
one starts from the spec file's folder, or the working directory for a config built in Python).

>>> from rft_core import GraderConfig
>>> class Config(GraderConfig):
...     model_path: SpecPath
>>> str(Config(type="x", model_path="/models/rm").model_path)
'/models/rm'
"""


def read_named_file(
    value: str | PathLike[str], what: str, info: ValidationInfo | None, encoding: str = "utf-8"
) -> tuple[str, str]:
    """Read a text file a spec names, from a validator (the path resolves as ``spec_path(value, info)``).

    Returns the text and ``where``, a phrase naming the file (and the path it resolved to) for
    further messages; a missing or unreadable file raises ValueError saying so.
    """
    path = spec_path(value, info)
    where = f"{what} {str(value)!r}" + ("" if Path(value).is_absolute() else f" (resolved to {path.resolve()})")
    try:
        return path.read_text(encoding=encoding), where
    except FileNotFoundError:
        raise ValueError(f"{where} not found; relative paths start from the spec file's folder") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{where} cannot be read: {exc}") from None
