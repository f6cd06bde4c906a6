"""rft_core.integrations.reward_training and `rft train-rm`: train a tiny reward model on preference pairs, then grade with it."""

from __future__ import annotations

import json
import os
import random

import pytest

from rft_core import load_spec
from rft_core.cli import main
from rft_core.kernel.errors import RftError
from rft_core.integrations.reward_training import load_preferences, train_reward_model

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach the Hub: every model here is built in the test

pytest.importorskip("trl")

from test_reward_model import CHAT_TEMPLATE, save_tiny_classifier

FILLER = ["Paris", "Lyon", "is", "the", "capital", "of", "France", "answer"]


def pairs(count: int, seed: int) -> list[dict]:
    """Trivially learnable: the chosen answer always holds 'good', the rejected one 'bad'."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        words = rng.sample(FILLER, 3)
        rows.append({
            "prompt": " ".join(rng.sample(FILLER, 2)) + " ?",
            "chosen": " ".join(words[:2] + ["good"] + words[2:]),
            "rejected": " ".join(words[:1] + ["bad"] + words[1:]),
        })
    return rows


def accuracy(model_dir, rows, registry) -> float:
    grader = load_spec({"type": "reward_model", "model": str(model_dir)}, registry=registry)
    chosen = grader.grade_batch([row["chosen"] for row in rows], rows)
    rejected = grader.grade_batch([row["rejected"] for row in rows], rows)
    return sum(c.metadata["score"] > r.metadata["score"] for c, r in zip(chosen, rejected)) / len(rows)


@pytest.mark.parametrize("chat", [False, True], ids=["text", "chat-template"])
def test_training_ranks_chosen_above_rejected(chat, tmp_path, registry):
    # seed 3: this random model happens to rank every held-out pair the wrong way round
    base = save_tiny_classifier(tmp_path / "base", CHAT_TEMPLATE if chat else None, seed=3)
    held_out = pairs(40, seed=2)
    before = accuracy(base, held_out, registry)
    trainer = train_reward_model(pairs(64, seed=1), tmp_path / "rm", model=str(base), max_steps=30,
                                 learning_rate=5e-3, per_device_train_batch_size=16, seed=0)
    after = accuracy(tmp_path / "rm", held_out, registry)
    assert trainer.state.global_step == 30
    assert before == 0.0  # the setup: every pair wrong way round before training
    assert after >= 0.9


def test_train_rm_command(tmp_path, capsys, registry):
    base = save_tiny_classifier(tmp_path / "base", seed=1)
    data = tmp_path / "prefs.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in pairs(16, seed=3)))
    argv = ["train-rm", str(data), "-o", str(tmp_path / "rm"), "--model", str(base), "--max-steps", "2",
            "--per-device-train-batch-size", "8"]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])  # the trainer logs to stdout before it
    assert printed["output_dir"] == str(tmp_path / "rm") and printed["steps"] == 2
    assert "loss" in printed
    result = load_spec({"type": "reward_model", "model": str(tmp_path / "rm")}, registry=registry).grade(
        "Paris good", {"prompt": "capital ?"}
    )
    assert result.ok


def test_train_rm_command_errors(tmp_path, capsys):
    assert main(["train-rm", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "rm"), "--model", "x"]) == 1
    assert capsys.readouterr().err == f"error: {tmp_path / 'missing.jsonl'}: data file not found\n"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"prompt": "q", "chosen": "a"}], "preference data: row 0: missing rejected; a row holds prompt, chosen and rejected"),
        (["text"], "preference data: row 0: a row must be a JSON object, not str"),
        ([{"chosen": 1, "rejected": "b"}], "preference data: row 0: chosen must be text or a list of chat messages, not int"),
        ([], "preference data: no preference pairs to train on"),
        (
            [{"prompt": "q", "chosen": "a", "rejected": "b"}, {"chosen": "a", "rejected": "b"}],
            "preference data: some rows have a prompt and some do not; give every row one, or none",
        ),
    ],
    ids=["missing-rejected", "not-an-object", "wrong-type", "empty", "mixed-prompts"],
)
def test_bad_preference_rows(rows, message):
    with pytest.raises(RftError) as caught:
        load_preferences(rows)
    assert str(caught.value) == message


def test_text_pairs_become_conversations_for_a_chat_tokenizer():
    [row] = load_preferences([{"prompt": "q", "chosen": "a", "rejected": "b"}], chat=True)
    assert row == {
        "prompt": [{"role": "user", "content": "q"}],
        "chosen": [{"role": "assistant", "content": "a"}],
        "rejected": [{"role": "assistant", "content": "b"}],
    }
