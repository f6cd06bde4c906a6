"""reward_model: a tiny random sequence classifier, built and saved in the test, scores samples."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from tiny_models import llama_config, word_tokenizer

from rft_core import SpecError, Status, load_spec

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach the Hub: every model here is built in the test

pytest.importorskip("torch")
pytest.importorskip("transformers")

WORDS = ["good", "bad", "Paris", "Lyon", "is", "the", "capital", "of", "France", "?", "answer"]
CHAT_TEMPLATE = "{% for m in messages %}{{ m['role'] }} {{ m['content'] }} {% endfor %}"


def save_tiny_classifier(path: Path, chat_template: str | None = None, seed: int = 0) -> Path:
    """A random 2-layer Llama sequence classifier (one score) with a word-level tokenizer, saved to ``path``."""
    import torch
    from transformers import LlamaForSequenceClassification

    torch.manual_seed(seed)
    tokenizer = word_tokenizer([*WORDS, "user", "assistant"], chat_template)
    config = llama_config(tokenizer, num_labels=1)
    model = LlamaForSequenceClassification(config)
    torch.nn.init.normal_(model.score.weight, std=1.0)  # spread the scores so the mappings have something to map
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def tiny_rm(tmp_path_factory) -> Path:
    """Plain-text tokenizer (no chat template)."""
    return save_tiny_classifier(tmp_path_factory.mktemp("tiny-rm"))


@pytest.fixture(scope="module")
def tiny_chat_rm(tmp_path_factory) -> Path:
    return save_tiny_classifier(tmp_path_factory.mktemp("tiny-chat-rm"), CHAT_TEMPLATE)


ROWS = [
    ("Paris is the capital of France", {"prompt": "capital of France ?"}),
    ("Lyon", {"prompt": "capital of France ?"}),
    ("good good good answer is Paris", {"prompt": "answer ?"}),
    ("bad", {"prompt": "the capital ?"}),
    ("the the the the the the the the the the the the the the the the the the the the", {"prompt": "?"}),
]


def spec(model: Path, **fields) -> dict:
    return {"type": "reward_model", "model": str(model), **fields}


def raw_scores(model: Path, texts: list[str]) -> list[float]:
    """What a hand-written loop gives: one text at a time, with the tokenizer's EOS."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    classifier = AutoModelForSequenceClassification.from_pretrained(model).eval()
    with torch.inference_mode():
        return [classifier(**tokenizer(text + tokenizer.eos_token, return_tensors="pt")).logits[0, 0].item() for text in texts]


def test_grade_gives_the_models_score_through_a_sigmoid(tiny_rm, registry):
    grader = load_spec(spec(tiny_rm), registry=registry)
    result = grader.grade("Paris is the capital of France", {"prompt": "capital of France ?"})
    # no chat template: prompt + completion + EOS, as TRL's RewardTrainer joins them
    [expected] = raw_scores(tiny_rm, ["capital of France ?Paris is the capital of France"])
    assert result.status is Status.OK
    assert result.metadata["score"] == pytest.approx(expected, abs=1e-5)
    assert result.reward == pytest.approx(1 / (1 + math.exp(-expected)), abs=1e-6)
    assert result.metadata["truncated"] is False


def test_batched_scores_equal_one_by_one(tiny_rm, tiny_chat_rm, registry):
    for model in (tiny_rm, tiny_chat_rm):
        grader = load_spec(spec(model, batch_size=2), registry=registry)
        samples, items = [text for text, _ in ROWS], [item for _, item in ROWS]
        batched = grader.grade_batch(samples, items)
        single = [grader.grade(sample, item) for sample, item in zip(samples, items)]
        assert [r.status for r in batched] == [Status.OK] * len(ROWS)
        assert [r.metadata["score"] for r in batched] == pytest.approx([r.metadata["score"] for r in single], abs=1e-5)
        assert len({round(r.metadata["score"], 4) for r in batched}) > 1  # not a constant model


def test_chat_template_formats_prompt_and_completion(tiny_chat_rm, registry):
    grader = load_spec(spec(tiny_chat_rm), registry=registry)
    text, chat = grader.render(*_coerce("Paris", {"prompt": "capital ?"}))
    assert (text, chat) == ("user capital ? assistant Paris ", True)
    # TRL's conversational prompt (a message list) is used as the conversation
    messages = [{"role": "user", "content": "capital ?"}]
    assert grader.render(*_coerce("Paris", {"prompt": messages}))[0] == "user capital ? assistant Paris "
    # use_chat_template: false with a template: the template's text, plus EOS
    plain = load_spec(spec(tiny_chat_rm, use_chat_template=False, template="{{ item.prompt }}\n{{ sample.output_text }}"),
                      registry=registry)
    assert plain.render(*_coerce("Paris", {"prompt": "capital ?"})) == ("capital ?\nParis<eos>", False)


