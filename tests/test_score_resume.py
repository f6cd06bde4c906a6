"""rft score -o OUT --resume: after SIGKILL or Ctrl-C the run continues where OUT stopped,
every sample scored exactly once, the output equal (but for execution_time) to an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rft_core.kernel import registry as registry_module
from rft_core.cli import main
from rft_core.run.output import open_output, resume_record_path

TESTS = Path(__file__).parent
ROWS = 800  # 3 samples each at 1 ms: about 2.4 s uninterrupted

SPEC = """\
rft: 1
type: multi
calculate_output: slow
graders:
  slow: {type: slow}
"""


def _rft(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, "-c", "import slow_plugin; slow_plugin.main()", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs,
    )


def _rows(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        del row["execution_time"]
    return rows


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The spec, the data, and the output and summary of an uninterrupted run."""
    root = tmp_path_factory.mktemp("resume")
    spec = root / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    data = root / "data.jsonl"
    with open(data, "w", encoding="utf-8") as handle:
        for index in range(ROWS):
            if index == 700:
                handle.write("{not json\n")  # an error row is resumed like any other
            handle.write(json.dumps({"id": index, "answer": "a", "completions": ["a", "b", "a" * (index % 5)]}) + "\n")
    out = root / "full.jsonl"
    process = _rft("score", str(spec), str(data), "-o", str(out), "--no-progress")
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return spec, data, _rows(out), err


def _interrupt(files, out: Path, how: int, *options: str) -> subprocess.Popen:
    """Start a run into ``out`` and send it ``how`` once some rows (not all) are written."""
    spec, data, full, _ = files
    process = _rft("score", str(spec), str(data), "-o", str(out), "--no-progress", *options)
    deadline = time.monotonic() + 60
    while not (out.exists() and out.stat().st_size > 0):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    process.send_signal(how)
    process.communicate(timeout=60)
    return process


def _resume(files, out: Path) -> str:
    spec, data, _, _ = files
    process = _rft("score", str(spec), str(data), "-o", str(out), "--resume", "--no-progress")
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return err


def test_resume_after_sigkill_scores_every_sample_once(files, tmp_path):
    out = tmp_path / "out.jsonl"
    process = _interrupt(files, out, signal.SIGKILL)
    assert process.returncode == -signal.SIGKILL
    written = out.read_text(encoding="utf-8").count("\n")
    assert 0 < written < len(files[2])
    err = _resume(files, out)
    assert _rows(out) == files[2]
    assert err == files[3]  # the summary counts the rows of both runs


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_exits_130_with_the_output_flushed_and_resume_completes(files, tmp_path, workers):
    out = tmp_path / "out.jsonl"
    process = _interrupt(files, out, signal.SIGINT, "--workers", workers)
    assert process.returncode == 130
    text = out.read_text(encoding="utf-8")
    assert text.endswith("\n")  # every row written so far is whole
    rows = [json.loads(line) for line in text.splitlines()]
    assert 0 < len(rows) < len(files[2])
    _resume(files, out)
    assert _rows(out) == files[2]


# --- in process: torn lines, refusals ----------------------------------------------------


@pytest.fixture(autouse=True)
def default_registry(monkeypatch, registry):
    monkeypatch.setattr(registry_module, "_default", registry)
    return registry


@pytest.fixture
def small(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text('type: string_check\nreference: "{{ item.answer }}"\n', encoding="utf-8")
    data = tmp_path / "data.jsonl"
    data.write_text(
        "".join(json.dumps({"answer": "a", "completions": ["a", "b"]}) + "\n" for _ in range(5)), encoding="utf-8"
    )
    out = tmp_path / "out.jsonl"
    assert main(["score", str(spec), str(data), "-o", str(out), "--no-progress"]) == 0
    assert not (tmp_path / "out.jsonl.resume.json").exists()  # a finished run has nothing to resume
    _as_if_crashed(spec, data, out)
    return spec, data, out


def _as_if_crashed(spec: Path, data: Path, out: Path) -> None:
    """Put back the resume record a run keeps until it finishes: ``out`` is then the output of a run
    that was killed at its very end, which the tests below cut shorter or spoil."""
    other = out.with_name("other.jsonl")
    handle, _ = open_output(other, spec, data, resume=False)
    handle.close()
    resume_record_path(other).rename(resume_record_path(out))
    other.unlink()


def _score_resume(small) -> int:
    spec, data, out = small
    return main(["score", str(spec), str(data), "-o", str(out), "--resume", "--no-progress"])


def test_a_torn_last_line_is_dropped_and_scored_again(small, capsys):
    spec, data, out = small
    full = _rows(out)
    text = out.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    out.write_text("".join(lines[:3]) + lines[3][:25], encoding="utf-8")
    assert _score_resume(small) == 0
    assert _rows(out) == full
    assert "samples     10" in capsys.readouterr().err


def test_a_whole_row_missing_its_newline_is_scored_again(small):
    spec, data, out = small
    full = _rows(out)
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(lines[:4]).rstrip("\n"), encoding="utf-8")
    assert _score_resume(small) == 0
    assert _rows(out) == full


