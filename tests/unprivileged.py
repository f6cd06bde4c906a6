"""Run a Python snippet as uid 65534 (nobody), with this repository importable: the sandbox's non-root path.

Tests run as root in CI. ``run_as_nobody(code)`` starts ``python -c code`` through
``setpriv --reuid=65534``; when the interpreter lies below a directory only root may enter
(pyenv under /root), a private mount namespace first lays a world-readable tmpfs over that
directory with the interpreter bound back at its path, so nothing on the host changes.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

__all__ = ["NOBODY", "shared_dir", "run_as_nobody", "skip_unless_root"]

NOBODY = 65534
ROOT = Path(__file__).resolve().parent.parent

skip_unless_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching to uid 65534 needs root")


def shared_dir() -> Path:
    """A fresh directory under /tmp that uid 65534 may read and write (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="rft-sandbox-test-"))
    path.chmod(0o777)
    return path


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
