"""The output file of ``rft score -o OUT``: written as rows are scored, resumable after a crash.

Next to ``OUT`` the run keeps a small record, ``OUT.resume.json``: the SHA-256 of the spec file
and the data file's absolute path and size. ``--resume`` continues only when both still match,
and only when the rows already in ``OUT`` are, in order, the first samples of the data
(``index`` and ``sample_index`` agree). A torn last line (a crash in the middle of a write)
is cut off and that sample is scored again, so every sample ends up in ``OUT`` exactly once.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .data import Task
from .errors import RftError
from .types import Result, Status

__all__ = ["open_output", "result_from_row", "resume_record_path", "written_rows"]


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


def written_rows(output: Path, count: int, tasks: Iterator[Task], data: Path) -> Iterator[dict[str, Any]]:
    """The first ``count`` rows of ``output``, each checked against (and taking) the next task of ``data``.

    Raises RftError at the first row that is not the sample the data gives at that place.
    """
    with open(output, "rb") as handle:
        rows = (json.loads(raw) for raw in itertools.islice(handle, count))
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
    sub_rewards = {name: result_from_row(sub) for name, sub in (row.get("sub_rewards") or {}).items()}
    return Result(row["reward"], Status(row["status"]), row.get("reason"), sub_rewards, row.get("metadata") or {})


def _sample_name(index: Any, sample_index: Any) -> str:
    return f"row {index}" + (f" sample {sample_index}" if sample_index is not None else "")


def _check_record(record_path: Path, record: dict[str, Any], output: Path) -> None:
    try:
        stored = json.loads(record_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RftError(
            f"{output}: cannot resume: no resume record {record_path.name} next to it "
            "(it was not written by `rft score -o`): score again without --resume"
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
                row = json.loads(raw) if raw.endswith(b"\n") else None
            except ValueError:
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
