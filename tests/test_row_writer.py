"""RowWriter (rft_core.run.output): rows written as they are scored, flushed to the operating system
and synced to the disk at intervals; and what `rft score` writes with it."""

from __future__ import annotations

import errno
import gc
import io
import json
import math
import os

import pytest

from rft_core.cli import main
from rft_core.kernel.errors import RftError
from rft_core.run.output import RowWriter, result_from_row
from rft_core.kernel.types import Status

ROW = {"index": 0, "reward": 1.0, "status": "ok", "reason": "café", "sub_rewards": {}, "errors": {}}


@pytest.fixture
def fsyncs(monkeypatch):
    """The file descriptors os.fsync is called on (each call still syncs)."""
    calls: list[int] = []
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        calls.append(descriptor)
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    return calls


def test_rows_reach_the_file_at_each_flush_interval(tmp_path, fsyncs):
    path = tmp_path / "out.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        writer = RowWriter(handle, flush_seconds=0, sync_seconds=3600)
        writer.write(ROW)
        writer.write({**ROW, "index": 1})
        assert [json.loads(line)["index"] for line in path.read_text(encoding="utf-8").splitlines()] == [0, 1]
        assert fsyncs == []  # flushed, but no sync due yet


def test_rows_wait_in_the_buffer_until_the_flush_interval_or_close(tmp_path, fsyncs):
    path = tmp_path / "out.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        writer = RowWriter(handle, flush_seconds=3600, sync_seconds=3600)
        writer.write(ROW)
        assert path.read_bytes() == b""
        writer.close()
        assert path.read_text(encoding="utf-8") == '{"index":0,"reward":1.0,"status":"ok","reason":"café","sub_rewards":{},"errors":{}}\n'
        assert fsyncs == [handle.fileno()]  # close syncs what is left


def test_a_regular_file_is_synced_to_disk_when_a_sync_is_due(tmp_path, fsyncs):
    with open(tmp_path / "out.jsonl", "w", encoding="utf-8") as handle:
        writer = RowWriter(handle, flush_seconds=0, sync_seconds=0)
        for index in range(3):
            writer.write({**ROW, "index": index})
        assert fsyncs == [handle.fileno()] * 3


def test_a_pipe_or_memory_stream_is_flushed_but_never_synced(fsyncs):
    read_end, write_end = os.pipe()
    with open(write_end, "w", encoding="utf-8") as pipe, open(read_end, "rb") as reader:
        writer = RowWriter(pipe, flush_seconds=0, sync_seconds=0)
        writer.write(ROW)
        writer.close()
        assert json.loads(reader.readline()) == ROW
    stream = io.StringIO()
    writer = RowWriter(stream, flush_seconds=0, sync_seconds=0)
    writer.write(ROW)
    writer.close()
    assert json.loads(stream.getvalue()) == ROW
    assert fsyncs == []


def test_a_null_reward_is_read_back_as_the_nan_it_was_written_from():
    result = result_from_row({**ROW, "reward": None, "sub_rewards": {"a": {"reward": None, "status": "error"}}})
    assert math.isnan(result.reward) and math.isnan(result.sub_rewards["a"].reward)
    assert result.sub_rewards["a"].status is Status.ERROR


def test_score_writes_strict_compact_json_lines_synced_and_leaves_the_collector_unfrozen(tmp_path, fsyncs, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text('type: string_check\noperation: eq\nreference: "{{ item.answer }}"\n', encoding="utf-8")
    data = tmp_path / "data.jsonl"
    data.write_text('{"answer": "ü", "output_text": "ü"}\n{"answer": "b", "output_text": "c", "id": 12345678901234567890123}\n',
                    encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["score", str(spec), str(data), "-o", str(out), "--no-progress"]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith('{"index":0,"reward":1.0,"status":"ok","reason":null,"sub_rewards":{},"errors":{},')
    rows = [json.loads(line, parse_constant=pytest.fail) for line in lines]
    assert [(row["reward"], row.get("id")) for row in rows] == [(1.0, None), (0.0, 12345678901234567890123)]
    assert len(fsyncs) == 1  # at the end of the run (a short run has no sync due before)
    assert gc.get_freeze_count() == 0


def test_a_file_system_that_cannot_sync_gets_flushes_only(tmp_path, monkeypatch):
    """fsync on a file system without it (EINVAL, as some FUSE and network mounts answer): no crash, no retry."""
    calls = []

    def unsupported_fsync(descriptor: int) -> None:
        calls.append(descriptor)
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(os, "fsync", unsupported_fsync)
    path = tmp_path / "out.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        writer = RowWriter(handle, flush_seconds=0, sync_seconds=0)
        for index in range(3):
            writer.write({**ROW, "index": index})
        writer.close()
    assert len(calls) == 1
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3


def test_a_failing_sync_is_not_hidden(tmp_path, monkeypatch):
    def failing_fsync(descriptor: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    path = tmp_path / "out.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        writer = RowWriter(handle, flush_seconds=0, sync_seconds=0)
        with pytest.raises(RftError) as error:
            writer.write(ROW)
    assert str(error.value) == f"{path}: cannot save the output rows to disk: Input/output error"
