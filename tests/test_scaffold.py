"""rft new-plugin: the names it derives, what it refuses, and (integration, real pip) a generated
plugin that passes its own tests and works in rft graders, rft score, a multi and reward_funcs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from rft_core.cli import main
from rft_core.kernel.errors import RftError
from rft_core.cli.scaffold import plugin_files, write_plugin

WORKTREE = Path(__file__).resolve().parents[1]


def test_names_derived_from_the_plugin_name():
    files = plugin_files("word-count")
    assert sorted(files) == [
        "README.md", "conftest.py", "docs/word_count.md", "pyproject.toml", "rft_word_count/__init__.py",
        "rft_word_count/grader.py", "tests/test_word_count.py",
    ]  # fmt: skip
    assert 'name = "rft-word-count"' in files["pyproject.toml"]
    assert '[project.entry-points.rft]\nword_count = "rft_word_count"' in files["pyproject.toml"]
    assert 'type = "word_count"' in files["rft_word_count/grader.py"]
    assert "class WordCountGrader(Grader):" in files["rft_word_count/grader.py"]


@pytest.mark.parametrize("name", ["Demo", "1demo", "de mo", "demo-", "../demo", ""])
def test_an_unusable_name_is_refused(name):
    with pytest.raises(RftError, match="is not usable: use lowercase letters and digits"):
        plugin_files(name)


def test_an_existing_folder_with_files_is_left_alone(tmp_path, capsys):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "mine.txt").write_text("keep")
    assert main(["new-plugin", "demo", "--directory", str(tmp_path / "demo")]) == 1
    assert "already exists and is not an empty folder; nothing was written" in capsys.readouterr().err
    assert sorted(path.name for path in (tmp_path / "demo").iterdir()) == ["mine.txt"]


def test_an_empty_folder_is_filled(tmp_path):
    (tmp_path / "demo").mkdir()
    written = write_plugin("demo", tmp_path / "demo")
    assert len(written) == 7 and all(path.is_file() for path in written)


@pytest.fixture(scope="module")
def installed_demo(tmp_path_factory):
    """`rft new-plugin demo` then `pip install -e demo` into a throwaway venv that sees the shared
    venv's packages (a .pth calling site.addsitedir, so its editable installs work too); the shared
    venv is never touched."""
    root = tmp_path_factory.mktemp("new_plugin")
    env = {**os.environ, "PYTHONPATH": str(WORKTREE), "RFT_LOAD_PLUGINS": "rft-demo"}
    subprocess.run([sys.executable, "-m", "rft_core.cli", "new-plugin", "demo"], cwd=root, env=env, check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True, timeout=120)
    python = root / "venv" / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True, timeout=60).stdout.strip()  # fmt: skip
    shared = sysconfig.get_paths()["purelib"]
    Path(site, "shared_venv.pth").write_text(f"import site; site.addsitedir({shared!r})\n")
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e", "demo"],
                   cwd=root, env=env, check=True, capture_output=True, timeout=300)  # fmt: skip
    return root, python, env


def _run(installed, *argv):
    root, python, env = installed
    return subprocess.run([python, *argv], cwd=root, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.integration
def test_the_new_plugin_passes_its_own_tests(installed_demo):
    completed = _run(installed_demo, "-m", "pytest", "-q", "-p", "no:cacheprovider", "demo")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "7 passed" in completed.stdout


@pytest.mark.integration
def test_the_new_plugin_shows_in_rft_graders(installed_demo):
    completed = _run(installed_demo, "-m", "rft_core.cli", "graders")
    assert completed.returncode == 0, completed.stderr
    assert [line.split()[:2] for line in completed.stdout.splitlines() if line.startswith("demo ")] == [
        ["demo", "rft-demo"]
    ]


@pytest.mark.integration
def test_the_new_plugin_scores_alone_and_in_a_multi(installed_demo):
    root = installed_demo[0]
    (root / "alone.yaml").write_text("requires: [rft-demo]\ntype: demo\nmax_words: 2\n")
    (root / "multi.yaml").write_text(
        "requires: [rft-demo]\ntype: multi\ncalculate_output: 0.5 * short + 0.5 * exact\ngraders:\n"
        "  short: {type: demo, max_words: 2}\n  exact: {type: string_check, reference: '{{ item.answer }}'}\n"
    )
    (root / "data.jsonl").write_text(
        '{"output_text": "Paris", "answer": "Paris"}\n{"output_text": "it is Paris", "answer": "Paris"}\n'
    )
    for spec, rewards in [("alone.yaml", [1.0, 0.0]), ("multi.yaml", [1.0, 0.0])]:
        completed = _run(installed_demo, "-m", "rft_core.cli", "score", spec, "data.jsonl", "--no-progress")
        assert completed.returncode == 0, completed.stderr
        assert [json.loads(line)["reward"] for line in completed.stdout.splitlines()] == rewards


@pytest.mark.integration
def test_the_new_plugin_works_through_reward_funcs(installed_demo):
    code = (
        "from rft_core.integrations.trl import reward_funcs\n"
        "[f] = reward_funcs({'type': 'demo', 'name': 'short', 'max_words': 1})\n"
        "print(f.__name__, f(prompts=['q', 'q'], completions=['Paris', 'it is Paris']))\n"
    )
    completed = _run(installed_demo, "-c", code)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "short [1.0, 0.0]\n"
