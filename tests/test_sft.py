"""rft_core.integrations.sft and the SFT parts of `rft train`: --trainer sft, and the SFT warm-up before GRPO in one command."""

from __future__ import annotations

import json
import os

import pytest

from rft_core.cli import main
from rft_core.kernel.errors import RftError
from rft_core.integrations.sft import load_sft_rows

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach the Hub: every model here is built in the test

WORDS = ["say", "yes", "no", "maybe", "ok"]
SPEC = {"type": "string_check", "name": "yes", "operation": "like", "input": "{{ sample.output_text }}",
        "reference": "yes"}


def write_lines(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def next_word_probability(model_dir, prompt: str, word: str) -> float:
    """The model's probability that ``word`` comes right after ``prompt``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    with torch.no_grad():
        logits = model(**tokenizer(prompt, return_tensors="pt")).logits[0, -1]
    return torch.softmax(logits, -1)[tokenizer.convert_tokens_to_ids(word)].item()


@pytest.mark.parametrize(("rows", "message"), [
    ([{"prompt": "say "}], r"line 1: an SFT row holds 'prompt' and 'completion', or 'messages'"),
    ([], r"no SFT rows to train on"),
    ([{"prompt": "a", "completion": "b"}, {"messages": [{"role": "user", "content": "a"}]}], r"one format"),
])
def test_bad_sft_files_are_named(rows, message, tmp_path):
    with pytest.raises(RftError, match=message):
        load_sft_rows(write_lines(tmp_path / "sft.jsonl", rows))


def test_sft_rows_keep_only_their_format_fields(tmp_path):
    path = write_lines(tmp_path / "sft.jsonl", [{"prompt": "p", "completion": "c", "reward": 1.0}])
    assert load_sft_rows(path) == [{"prompt": "p", "completion": "c"}]


def test_rft_train_without_a_spec_for_grpo_says_so(tmp_path, capsys):
    data = write_lines(tmp_path / "d.jsonl", [{"prompt": "say "}])
    assert main(["train", "--model", "m", "--data", str(data), "--output-dir", str(tmp_path / "o")]) == 1
    assert "rft train --trainer grpo needs SPEC" in capsys.readouterr().err


@pytest.mark.integration
def test_sft_warmup_then_grpo_in_one_rft_train(tmp_path, capsys):
    pytest.importorskip("trl")
    from tiny_models import save_tiny_llama

    base = save_tiny_llama(tmp_path / "base", WORDS)
    sft = write_lines(tmp_path / "sft.jsonl", [{"prompt": "say ", "completion": "yes"}] * 8)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    prompts = write_lines(tmp_path / "train.jsonl", [{"prompt": "say "}] * 4)
    out = tmp_path / "out"
    argv = ["train", str(spec), "--model", str(base), "--data", str(prompts), "--warmup-sft", str(sft),
            "--warmup-epochs", "3", "--sft-learning-rate", "5e-2", "--max-steps", "1", "--num-generations", "2",
            "--per-device-train-batch-size", "4", "--max-completion-length", "3", "--learning-rate", "0",
            "--output-dir", str(out)]
    assert main(argv) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{\"")]
    warmup, grpo = lines[0], lines[-1]
    assert warmup["warmup_sft"] == str(out / "warmup-sft") and warmup["steps"] == 6  # 8 rows / 4 per step x 3 epochs
    assert grpo["output_dir"] == str(out) and grpo["steps"] == 1 and 0.0 <= grpo["reward"] <= 1.0
    before = next_word_probability(base, "say", "yes")
    warmed = next_word_probability(out / "warmup-sft", "say", "yes")
    assert warmed > 2 * before  # the warm-up learned its rows
    # GRPO at learning rate 0 leaves the weights it started from: the warmed-up model's, not the base's
    assert next_word_probability(out, "say", "yes") == pytest.approx(warmed, rel=1e-4)


@pytest.mark.integration
def test_rft_train_trainer_sft(tmp_path, capsys):
    pytest.importorskip("trl")
    from tiny_models import save_tiny_llama

    base = save_tiny_llama(tmp_path / "base", WORDS)
    chat = [{"messages": [{"role": "user", "content": "say"}, {"role": "assistant", "content": "no"}]}] * 4
    sft = write_lines(tmp_path / "sft.jsonl", chat)
    argv = ["train", "--trainer", "sft", "--model", str(base), "--data", str(sft), "--max-steps", "3",
            "--per-device-train-batch-size", "2", "--output-dir", str(tmp_path / "out")]
    with pytest.raises(RftError, match="chat template"):  # a conversation needs the tokenizer's chat template
        from rft_core.integrations.sft import train_sft

        train_sft(str(base), sft, tmp_path / "x", max_steps=1)
    text = write_lines(tmp_path / "text.jsonl", [{"prompt": "say ", "completion": "no"}] * 4)
    argv[argv.index(str(sft))] = str(text)
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["steps"] == 3 and "loss" in printed
    assert (tmp_path / "out" / "model.safetensors").is_file()
