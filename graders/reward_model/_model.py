"""A loaded sequence-classification reward model: text formatting, tokenising, batched scoring."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rft_core import Runtime

from rft_core.infra import import_torch, pick_device, torch_dtype

__all__ = ["RewardModel", "load_reward_model"]

NEEDED_FOR = "the reward_model grader"


class RewardModel:
    """A model and its tokenizer, loaded once per process (see ``load_reward_model``)."""

    def __init__(self, model: Any, tokenizer: Any, torch: Any, device: str) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.torch = torch
        self.device = device
        self.has_chat_template = bool(getattr(tokenizer, "chat_template", None))
        self.pad_id = model.config.pad_token_id

    def text(self, prompt: Any, completion: str, use_chat_template: bool) -> tuple[str, bool]:
        """The text the model reads, and whether it came from the chat template.

        With a chat template: the prompt (a string as one user message, or a message list) and the
        completion as the assistant's reply. Without: prompt + completion + the EOS token, the way
        TRL's RewardTrainer trains on plain-text preference pairs.
        """
        if use_chat_template and self.has_chat_template:
            if prompt is None:
                messages = []
            elif isinstance(prompt, str):
                messages = [{"role": "user", "content": prompt}]
            else:
                messages = list(prompt)
            messages.append({"role": "assistant", "content": completion})
            return self.tokenizer.apply_chat_template(messages, tokenize=False), True
        text = completion if prompt is None else f"{prompt if isinstance(prompt, str) else _joined(prompt)}{completion}"
        return self.with_eos(text), False

    def with_eos(self, text: str) -> str:
        eos = self.tokenizer.eos_token
        return text if not eos or text.endswith(eos) else text + eos

    def token_ids(self, texts: Sequence[str], chat: Sequence[bool], max_length: int) -> tuple[list[list[int]], list[bool]]:
        """Token ids of each text (special tokens added unless the chat template wrote them), cut to
        ``max_length`` by the tokenizer's own truncation; and which texts were cut."""
        ids: list[list[int] | None] = [None] * len(texts)
        for flag in (False, True):
            rows = [index for index, is_chat in enumerate(chat) if is_chat is flag]
            if rows:
                encoded = self.tokenizer([texts[i] for i in rows], add_special_tokens=not flag)["input_ids"]
                for index, row in zip(rows, encoded):
                    ids[index] = row
        truncated = [len(row) > max_length for row in ids]  # type: ignore[arg-type]
        for index, cut in enumerate(truncated):
            if cut:
                ids[index] = self.tokenizer(
                    texts[index], add_special_tokens=not chat[index], truncation=True, max_length=max_length
                )["input_ids"]
        return ids, truncated  # type: ignore[return-value]

    def scores(self, ids: Sequence[list[int]], batch_size: int, label_index: int) -> list[float]:
        """The raw score of each token sequence: batches of similar length (sorted), right-padded,
        under ``torch.inference_mode``; returned in input order."""
        torch = self.torch
        order = sorted(range(len(ids)), key=lambda index: len(ids[index]))
        out = [0.0] * len(ids)
        pad = self.pad_id if self.pad_id is not None else 0
        with torch.inference_mode():
            order = [index for index in order if ids[index]]  # nothing to read: left at 0.0, flagged by the grader
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                width = max(len(ids[index]) for index in chunk)
                input_ids = torch.full((len(chunk), width), pad, dtype=torch.long)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for row, index in enumerate(chunk):
                    length = len(ids[index])
                    input_ids[row, :length] = torch.tensor(ids[index], dtype=torch.long)
                    mask[row, :length] = 1
                logits = self.model(input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device)).logits
                for index, value in zip(chunk, logits[:, label_index].float().cpu().tolist()):
                    out[index] = value
        return out


def _joined(messages: Sequence[Any]) -> str:
    return "\n".join(str(message.get("content", "")) if isinstance(message, dict) else str(message) for message in messages)


def load_reward_model(location: str, runtime: Runtime, dtype: str = "auto", device: str = "auto") -> RewardModel:
    """The model at ``location`` (a directory or hub id), loaded once per runtime for each
    (location, dtype, device) and shared by every grader that names it."""
    torch, transformers = import_torch(NEEDED_FOR)
    device = pick_device(torch, device)

    def load() -> RewardModel:
        tokenizer = transformers.AutoTokenizer.from_pretrained(location)
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            location, dtype=torch_dtype(torch, dtype, device)
        )
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        if model.config.pad_token_id is None and tokenizer.pad_token_id is not None:
            model.config.pad_token_id = tokenizer.pad_token_id
        model.to(device).eval()
        return RewardModel(model, tokenizer, torch, device)

    return runtime.shared(("classifier", location, dtype, device), load)
