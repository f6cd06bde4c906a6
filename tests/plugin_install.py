"""A plugin distribution pip-installed from a copy of its folder into a site dir of its own, as a user would."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["PIP_TIMEOUT", "pip_install"]

PIP_TIMEOUT = 300


def pip_install(plugin_dir: Path, work: Path) -> Path:
    """Install ``plugin_dir`` (copied under ``work``, offline, without dependencies) into ``work/site``."""
    source = work / "src"
    shutil.copytree(plugin_dir, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    site = work / "site"
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--no-build-isolation", "--no-index", "--target", str(site), str(source)],
        capture_output=True, text=True, timeout=PIP_TIMEOUT,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    return site
