"""The shaping graders (format, length, repetition, tool_call) next to math in a real GRPO run on a
tiny CPU model: each reaches TRL as its own weighted reward function, and TRL logs each one."""

from __future__ import annotations

import math
import os

import pytest
from test_trl import Recorder, _logged_means, _nanmean
from tiny_models import save_tiny_llama

from rft_core import Status, load_spec
from rft_core.integrations.training import load_dataset
from rft_core.integrations.trl import reward_funcs, reward_weights
from rft_core.integrations.completions import to_sample

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach the Hub: the model is built in the test

# tags as words of their own, so random completions sometimes hold some of the format
WORDS = ["<think>", "</think>", "<answer>", "</answer>", "4", "5", "Paris", "Rome", "is", "the"]
CALL = '[{"name": "lookup", "arguments": {"city": "Paris"}}]'
ROWS = [
    {"prompt": "What is 2+2?", "answer": "4", "tool_calls": "[]"},
    {"prompt": "Capital of France?", "answer": "Paris", "tool_calls": CALL},
    {"prompt": "What is 2+3?", "answer": "5", "tool_calls": "[]"},
    {"prompt": "Capital of Italy?", "answer": "Rome", "tool_calls": CALL},
]
WEIGHTS = {"math": 1.0, "format": 0.3, "length": 0.2, "repetition": 0.2, "tool_call": 0.1}


@pytest.fixture(scope="module")
def tag_model(tmp_path_factory):
    pytest.importorskip("trl")
    return save_tiny_llama(tmp_path_factory.mktemp("tag-llama"), WORDS, max_position_embeddings=128)


def shaped_spec(model_dir) -> dict:
    return {
        "name": "shaped",
        "type": "multi",
        "weights": WEIGHTS,
        "graders": {
            "math": {"type": "math", "reference": "{{ item.answer }}", "timeout": 10},
            "format": {"type": "format", "scoring": "weighted"},
            "length": {"type": "length", "tokenizer": str(model_dir), "max_length": 8, "buffer": 4},
            "repetition": {"type": "repetition", "n": 1, "threshold": 0.3},
            "tool_call": {"type": "tool_call"},
        },
    }


@pytest.mark.integration
def test_grpo_logs_each_shaping_component_with_its_weight(tag_model, registry, tmp_path):
    import trl

    spec = shaped_spec(tag_model)
    recorders = [Recorder(func) for func in reward_funcs(spec, split=True, registry=registry)]
    weights = reward_weights(spec, registry=registry)
    assert weights == pytest.approx([weight / sum(WEIGHTS.values()) for weight in WEIGHTS.values()])
    args = trl.GRPOConfig(
        output_dir=str(tmp_path / "out"),
        max_steps=3,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=8,
        learning_rate=1e-3,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        use_cpu=True,
        reward_weights=weights,
    )
    trainer = trl.GRPOTrainer(model=str(tag_model), reward_funcs=recorders, args=args, train_dataset=load_dataset(ROWS))
    trainer.train()

    names = list(WEIGHTS)
    assert [recorder.__name__ for recorder in recorders] == names
    graders = load_spec(spec, registry=registry).children()
    rows = {row["prompt"]: row for row in ROWS}
    for recorder in recorders:
        assert len(recorder.calls) == 3
        for kwargs, rewards in recorder.calls:  # what TRL got is what grading the completions gives
            samples = [to_sample(completion) for completion in kwargs["completions"]]
            items = [{**rows[prompt], "prompt": prompt} for prompt in kwargs["prompts"]]
            expected = graders[recorder.__name__].grade_batch(samples, items)
            if recorder.__name__ != "math":  # math finds no answer in most random text: parse_error, reward 0
                assert all(result.status is Status.OK for result in expected), recorder.__name__
            assert rewards == pytest.approx([result.reward for result in expected])
    steps = [entry for entry in trainer.state.log_history if "reward" in entry]
    assert len(steps) == 3
    for step, position in zip(steps, range(3)):
        means = {name: _nanmean(recorder.calls[position][1]) for name, recorder in zip(names, recorders)}
        for name in names:  # TRL's mean of each component, as we returned it
            assert step[f"rewards/{name}/mean"] == pytest.approx(means[name], rel=1e-5, abs=1e-6)
        # TRL's reward is the weighted sum: the multi's weighted mean, penalties included
        assert step["reward"] == pytest.approx(sum(w * means[n] for n, w in zip(names, weights)), rel=1e-5)
        assert "rewards/format/single_answer/mean" in step and "rewards/tool_call/recall/mean" in step
    # the penalties are penalties, and the format reward is partial credit
    for name in ("length", "repetition"):
        assert all(-1.0 <= reward <= 0.0 for _, rewards in recorders[names.index(name)].calls for reward in rewards)
    assert not math.isnan(_logged_means(steps, "format")[0])
    assert {reward for _, rewards in recorders[names.index("tool_call")].calls for reward in rewards} <= {0.0, 1.0}
