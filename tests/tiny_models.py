"""Tiny random transformers models and word-level tokenizers, built locally (the Hub is never used).

Shared by the tests and the benchmarks that need a real model: a tokenizer over a handful of
words, and a Llama config sized for it.
"""

from __future__ import annotations

from typing import Any

SPECIALS = ("<unk>", "<pad>", "<eos>")


def word_tokenizer(words: list[str], chat_template: str | None = None) -> Any:
    """A PreTrainedTokenizerFast whose vocabulary is SPECIALS + ``words``, split on whitespace."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: index for index, token in enumerate([*SPECIALS, *words])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.decoder = decoders.WordPiece(cleanup=False)  # joins words with spaces
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", pad_token="<pad>", eos_token="<eos>")
    if chat_template:
        tokenizer.chat_template = chat_template
    return tokenizer


def llama_config(tokenizer: Any, hidden_size: int = 16, layers: int = 2, heads: int = 2, **extra: Any) -> Any:
    """A LlamaConfig for ``tokenizer``'s vocabulary: ``layers`` x ``hidden_size``, random weights when built."""
    from transformers import LlamaConfig

    fields = {
        "vocab_size": len(tokenizer),
        "hidden_size": hidden_size,
        "intermediate_size": 2 * hidden_size,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": heads,
        "max_position_embeddings": 256,
        "pad_token_id": tokenizer.pad_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "bos_token_id": None,
    }
    return LlamaConfig(**{**fields, **extra})


def save_tiny_llama(path: Any, words: list[str], chat_template: str | None = None, **config: Any) -> Any:
    """A random 2-layer Llama over ``words`` (seeded) with its word tokenizer, saved to ``path``; returns ``path``."""
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(0)
    tokenizer = word_tokenizer(words, chat_template)
    LlamaForCausalLM(llama_config(tokenizer, **config)).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
