"""Helpers of the sandbox tests: bait an escape would reach, processes left behind, and running as uid 65534.

Tests run as root in CI. ``run_as_nobody(code)`` starts ``python -c code`` through
``setpriv --reuid=65534``; when the interpreter lies below a directory only root may enter
(pyenv under /root), a private mount namespace first lays a world-readable tmpfs over that
directory with the interpreter bound back at its path, so nothing on the host changes.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

__all__ = ["NOBODY", "gone", "listener", "processes_with", "run_as_nobody", "shared_dir", "skip_unless_root", "with_secret"]

NOBODY = 65534
ROOT = Path(__file__).resolve().parent.parent

skip_unless_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching to uid 65534 needs root")


def shared_dir() -> Path:
    """A fresh directory under /tmp that uid 65534 may read and write (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="rft-sandbox-test-"))
    path.chmod(0o777)
    return path


def with_secret(directory: Path) -> Path:
    """A file holding "hunter2" in ``directory``, readable by anyone: only the sandbox keeps it out of reach."""
    secret = directory / "secret.txt"
    secret.write_text("hunter2")
    secret.chmod(0o644)
    return secret


def listener() -> socket.socket:
    """A socket listening on 127.0.0.1 (an ephemeral port) whose accept() gives up after 0.2 s."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    return server


def processes_with(marker: str) -> list[str]:
    """Host pids whose command line holds ``marker`` (a unique argument a test gave its sleeper)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(entry)
        except OSError:  # it ended while we looked
            pass
    return found


def gone(marker: str) -> bool:
    """Whether every process holding ``marker`` is gone within 5 s (the kernel kills a namespace's processes as its init exits)."""
    for _ in range(50):
        if not processes_with(marker):
            return True
        time.sleep(0.1)
    return False


def _private_ancestor(path: str) -> str | None:
    """The highest directory above ``path`` that others may not enter, if any."""
    found = None
    current = os.path.dirname(path)
    while current != "/":
        if not os.stat(current).st_mode & stat.S_IXOTH:
            found = current
        current = os.path.dirname(current)
    return found


def _command(argv: list[str], holder: str) -> list[str]:
    drop = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--", *argv]
    private = _private_ancestor(os.path.realpath(sys.base_prefix))
    if private is None:
        return drop
    keep = os.path.realpath(sys.base_prefix)
    script = (
        f"mount --bind {shlex.quote(keep)} {shlex.quote(holder)} && "
        f"mount -t tmpfs -o mode=755 tmpfs {shlex.quote(private)} && "
        f"mkdir -p {shlex.quote(keep)} && mount --bind {shlex.quote(holder)} {shlex.quote(keep)} && "
        'exec "$@"'
    )
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", *drop]


def run_as_nobody(code: str, env: dict[str, str] | None = None, timeout: float = 120) -> dict:
    """Run ``code`` as uid 65534; it must print one JSON value as its last line, returned here."""
    environment = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "RFT_LOAD_PLUGINS": "", **(env or {})}
    holder = tempfile.mkdtemp(prefix="rft-nobody-view-")  # a mount point, in the private namespace only
    try:
        completed = subprocess.run(
            _command([sys.executable, "-c", code], holder), env=environment, capture_output=True, text=True,
            timeout=timeout, cwd="/",
        )
    finally:
        os.rmdir(holder)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])
