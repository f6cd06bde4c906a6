"""A persistent on-disk cache of judge replies (and ``rft sample``'s samples): sqlite in WAL mode,
one write per verdict.

The key is a hash of everything that decides a reply: the base URL, the model,
the rendered messages and every other request parameter (sampling,
response_format). Only replies that gave a verdict are stored, so a glitch is
retried next time rather than remembered.

Safe under crashes (each verdict is its own transaction; WAL) and under several
processes (WAL readers never block; writers wait up to ``BUSY_TIMEOUT_MS``).
A cache that cannot be opened or written warns once and is bypassed: grading
never fails because of the cache.

Location: ``cache_dir`` in the grader config, else ``$RFT_CACHE_DIR``, else
``$XDG_CACHE_HOME/rft-graders``, else ``~/.cache/rft-graders``; the file is
``judge.sqlite`` there. The run's ``Runtime.no_cache`` (``rft score --no-cache``, ``RFT_NO_CACHE=1``)
turns it off; the runtime holds the cache objects.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import orjson

from rft_core.kernel.runtime import Runtime

__all__ = ["CACHE_FILE", "JudgeCache", "default_cache_dir", "flight_key", "get_cache", "request_key"]

CACHE_FILE = "judge.sqlite"
BUSY_TIMEOUT_MS = 10_000
SCHEMA_VERSION = 1


def default_cache_dir() -> Path:
    """``$RFT_CACHE_DIR``, else ``$XDG_CACHE_HOME/rft-graders``, else ``~/.cache/rft-graders``."""
    configured = os.environ.get("RFT_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "rft-graders"


def request_key(base_url: str, request: dict[str, Any], sample: int | None = None) -> str:
    """The cache key of a request: sha256 of its canonical JSON with the base URL (never the API key).
    ``sample`` (``rft sample``'s sample number) keeps k identical requests for k samples apart."""
    material: dict[str, Any] = {"v": SCHEMA_VERSION, "base_url": base_url.rstrip("/"), "request": request}
    if sample is not None:
        material["sample"] = sample
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def flight_key(request: dict[str, Any]) -> bytes:
    """The key that makes identical requests in flight share one call, when nothing is cached: the
    request's sorted JSON as orjson writes it, several times cheaper than ``request_key`` (whose
    text must stay as it is for the keys already stored)."""
    return orjson.dumps(request, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)


class JudgeCache:
    """One sqlite file; a connection per thread (sqlite connections are not shared across threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._broken = False
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection | None:
        if self._broken:
            return None
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS replies ("
                " key TEXT PRIMARY KEY, model TEXT NOT NULL, reply TEXT NOT NULL, created REAL NOT NULL)"
            )
        except (sqlite3.Error, OSError) as exc:
            self._fail(f"cannot open the judge cache {self.path}: {exc}")
            return None
        self._local.connection = connection
        return connection

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored reply for a key, or None."""
        connection = self._connection()
        if connection is None:
            return None
        try:
            row = connection.execute("SELECT reply FROM replies WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            self._fail(f"cannot read the judge cache {self.path}: {exc}")
            return None
        if row is None:
            return None
        try:
            reply = json.loads(row[0])
        except ValueError:
            return None
        return reply if isinstance(reply, dict) else None

    def put(self, key: str, model: str, reply: dict[str, Any]) -> None:
        """Store one reply (its own transaction: a crash loses at most the verdict being written)."""
        connection = self._connection()
        if connection is None:
            return
        try:
            connection.execute(
                "INSERT OR REPLACE INTO replies (key, model, reply, created) VALUES (?, ?, ?, ?)",
                (key, model, json.dumps(reply, ensure_ascii=False, separators=(",", ":")), time.time()),
            )
        except sqlite3.Error as exc:
            self._fail(f"cannot write the judge cache {self.path}: {exc}")

    def __len__(self) -> int:
        connection = self._connection()
        if connection is None:
            return 0
        return connection.execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    def _fail(self, message: str) -> None:
        with self._lock:
            if self._broken:
                return
            self._broken = True
        warnings.warn(f"{message}; judging continues without the cache", RuntimeWarning, stacklevel=3)


def get_cache(cache_dir: str | Path | None, runtime: Runtime) -> JudgeCache | None:
    """The runtime's cache object for a directory (default: ``default_cache_dir()``); None when the
    runtime has the cache turned off."""
    if runtime.no_cache:
        return None
    environ = os.environ
    setting = (
        "judge cache for",
        None if cache_dir is None else str(cache_dir),
        environ.get("RFT_CACHE_DIR"),
        environ.get("XDG_CACHE_HOME"),
        environ.get("HOME"),
    )
    return runtime.shared(setting, lambda: _cache_at(cache_dir, runtime))  # once per judgment: no path work


def _cache_at(cache_dir: str | Path | None, runtime: Runtime) -> JudgeCache:
    """One cache object per file, whichever settings name it."""
    directory = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    path = (directory / CACHE_FILE).absolute()
    return runtime.shared(("judge cache", path), lambda: JudgeCache(path))
