"""rft_core.run.output_files: the same-file guard and atomic whole-file outputs."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rft_core.kernel.errors import RftError
from rft_core.run.output_files import atomic_text, check_outputs


@pytest.fixture
def data(tmp_path) -> Path:
    path = tmp_path / "data.jsonl"
    path.write_text('{"a": 1}\n', encoding="utf-8")
    return path


def test_distinct_files_pass(tmp_path, data):
    check_outputs({"DATA": data, "--gold": None}, {"-o": tmp_path / "out.jsonl", "--html": None})


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param(lambda path: path, id="the same path"),
        pytest.param(lambda path: path.parent / "." / path.name, id="another spelling"),
        pytest.param(lambda path: Path(os.path.relpath(path)), id="relative"),
    ],
)
def test_an_output_onto_an_input_is_refused(data, spelling):
    with pytest.raises(RftError, match=r"^-o .* is DATA.*, an input of this command: .*nothing was written"):
        check_outputs({"DATA": data}, {"-o": spelling(data)})


def test_links_are_the_same_file(tmp_path, data):
    symlink, hardlink = tmp_path / "sym", tmp_path / "hard"
    symlink.symlink_to(data)
    os.link(data, hardlink)
    for link in (symlink, hardlink):
        with pytest.raises(RftError, match=f"is DATA {data} \\(the same file\\)"):
            check_outputs({"DATA": data}, {"-o": link})


def test_two_outputs_naming_one_new_file_are_refused(tmp_path):
    new = tmp_path / "new.html"
    with pytest.raises(RftError, match="^--html .* is -o, another output of this command"):
        check_outputs({}, {"-o": new, "--html": tmp_path / "sub" / ".." / "new.html"})


def test_atomic_text_replaces_the_file_when_complete(tmp_path, data):
    data.chmod(0o640)
    with atomic_text(data) as out:
        out.write("new\n")
        assert data.read_text() == '{"a": 1}\n'  # untouched until the block ends
    assert data.read_text() == "new\n"
    assert stat.S_IMODE(data.stat().st_mode) == 0o640  # the target keeps its permissions
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data.jsonl"]


def test_atomic_text_leaves_the_file_on_an_exception(tmp_path, data):
    for exception in (ValueError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(exception)):
            with atomic_text(data) as out:
                out.write("half")
                raise exception
    assert data.read_text() == '{"a": 1}\n'
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data.jsonl"]  # no temporary left


def test_atomic_text_keeps_a_symlink_a_link(tmp_path, data):
    link = tmp_path / "link"
    link.symlink_to(data)
    with atomic_text(link) as out:
        out.write("through the link\n")
    assert link.is_symlink() and data.read_text() == "through the link\n"


def test_atomic_text_writes_a_lone_surrogate_as_its_escape(tmp_path):
    path = tmp_path / "report.html"
    with atomic_text(path) as out:
        out.write("id \ud800 end")
    assert path.read_bytes() == b"id \\ud800 end"


def test_atomic_text_in_a_missing_folder_names_the_file(tmp_path):
    with pytest.raises(RftError, match=r"nowhere/out.html: cannot write the HTML report: No such file or directory"):
        with atomic_text(tmp_path / "nowhere" / "out.html", "the HTML report"):
            pass
