"""Docs stay true: every grader type and hook is documented, and the site builds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import rft_core
from rft_core.kernel import hookspecs

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _hook_names() -> list[str]:
    return [name for name, value in vars(hookspecs).items() if hasattr(value, "rft_spec")]


def test_every_hook_is_documented():
    hooks_page = (DOCS / "hooks.md").read_text()
    assert _hook_names() == ["register_graders"]
    for name in _hook_names():
        assert re.search(rf"^## {name}$", hooks_page, re.M), f"docs/hooks.md has no section for {name}"


def test_every_grader_type_and_field_is_documented(registry):
    for type_name, entry in registry:
        page = DOCS / "graders" / f"{type_name}.md"
        assert page.is_file(), f"grader type {type_name!r} has no page {page.relative_to(ROOT)}"
        text = page.read_text()
        missing = [field for field in entry.cls.Config.model_fields if f"`{field}`" not in text]
        assert not missing, f"{page.relative_to(ROOT)} does not document fields {missing}"


def test_graders_index_links_every_type(registry):
    index = (DOCS / "graders" / "index.md").read_text()
    for type_name in registry.names():
        assert f"{type_name}.md" in index, f"docs/graders/index.md does not link {type_name}"


def test_every_docs_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = sorted(str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md"))
    assert [page for page in pages if page not in nav] == []


@pytest.mark.integration
def test_docs_build_strict(tmp_path):
    """mkdocs --strict fails on broken links and pages missing from the nav."""
    completed = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "site" / "graders" / "multi" / "index.html").is_file()
    api_page = (tmp_path / "site" / "api" / "index.html").read_text()
    documented = set(re.findall(r'id="(rft_core\.[A-Za-z_]+)"', api_page))
    wanted = {f"rft_core.{name}" for name in rft_core.__all__} | {"rft_core.testing"}
    assert sorted(wanted - documented) == [], "docs/api.md does not render these"


def test_the_api_page_names_everything_public():
    page = (DOCS / "api.md").read_text()
    assert [name for name in rft_core.__all__ if f"::: rft_core.{name}\n" not in page] == []