def test_resuming_a_complete_output_changes_nothing(small):
    spec, data, out = small
    before = out.read_text(encoding="utf-8")
    assert _score_resume(small) == 0
    assert out.read_text(encoding="utf-8") == before
    assert not resume_record_path(out).exists()  # the resumed run finished


def test_resuming_a_finished_run_says_there_is_nothing_to_resume(small, capsys):
    spec, data, out = small
    assert _score_resume(small) == 0
    before = out.read_text(encoding="utf-8")
    assert _score_resume(small) == 1
    assert "no resume record out.jsonl.resume.json next to it (the run that wrote it finished" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == before


def test_resume_without_an_output_starts_a_fresh_run(small):
    spec, data, out = small
    full = _rows(out)
    out.unlink()
    assert _score_resume(small) == 0
    assert _rows(out) == full


def test_without_resume_the_output_is_overwritten(small):
    spec, data, out = small
    full = _rows(out)
    assert main(["score", str(spec), str(data), "-o", str(out), "--no-progress"]) == 0
    assert _rows(out) == full


def test_resume_refuses_a_changed_spec(small, capsys):
    spec, data, out = small
    spec.write_text('type: string_check\nreference: "b"\n', encoding="utf-8")
    assert _score_resume(small) == 1
    err = capsys.readouterr().err
    assert f"{out}: cannot resume: the spec file changed since this output was started" in err
    assert "score again without --resume" in err


def test_resume_refuses_another_data_file(small, capsys, tmp_path):
    spec, data, out = small
    other = tmp_path / "other.jsonl"
    other.write_bytes(data.read_bytes())
    assert main(["score", str(spec), str(other), "-o", str(out), "--resume", "--no-progress"]) == 1
    assert "the data file is another file" in capsys.readouterr().err


def test_resume_refuses_rows_that_are_not_the_data(small, capsys):
    spec, data, out = small
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text(lines[0] + lines[2], encoding="utf-8")  # row 0 sample 0, then row 1 sample 0
    assert _score_resume(small) == 1
    assert f"{out}: line 2 is row 1 sample 0 but {data} gives row 0 sample 1 there" in capsys.readouterr().err


def test_resume_refuses_a_bad_line_in_the_middle(small, capsys):
    spec, data, out = small
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text(lines[0] + "garbage\n" + lines[1], encoding="utf-8")
    assert _score_resume(small) == 1
    assert f"{out}: line 2 is not an output row" in capsys.readouterr().err


def test_resume_refuses_an_output_without_a_record(small, capsys):
    spec, data, out = small
    (out.parent / "out.jsonl.resume.json").unlink()
    assert _score_resume(small) == 1
    assert "no resume record out.jsonl.resume.json next to it" in capsys.readouterr().err


def test_resume_needs_an_output_file(small, capsys):
    spec, data, out = small
    assert main(["score", str(spec), str(data), "--resume", "--no-progress"]) == 1
    assert "--resume needs -o OUT" in capsys.readouterr().err


class _Bar:
    """Stands in for tqdm: records where the bar starts and how far it goes."""

    made: list[_Bar] = []

    def __init__(self, total, initial=0, **kwargs):
        self.total, self.initial, self.n, self.kwargs = total, initial, initial, kwargs
        _Bar.made.append(self)

    def update(self, count):
        self.n += count

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_the_progress_bar_starts_where_the_output_stopped(small, monkeypatch):
    import tqdm

    spec, data, out = small
    monkeypatch.setattr(tqdm, "tqdm", _Bar)
    _Bar.made.clear()
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(lines[:5]), encoding="utf-8")  # rows 0 and 1 whole, row 2 half done
    assert main(["score", str(spec), str(data), "-o", str(out), "--resume"]) == 0
    (bar,) = _Bar.made
    assert (bar.total, bar.initial, bar.n) == (5, 3, 5)
    assert bar.kwargs["unit"] == "row"
    assert bar.kwargs["disable"] is None  # shown on a terminal, hidden otherwise; --no-progress hides it
