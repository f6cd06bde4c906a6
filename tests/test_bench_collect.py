"""``make bench``'s collector (benchmarks/collect.py) with cheap stand-in benchmark scripts."""

import subprocess
import sys
from pathlib import Path

COLLECT = Path(__file__).resolve().parent.parent / "benchmarks" / "collect.py"


def _script(folder: Path, name: str, body: str) -> str:
    path = folder / name
    path.write_text(body)
    return str(path)


def _collect(results: Path, *scripts: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    command = [sys.executable, str(COLLECT), str(results), *scripts, "--timeout", str(timeout)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_every_script_runs_and_a_failing_one_is_reported_without_stopping_the_rest(tmp_path):
    first = _script(tmp_path, "fast_bench.py", "print('fast grader  1,000 samples/s  ratio 2.00x')\n")
    broken = _script(tmp_path, "broken_bench.py", "print('started')\nraise SystemExit('no judge server: start one')\n")
    last = _script(tmp_path, "last_bench.py", "print('last grader  ratio 1.50x')\n")
    results = tmp_path / "RESULTS.md"
    done = _collect(results, first, broken, last)
    text = results.read_text()
    assert done.returncode == 1  # a failure is the run's status, after the file is written
    assert "broken_bench.py failed: exit status 1" in done.stderr
    assert text.startswith("# Benchmark results\n")
    assert "fast grader  1,000 samples/s  ratio 2.00x" in text
    assert "last grader  ratio 1.50x" in text  # the script after the broken one still ran
    assert "Failed: `broken_bench.py` (see below)." in text
    broken_section = text.split("## `broken_bench.py`")[1].split("## `last_bench.py`")[0]
    assert "started" in broken_section  # what it printed before failing
    assert "exit status 1" in broken_section and "no judge server: start one" in broken_section
    assert f"Python {sys.version.split()[0]}" in text and "usable CPU cores" in text


def test_a_script_past_the_timeout_is_stopped_and_reported(tmp_path):
    slow = _script(tmp_path, "slow_bench.py", "import time\nprint('warming up', flush=True)\ntime.sleep(60)\n")
    results = tmp_path / "RESULTS.md"
    done = _collect(results, slow, timeout=2)
    assert done.returncode == 1
    assert "stopped after 2 s (--timeout)" in results.read_text()


def test_rerunning_replaces_the_generated_block_and_keeps_results_measured_by_hand(tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## Measured by hand\n\n| round | reward |\n|---|---|\n| 1 | 0.5 |\n")
    for figure in ("ratio 1.10x", "ratio 1.20x"):
        bench = _script(tmp_path, "bench.py", f"print({figure!r})\n")
        assert _collect(results, bench).returncode == 0
    text = results.read_text()
    assert "| 1 | 0.5 |" in text  # outside the generated block: left as it was
    assert "ratio 1.20x" in text and "ratio 1.10x" not in text  # the block holds the latest run only
    assert text.count("<!-- make bench: generated from here -->") == 1
    assert "Failed:" not in text
