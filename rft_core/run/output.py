"""The output file of ``rft score -o OUT``: written as rows are scored, resumable after a crash.

Next to ``OUT`` the run keeps a small record, ``OUT.resume.json``: the SHA-256 of the spec file
and the data file's absolute path and size. ``--resume`` continues only when both still match,
and only when the rows already in ``OUT`` are, in order, the first samples of the data
(``index`` and ``sample_index`` agree). A torn last line (a crash in the middle of a write)
is cut off and that sample is scored again, so every sample ends up in ``OUT`` exactly once.
A run that finishes removes its record (``finish_output``): there is nothing left to resume.

Rows are written as they are scored (``RowWriter``): handed to the operating system every
``FLUSH_SECONDS`` and forced to the disk every ``SYNC_SECONDS``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .data import Task
from ..kernel.errors import RftError
from .jsonl import dumps_line, loads_line
from .output_files import NO_SYNC
from ..kernel.types import Result

__all__ = ["FLUSH_SECONDS", "SYNC_SECONDS", "RowWriter", "finish_output", "open_output", "result_from_row",
           "resume_record_path", "written_rows"]

FLUSH_SECONDS = 1.0
"""Rows reach the operating system at least this often: a killed process loses at most this much."""
SYNC_SECONDS = 5.0
"""Rows reach the disk (fsync) at least this often: a machine crash or power cut loses at most this much."""


class RowWriter:
    """Writes output rows, one JSON line each, as they are scored.

    Every ``flush_seconds`` the rows written so far go to the operating system (a flush) and, when
    the output is a regular file, every ``sync_seconds`` on to the disk (``os.fsync``); ``close``
    flushes and syncs the rest. Closing the file itself is the caller's job.
    """

    def __init__(self, handle: IO[str], *, flush_seconds: float = FLUSH_SECONDS, sync_seconds: float = SYNC_SECONDS):
        self._handle = handle
        self._descriptor = _regular_file_descriptor(handle)
        self._flush_seconds, self._sync_seconds = flush_seconds, sync_seconds
        now = time.monotonic()
        self._next_flush, self._next_sync = now + flush_seconds, now + sync_seconds

    def write(self, row: dict[str, Any]) -> None:
        self._handle.write(dumps_line(row))
        if time.monotonic() >= self._next_flush:
            self._flush(sync=False)

    def close(self) -> None:
        """Flush and sync every row written."""
        self._flush(sync=True)

    def _flush(self, *, sync: bool) -> None:
        self._handle.flush()
        now = time.monotonic()
        self._next_flush = now + self._flush_seconds
        if self._descriptor is not None and (sync or now >= self._next_sync):
            try:
                os.fsync(self._descriptor)
            except OSError as exc:
                if exc.errno not in NO_SYNC:
                    raise RftError(f"{self._handle.name}: cannot save the output rows to disk: {exc.strerror}") from None
                self._descriptor = None  # a file system that cannot sync: flushes only
            self._next_sync = time.monotonic() + self._sync_seconds


def _regular_file_descriptor(handle: IO[str]) -> int | None:
    """The handle's file descriptor if it is a regular file (fsync means nothing for a pipe or terminal)."""
    try:
        descriptor = handle.fileno()
        return descriptor if stat.S_ISREG(os.fstat(descriptor).st_mode) else None
    except (OSError, ValueError):  # io.UnsupportedOperation (an in-memory stream) is an OSError too
        return None


def resume_record_path(output: Path) -> Path:
    """Where the run's resume record lives: ``OUT.resume.json``."""
    return output.with_name(output.name + ".resume.json")