def _coerce(text, item):
    from rft_core.kernel.types import Sample

    return Sample(text), item


@pytest.mark.parametrize(
    ("fields", "reward_of"),
    [
        ({"mapping": "sigmoid", "scale": 2.0, "offset": 0.5}, lambda s: 1 / (1 + math.exp(-(s - 0.5) * 2.0))),
        ({"mapping": "identity", "range": [-0.1, 0.1]}, lambda s: min(max(s, -0.1), 0.1)),  # clamped
        ({"mapping": "identity", "range": [-100, 100]}, lambda s: s),  # within range: the raw score
    ],
    ids=["sigmoid-scale-offset", "identity-clamped", "identity"],
)
def test_score_mappings(tiny_rm, registry, fields, reward_of):
    grader = load_spec(spec(tiny_rm, **fields), registry=registry)
    for result in grader.grade_batch([text for text, _ in ROWS], [item for _, item in ROWS]):
        assert result.reward == pytest.approx(reward_of(result.metadata["score"]), abs=1e-9)


def test_minmax_calibrates_on_a_reference_set(tiny_rm, registry, tmp_path):
    references = ["good answer", "bad answer", "Paris", "Lyon is the capital"]
    [low, *_, high] = sorted(raw_scores(tiny_rm, references))
    (tmp_path / "refs.jsonl").write_text("\n".join(json.dumps(text) for text in references[:2])
                                         + "\n" + "\n".join(json.dumps({"text": t}) for t in references[2:]) + "\n")
    (tmp_path / "spec.yaml").write_text(f"type: reward_model\nmodel: {tiny_rm}\nprompt: null\nmapping: minmax\nreference_set: refs.jsonl\n")
    from_file = load_spec(tmp_path / "spec.yaml", registry=registry)  # the file is relative to the spec's folder
    from_list = load_spec(spec(tiny_rm, prompt=None, mapping="minmax", reference_set=references), registry=registry)
    for grader in (from_file, from_list):
        results = grader.grade_batch(references + ["the"], [{}] * 5)
        assert sorted(r.reward for r in results[:4])[0] == pytest.approx(0.0, abs=1e-6)
        assert sorted(r.reward for r in results[:4])[-1] == pytest.approx(1.0, abs=1e-6)
        score = results[4].metadata["score"]
        assert results[4].reward == pytest.approx(min(max((score - low) / (high - low), 0), 1), abs=1e-5)


def test_minmax_without_reference_set_is_a_spec_error(tiny_rm, registry):
    with pytest.raises(SpecError) as caught:
        load_spec(spec(tiny_rm, mapping="minmax"), registry=registry)
    assert [issue.message for issue in caught.value.issues] == [
        "mapping minmax needs reference_set: a JSONL file or a list of texts to calibrate on"
    ]


def test_max_length_truncation_is_flagged(tiny_rm, registry):
    grader = load_spec(spec(tiny_rm, max_length=4, prompt=None), registry=registry)
    short, long = grader.grade_batch(["Paris", "Paris is the capital of France"], [{}, {}])
    assert (short.metadata["truncated"], short.metadata["tokens"]) == (False, 2)  # Paris <eos>
    assert (long.metadata["truncated"], long.metadata["tokens"]) == (True, 4)
    assert long.status is Status.OK
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_rm)
    ids = tokenizer("Paris is the capital", return_tensors="pt")  # the first four tokens (the EOS was cut off)
    with torch.inference_mode():
        expected = AutoModelForSequenceClassification.from_pretrained(tiny_rm)(**ids).logits[0, 0].item()
    assert long.metadata["score"] == pytest.approx(expected, abs=1e-5)


