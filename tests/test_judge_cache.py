"""graders/_judge_cache: the on-disk verdict cache (sqlite, WAL), its key and its location."""

from __future__ import annotations

import multiprocessing
import sqlite3
import warnings

import pytest

from rft_core.infra.cache import (
    CACHE_FILE,
    JudgeCache,
    default_cache_dir,
    get_cache,
    request_key,
)
from rft_core.kernel.runtime import Runtime

REQUEST = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0, "seed": 42}


def test_round_trip_and_wal(tmp_path):
    cache = JudgeCache(tmp_path / CACHE_FILE)
    key = request_key("http://x/v1", REQUEST)
    assert cache.get(key) is None
    cache.put(key, "m", {"content": '{"result": 1}', "usage": {"total_tokens": 3}})
    assert cache.get(key) == {"content": '{"result": 1}', "usage": {"total_tokens": 3}}
    assert len(cache) == 1
    mode = sqlite3.connect(tmp_path / CACHE_FILE).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


@pytest.mark.parametrize(
    ("base_url", "change", "same"),
    [
        ("http://x/v1", {}, True),  # identical
        ("http://x/v1/", {}, True),  # a trailing slash does not matter
        ("http://y/v1", {}, False),  # another server
        ("http://x/v1", {"model": "n"}, False),
        ("http://x/v1", {"seed": 1}, False),
        ("http://x/v1", {"messages": [{"role": "user", "content": "hi!"}]}, False),
        ("http://x/v1", {"response_format": {"type": "json_object"}}, False),
    ],
    ids=["same", "slash", "server", "model", "seed", "messages", "response_format"],
)
def test_request_key(base_url, change, same):
    assert (request_key(base_url, {**REQUEST, **change}) == request_key("http://x/v1", REQUEST)) is same


def test_key_order_does_not_matter():
    assert request_key("u", {"a": 1, "b": 2}) == request_key("u", {"b": 2, "a": 1})


def test_location_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RFT_CACHE_DIR", str(tmp_path / "here"))
    assert default_cache_dir() == tmp_path / "here"
    monkeypatch.delenv("RFT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "rft-graders"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "rft-graders"


def test_get_cache_is_one_object_per_file_and_runtime(tmp_path, monkeypatch):
    with Runtime() as runtime, Runtime() as other:
        assert get_cache(tmp_path, runtime) is get_cache(str(tmp_path), runtime)
        assert get_cache(tmp_path, runtime).path == tmp_path / CACHE_FILE
        monkeypatch.setenv("RFT_CACHE_DIR", str(tmp_path))
        assert get_cache(None, runtime) is get_cache(tmp_path, runtime)  # the default names the same file
        assert get_cache(tmp_path, other) is not get_cache(tmp_path, runtime)


def test_a_runtime_without_the_cache_gives_none(tmp_path):
    with Runtime(no_cache=True) as runtime:
        assert get_cache(tmp_path, runtime) is None


def test_an_unusable_cache_warns_once_and_is_bypassed(tmp_path):
    (tmp_path / CACHE_FILE).write_bytes(b"this is not a sqlite database" * 100)
    cache = JudgeCache(tmp_path / CACHE_FILE)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cache.get("k") is None
        cache.put("k", "m", {"content": "x"})
        assert cache.get("k") is None
    assert len(caught) == 1
    assert "judging continues without the cache" in str(caught[0].message)


def _writer(path: str, worker: int, count: int) -> None:
    cache = JudgeCache(__import__("pathlib").Path(path))
    for n in range(count):
        cache.put(f"{worker}-{n}", "m", {"content": f"{worker}/{n}"})


def test_concurrent_processes_write_safely(tmp_path):
    """Two processes writing at once: every verdict lands, none is corrupted."""
    path = str(tmp_path / CACHE_FILE)
    JudgeCache(tmp_path / CACHE_FILE).put("seed", "m", {"content": "0"})  # create the file and schema first
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(path, worker, 100)) for worker in range(2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
        assert process.exitcode == 0
    cache = JudgeCache(tmp_path / CACHE_FILE)
    assert len(cache) == 201
    assert cache.get("1-99") == {"content": "1/99"}