def open_output(output: Path, spec: Path, data: Path, *, resume: bool) -> tuple[IO[str], int]:
    """Open ``output`` for writing rows; with ``resume``, keep the rows a previous run wrote.

    Returns the open file (positioned after the kept rows) and how many rows were kept.
    Raises RftError when ``output`` cannot be resumed against this spec and data.
    """
    record = {"spec_sha256": _sha256(spec), "data": str(data.resolve()), "data_size": data.stat().st_size}
    record_path = resume_record_path(output)
    if resume and output.exists():
        _check_record(record_path, record, output)
        kept = _keep_complete_rows(output)
        return _open(output, "a"), kept
    handle = _open(output, "w")
    try:
        record_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        handle.close()
        raise RftError(f"{record_path}: cannot write the resume record: {exc.strerror}") from None
    return handle, 0


def finish_output(output: Path) -> None:
    """Remove the resume record of a finished run: every sample is in ``output``."""
    resume_record_path(output).unlink(missing_ok=True)


def written_rows(output: Path, count: int, tasks: Iterator[Task], data: Path) -> Iterator[dict[str, Any]]:
    """The first ``count`` rows of ``output``, each checked against (and taking) the next task of ``data``.

    Raises RftError at the first row that is not the sample the data gives at that place.
    """
    with open(output, "rb") as handle:
        rows = (loads_line(raw) for raw in itertools.islice(handle, count))
        yield from _checked(rows, tasks, output, data)


def _checked(rows: Iterator[dict[str, Any]], tasks: Iterator[Task], output: Path, data: Path) -> Iterator[dict[str, Any]]:
    for line, row in enumerate(rows, start=1):
        task = next(tasks, None)
        written = (row.get("index"), row.get("sample_index"))
        if task is None or (task.index, task.sample_index) != written:
            expected = "nothing (the data has fewer samples)" if task is None else _sample_name(task.index, task.sample_index)
            raise RftError(
                f"{output}: line {line} is {_sample_name(*written)} but {data} gives {expected} there; "
                "this output was not written from this data: score again without --resume"
            )
        yield row


def result_from_row(row: dict[str, Any]) -> Result:
    """The Result an output row (or a sub-result in it) was written from, for the run's summary."""
    return Result.from_dict(row)


def _sample_name(index: Any, sample_index: Any) -> str:
    return f"row {index}" + (f" sample {sample_index}" if sample_index is not None else "")


def _check_record(record_path: Path, record: dict[str, Any], output: Path) -> None:
    try:
        stored = json.loads(record_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RftError(
            f"{output}: cannot resume: no resume record {record_path.name} next to it (the run that wrote it "
            "finished, or it was not written by `rft score -o`): score again without --resume"
        ) from None
    except (OSError, ValueError) as exc:
        raise RftError(f"{record_path}: cannot read the resume record: {exc}") from None
    changed = [
        what
        for key, what in (("spec_sha256", "the spec file changed"), ("data", "the data file is another file"),
                          ("data_size", "the data file's size changed"))
        if stored.get(key) != record[key]
    ]
    if changed:
        raise RftError(
            f"{output}: cannot resume: {'; '.join(changed)} since this output was started "
            f"({record_path.name}): score again without --resume"
        )


def _keep_complete_rows(output: Path) -> int:
    """How many complete rows ``output`` holds; a torn last line is cut off the file."""
    kept = good_end = 0
    torn = None
    with open(output, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if torn is not None:  # a bad line with more after it: not a crash's torn write
                raise RftError(f"{output}: line {torn} is not an output row; cannot resume: score again without --resume")
            try:
                row = loads_line(raw) if raw.endswith(b"\n") else None
            except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
                row = None
            if not isinstance(row, dict) or "index" not in row:
                torn = number
                continue
            kept += 1
            good_end += len(raw)
    if torn is not None:  # the write a crash interrupted: that sample is scored again
        with open(output, "r+b") as handle:
            handle.truncate(good_end)
    return kept


def _open(path: Path, mode: str) -> IO[str]:
    try:
        return open(path, mode, encoding="utf-8")
    except OSError as exc:
        raise RftError(f"{path}: cannot write the output: {exc.strerror}") from None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
