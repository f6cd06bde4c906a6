"""text_similarity's cosine metric with a tiny random encoder built and saved in the test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rft_core import SpecError, Status, load_spec

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach the Hub: the encoder is built in the test

pytest.importorskip("torch")
pytest.importorskip("transformers")

WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran", "in", "park", "quantum", "chromodynamics"]


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory) -> Path:
    """A random 2-layer BERT with a word-level tokenizer, saved to disk."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    torch.manual_seed(0)
    vocab = {token: index for index, token in enumerate(["[UNK]", "[PAD]", *WORDS])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]")
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
        max_position_embeddings=64, pad_token_id=vocab["[PAD]"],
    )
    path = tmp_path_factory.mktemp("tiny-encoder")
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def spec(encoder: Path, **fields) -> dict:
    return {"type": "text_similarity", "evaluation_metric": "cosine", "embedding_model": str(encoder),
            "reference": "{{ item.reference }}", **fields}


def test_identical_texts_score_one(tiny_encoder, registry):
    grader = load_spec(spec(tiny_encoder), registry=registry)
    result = grader.grade("the cat sat on the mat", {"reference": "the cat sat on the mat"})
    assert result.status is Status.OK
    assert result.reward == pytest.approx(1.0, abs=1e-5)


def test_cosine_is_the_cosine_of_mean_pooled_embeddings(tiny_encoder, registry):
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer, model = AutoTokenizer.from_pretrained(tiny_encoder), AutoModel.from_pretrained(tiny_encoder).eval()

    def embed(text):
        with torch.inference_mode():
            return model(**tokenizer(text, return_tensors="pt")).last_hidden_state[0].mean(0)

    a, b = "the cat sat on the mat", "a dog ran in the park"
    expected = torch.nn.functional.cosine_similarity(embed(a), embed(b), dim=0).item()
    grader = load_spec(spec(tiny_encoder), registry=registry)
    assert grader.grade(a, {"reference": b}).reward == pytest.approx(max(expected, 0.0), abs=1e-5)


def test_batch_equals_one_by_one_and_passes_threshold(tiny_encoder, registry):
    grader = load_spec(spec(tiny_encoder, pass_threshold=0.99), registry=registry)
    samples = ["the cat sat on the mat", "a dog", "quantum chromodynamics in the park", "cat"]
    items = [{"reference": "the cat sat on the mat"}, {"reference": "a dog ran in the park"},
             {"reference": "the cat"}, {"reference": "cat"}]
    batched = grader.grade_batch(samples, items)
    single = [grader.grade(sample, item) for sample, item in zip(samples, items)]
    assert [r.reward for r in batched] == pytest.approx([r.reward for r in single], abs=1e-5)
    assert [r.metadata["passed"] for r in batched] == [True, False, False, True]
    assert all(0.0 <= r.reward <= 1.0 for r in batched)


def test_a_row_with_a_missing_variable_fails_alone(tiny_encoder, registry):
    grader = load_spec(spec(tiny_encoder), registry=registry)
    good, bad = grader.grade_batch(["cat", "dog"], [{"reference": "cat"}, {}])
    assert good.reward == pytest.approx(1.0, abs=1e-5)
    assert (bad.status, bad.error_code) == (Status.ERROR, "invalid_variable_error")


def test_missing_encoder_is_a_spec_error(registry, tmp_path):
    with pytest.raises(SpecError) as caught:
        load_spec(spec(tmp_path / "nowhere"), registry=registry)
    [issue] = caught.value.issues
    assert issue.path == ("embedding_model",)  # the field's path (and line, in a spec file)
    assert issue.message == (
        f"embedding_model '{tmp_path / 'nowhere'}': no such directory ({tmp_path / 'nowhere'}); "
        "give the directory of a saved model (relative paths start from the spec file's folder)"
    )


def test_other_metrics_load_no_encoder(registry):
    assert load_spec({"type": "text_similarity", "reference": "x"}, registry=registry).cosine is None


def test_grader_pickles_without_its_encoder(tiny_encoder, registry):
    import pickle

    grader = load_spec(spec(tiny_encoder), registry=registry)
    before = grader.grade("the cat", {"reference": "a dog"})
    pickled = pickle.dumps(grader)
    assert b"torch" not in pickled  # the location travels, never the model
    copy = pickle.loads(pickled)
    assert copy.cosine.location == grader.cosine.location
    assert copy.grade("the cat", {"reference": "a dog"}) == before