def test_missing_path_is_a_spec_error_naming_it(registry, tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(SpecError) as caught:
        load_spec(spec(missing), registry=registry)
    [issue] = caught.value.issues
    assert issue.path == ("model",)  # the field's path (and line, in a spec file)
    assert issue.message == (
        f"model '{missing}': no such directory ({missing}); give the directory of a saved model "
        "(relative paths start from the spec file's folder)"
    )


def test_unreachable_hub_id_is_a_spec_error_saying_how_to_fix(registry, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(SpecError) as caught:
        load_spec({"type": "reward_model", "model": "nobody/no-such-reward-model"}, registry=registry)
    [issue] = caught.value.issues
    assert issue.path == ("model",)
    assert issue.message.startswith("model 'nobody/no-such-reward-model': no such directory (")
    assert "the Hugging Face Hub could not provide it" in issue.message
    assert issue.message.endswith(
        "give the directory of a saved model, or download it while online "
        "(huggingface-cli download nobody/no-such-reward-model) or unset HF_HUB_OFFLINE"
    )


def test_a_directory_that_is_not_a_model_is_a_spec_error(registry, tmp_path):
    with pytest.raises(SpecError) as caught:
        load_spec(spec(tmp_path), registry=registry)
    assert "has no config.json, so it is not a saved transformers model" in caught.value.issues[0].message


def test_one_model_per_process_shared_by_graders(tiny_rm, registry):
    first = load_spec(spec(tiny_rm), registry=registry)
    second = load_spec(spec(tiny_rm, mapping="identity", range=[-9, 9]), registry=registry)
    assert first.loaded is second.loaded
    assert first.loaded is not load_spec(spec(tiny_rm, dtype="bfloat16"), registry=registry).loaded


def test_a_row_with_a_missing_variable_fails_alone(tiny_rm, registry):
    grader = load_spec(spec(tiny_rm), registry=registry)
    good, bad = grader.grade_batch(["Paris", "Lyon"], [{"prompt": "?"}, {}])
    assert good.status is Status.OK
    assert (bad.status, bad.error_code) == (Status.ERROR, "invalid_variable_error")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"device": "tpu"}, "device 'tpu' is not one of auto, cpu, cuda, cuda:N, mps"),
        ({"range": [1, 0]}, "range [1.0, 0.0] must have low < high"),
        ({"dtype": "int8"}, "Input should be 'auto', 'float32', 'float16' or 'bfloat16'"),
    ],
    ids=["device", "range", "dtype"],
)
def test_config_errors(tiny_rm, registry, fields, message):
    with pytest.raises(SpecError) as caught:
        load_spec(spec(tiny_rm, **fields), registry=registry)
    assert [issue.message for issue in caught.value.issues] == [message]


def test_a_text_with_no_tokens_is_a_parse_error(tiny_rm, registry, monkeypatch):
    grader = load_spec(spec(tiny_rm, prompt=None), registry=registry)
    monkeypatch.setattr(grader.loaded, "with_eos", lambda text: text)  # a tokenizer without an EOS token
    empty, scored = grader.grade_batch(["", "Paris"], [{}, {}])
    assert (empty.status, empty.reason, empty.error_code) == (
        Status.PARSE_ERROR, "the text has no tokens to score", "sample_parse_error"
    )
    assert scored.status is Status.OK


def test_grader_pickles_without_its_model_and_shares_it_again(tiny_rm, registry):
    import pickle

    grader = load_spec(spec(tiny_rm), registry=registry)
    before = grader.grade("Paris", {"prompt": "?"})
    copy = pickle.loads(pickle.dumps(grader))
    assert "loaded" not in copy.__dict__
    assert copy.grade("Paris", {"prompt": "?"}) == before
    assert copy.loaded is grader.loaded  # the process cache, not a second copy


def test_without_torch_the_spec_error_says_which_extra(tiny_rm, registry, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    with pytest.raises(SpecError) as caught:
        load_spec(spec(tiny_rm), registry=registry)
    assert [issue.message for issue in caught.value.issues] == [
        "reward_model: the reward_model grader needs the 'torch' package, which is not installed: "
        "pip install 'rft-graders[rm]'"
    ]


def test_as_a_trl_reward_function_with_conversational_prompts(tiny_chat_rm):
    from rft_core.integrations.trl import reward_funcs

    (func,) = reward_funcs({"type": "reward_model", "name": "rm", "model": str(tiny_chat_rm)})
    prompts = [[{"role": "user", "content": "capital of France ?"}]] * 2
    completions = [[{"role": "assistant", "content": "Paris"}], [{"role": "assistant", "content": "Lyon"}]]
    rewards = func(prompts=prompts, completions=completions)
    grader = load_spec({"type": "reward_model", "model": str(tiny_chat_rm)})
    expected = [grader.grade(text, {"prompt": prompts[0]}).reward for text in ("Paris", "Lyon")]
    assert func.__name__ == "rm"
    assert rewards == pytest.approx(expected, abs=1e-6)
