"""Outputs never destroy inputs: a same-file guard, and whole-file outputs written atomically.

``check_outputs`` runs before anything is opened for writing. Two paths are the same file when
they have the same device and inode (``os.stat`` follows symbolic links, and hard links share
an inode); an output that does not exist yet is compared by its resolved path, so two outputs
naming one new file through different spellings are caught too.

``atomic_text`` writes a file that is either the old one or the whole new one: the text goes
to a temporary file next to it, which replaces the target (``os.replace``) only once complete.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ..kernel.errors import RftError

__all__ = ["NO_SYNC", "atomic_text", "check_outputs"]

NO_SYNC = frozenset((errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP))
"""What ``os.fsync`` says on a file system that cannot sync (the data is flushed, nothing more to do)."""


def check_outputs(inputs: Mapping[str, Path | None], outputs: Mapping[str, Path | None]) -> None:
    """Raise RftError when an output is one of the inputs, or two outputs are one file.

    Keys name the arguments in the message (``"DATA"``, ``"-o"``); ``None`` values are skipped.
    """
    seen: dict[object, tuple[str, Path]] = {}
    for label, path in inputs.items():
        if path is not None:
            seen.setdefault(_identity(path), (label, path))
    for label, path in outputs.items():
        if path is None:
            continue
        identity = _identity(path)
        if identity in seen:
            other_label, other = seen[identity]
            role = "another output" if other_label in outputs else "an input"
            link = "" if os.path.abspath(other) == os.path.abspath(path) else f" {other} (the same file)"
            raise RftError(
                f"{label} {path} is {other_label}{link}, {role} of this command: writing it would destroy "
                "that; nothing was written: choose another output file"
            )
        seen[identity] = (label, path)


def _identity(path: Path) -> object:
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return ("new", os.path.realpath(path))
    except OSError:  # unreadable: the command reports it when it opens the file
        return ("unknown", os.path.realpath(path))
    return ("file", status.st_dev, status.st_ino)


@contextmanager
def atomic_text(path: Path, what: str = "the output") -> Iterator[IO[str]]:
    """A text handle whose content becomes ``path`` when the block ends without an exception.

    On an exception (Ctrl-C included) the temporary file is removed and ``path`` is left as it was.
    A symbolic link stays a link: the file it points to is replaced. Raises RftError naming
    ``path`` (and ``what`` it is) when its directory is not writable.
    """
    target = Path(os.path.realpath(path))
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise RftError(f"{path}: cannot write {what}: {exc.strerror}") from None
    try:
        # a lone surrogate (from a row's "\\ud800") is written as that escape, not refused halfway through
        with open(descriptor, "w", encoding="utf-8", errors="backslashreplace") as handle:
            yield handle
            handle.flush()
            _sync(handle.fileno())
        os.chmod(temporary, _mode_for(target))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _sync(descriptor: int) -> None:
    try:
        os.fsync(descriptor)
    except OSError as exc:
        if exc.errno not in NO_SYNC:
            raise


def _mode_for(path: Path) -> int:
    """The target's permissions if it exists, else what a newly created file gets (0o666 minus the umask)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
