"""rft loop: a 2-round run killed mid-round (SIGKILL) and resumed, validation each round, --refresh-rm."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rft_core import load_spec
from rft_core.cli import main
from rft_core.kernel.errors import RftError
from rft_core.integrations.loop import LoopOptions, run_loop
from rft_core.integrations.loop_plot import reward_plot

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach the Hub: every model here is built in the test

ROOT = Path(__file__).resolve().parent.parent
WORDS = ["say", "tell", "yes", "no", "maybe", "ok"]
YES = {"type": "string_check", "operation": "like", "input": "{{ sample.output_text }}", "reference": "yes"}


def write_lines(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def rows_of(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_a_run_directory_resumes_only_with_the_same_options(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(YES))
    options = LoopOptions(spec=str(spec), model="m", train="t", valid="v", run_dir=str(tmp_path / "run"), refresh_rm=True)
    with pytest.raises(RftError, match=r"--refresh-rm needs a reward_model grader in the spec"):
        run_loop(options, log=lambda message: None)
    other = LoopOptions(**{**options.__dict__, "k": 8})
    with pytest.raises(RftError, match=r"run: holds a loop run with other options \(k differ"):
        run_loop(other, log=lambda message: None)
    more = LoopOptions(**{**options.__dict__, "rounds": 5})  # only the number of rounds may change
    with pytest.raises(RftError, match=r"--refresh-rm needs a reward_model grader"):
        run_loop(more, log=lambda message: None)
    assert json.loads((tmp_path / "run" / "loop.json").read_text())["rounds"] == 5
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    with pytest.raises(RftError, match=r"busy: not empty and not a loop run"):
        run_loop(LoopOptions(**{**options.__dict__, "run_dir": str(tmp_path / "busy")}), log=lambda message: None)


def test_loop_command_names_a_missing_file(tmp_path, capsys):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(YES))
    argv = ["loop", str(spec), "--model", "m", "--data", str(tmp_path / "no.jsonl"), "--eval-data", str(spec),
            "-o", str(tmp_path / "run")]
    assert main(argv) == 1
    assert f"{tmp_path / 'no.jsonl'}: --data file not found" in capsys.readouterr().err


def test_the_plot_draws_both_series():
    svg = reward_plot([{"round": 0, "train_reward": None, "valid_reward": 0.25},
                       {"round": 1, "train_reward": 0.5, "valid_reward": 0.75}])
    assert svg.startswith("<svg") and svg.count("<polyline") == 2 and svg.count("<circle") == 3


@pytest.mark.integration
def test_two_rounds_killed_mid_round_resume_select_sft_and_refresh_the_reward_model(tmp_path):
    pytest.importorskip("trl")
    from test_reward_model import save_tiny_classifier
    from tiny_models import save_tiny_llama

    policy = save_tiny_llama(tmp_path / "policy", WORDS)
    base_rm = save_tiny_classifier(tmp_path / "rm", seed=1)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"type": "multi", "graders": {"yes": YES, "rm": {"type": "reward_model", "model": "rm"}}}))
    train = write_lines(tmp_path / "train.jsonl", [{"prompt": "say "}, {"prompt": "tell "}] * 2)
    valid = write_lines(tmp_path / "valid.jsonl", [{"prompt": "say "}] * 4)
    run = tmp_path / "run"
    command = [sys.executable, "-m", "rft_core.cli", "loop", str(spec), "--model", str(policy), "--data", str(train),
               "--eval-data", str(valid), "--rounds", "2", "-o", str(run), "-k", "2", "--max-tokens", "3",
               "--max-steps", "1", "--num-generations", "2", "--per-device-train-batch-size", "4",
               "--learning-rate", "1e-2", "--refresh-rm", "--rm-steps", "2", "--device", "cpu",
               "--select-sft", "--min-reward", "0", "--sft-learning-rate", "1e-2"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    first_log = tmp_path / "first.log"
    with open(first_log, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 600
        while not (run / "round-1" / "scores.jsonl").exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)  # mid-round 1: scored, not yet trained
        process.wait()
    assert process.returncode == -signal.SIGKILL, first_log.read_text()[-3000:]
    assert not (run / "round-1" / "model").exists()
    samples = run / "round-1" / "samples.jsonl"
    before = (samples.stat().st_ino, samples.stat().st_mtime_ns)

    resumed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    steps = [line for line in resumed.stderr.splitlines() if line.startswith("round ")]
    assert "round 1: sampling 2 per training item" not in steps and "round 1: scoring" not in steps
    assert not any(step.startswith("round 0") for step in steps)  # the baseline was done before the kill
    assert "round 1: retraining the reward model" in steps and "round 2: grpo training" in steps
    assert (samples.stat().st_ino, samples.stat().st_mtime_ns) == before  # the finished step was kept, not redone

    summary = json.loads(resumed.stdout.strip().splitlines()[-1])["rounds"]
    assert summary == json.loads((run / "summary.json").read_text())
    assert [row["round"] for row in summary] == [0, 1, 2]
    assert all(0.0 <= row["valid_reward"] <= 1.0 for row in summary)  # validation scored each round
    assert all(0.0 <= row["train_reward"] <= 1.0 for row in summary[1:])
    for number in (1, 2):
        assert len(rows_of(run / f"round-{number}" / "valid-scores.jsonl")) == 4
        assert (run / f"round-{number}" / "model" / "model.safetensors").is_file()
        assert (run / f"round-{number}" / "report.html").is_file()
    assert "| 2 |" in (run / "summary.md").read_text() and (run / "summary.svg").read_text().startswith("<svg")

    # --select-sft: the best sample of each training row (every ok one qualifies at --min-reward 0), then SFT
    for number in (1, 2):
        sft_rows = rows_of(run / f"round-{number}" / "sft.jsonl")
        assert [row["prompt"] for row in sft_rows] == [row["prompt"] for row in rows_of(train)]
        assert (run / f"round-{number}" / "model-sft" / "model.safetensors").is_file()
    assert "round 1: SFT on the selected samples" in steps

    # --refresh-rm: round 1 retrained the reward model on its pairs, and round 2 scored with it
    refreshed = run / "round-1" / "spec.json"
    assert json.loads(refreshed.read_text())["graders"]["rm"]["model"] == str((run / "round-1" / "reward-model").resolve())
    assert rows_of(run / "round-1" / "pairs.jsonl")
    round_two = [row for row in rows_of(run / "round-2" / "samples.jsonl")]
    texts = [text for row in round_two for text in row["completions"]]
    items = [{"prompt": row["prompt"]} for row in round_two for _ in row["completions"]]
    scored = [row["sub_rewards"]["rm"]["reward"] for row in rows_of(run / "round-2" / "scores.jsonl")]
    new = [result.sub_rewards["rm"].reward for result in load_spec(refreshed).grade_batch(texts, items)]
    old = [result.sub_rewards["rm"].reward for result in load_spec(spec).grade_batch(texts, items)]
    assert scored == pytest.approx(new, abs=1e-6)
    assert scored != pytest.approx(old, abs=1e-6)
    assert base_rm.exists()


def test_mean_reward_counts_failures_as_zero_and_leaves_not_applicable_out(tmp_path):
    from rft_core.integrations.loop import mean_reward

    rows = [{"index": 0, "reward": 1.0, "status": "ok"}, {"index": 1, "reward": 0.0, "status": "error"},
            {"index": 2, "reward": 0.0, "status": "not_applicable"}, {"index": 3, "reward": 0.5, "status": "ok"}]
    assert mean_reward(write_lines(tmp_path / "scores.jsonl", rows)) == pytest.approx(0.5)
    assert mean_reward(write_lines(tmp_path / "none.jsonl", rows[2:3])) is None
