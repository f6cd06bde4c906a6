"""``rft sample --backend transformers``: k samples per prompt from a local causal LM, batched.

A text prompt is tokenized as it is; chat messages go through the tokenizer's chat template
(with the generation prompt). ``batch_size`` prompts at a time, each with
``num_return_sequences=k`` (temperature 0: greedy, the one answer repeated k times). With a
seed, batch b is generated after ``torch.manual_seed(seed + b)``: the same command with the
same batch size gives the same samples. A batch whose generation raises (out of memory, ...)
gives its items failed samples, not a crash. Usage counts prompt tokens once per item and the
generated tokens up to the end-of-sequence token.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from rft_core.infra.torch_helpers import import_torch, pick_device, torch_dtype

from ..kernel.errors import RftError
from .sampling import ItemSamples, PromptRow, SampleOptions

__all__ = ["DEFAULT_MAX_NEW_TOKENS", "LocalSampler"]

DEFAULT_MAX_NEW_TOKENS = 256
NEEDED_FOR = "rft sample --backend transformers"


class LocalSampler:
    """A causal LM and its tokenizer, loaded from a local directory (or hub id) once."""

    def __init__(self, options: SampleOptions) -> None:
        torch, transformers = import_torch(NEEDED_FOR)
        self.options = options
        self.torch = torch
        self.device = pick_device(torch, options.device)
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(options.model)
            self.model = transformers.AutoModelForCausalLM.from_pretrained(
                options.model, torch_dtype=torch_dtype(torch, "auto", self.device)
            ).to(self.device)
        except (OSError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RftError(f"--model {options.model}: cannot load a causal LM and its tokenizer: {first}") from None
        self.model.eval()
        self.tokenizer.padding_side = "left"  # generation continues each prompt from its last token
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def samples(self, prompts: Sequence[PromptRow]) -> Iterator[ItemSamples]:
        """One ItemSamples per prompt, in order, ``batch_size`` prompts per generate() call."""
        texts = [self.text(prompt) for prompt in prompts]  # a prompt the tokenizer cannot format fails first
        size = self.options.batch_size
        for number, start in enumerate(range(0, len(texts), size)):
            yield from self._batch(texts[start:start + size], number)

    def text(self, prompt: PromptRow) -> str:
        if isinstance(prompt.prompt, str):
            return prompt.prompt
        if not getattr(self.tokenizer, "chat_template", None):
            raise RftError(
                f"line {prompt.line}: the prompt is chat messages but the tokenizer of {self.options.model} "
                "has no chat template: give a text 'prompt', or a model whose tokenizer has one"
            )
        return self.tokenizer.apply_chat_template(prompt.prompt, tokenize=False, add_generation_prompt=True)

    def _batch(self, texts: list[str], number: int) -> list[ItemSamples]:
        k = self.options.k
        try:
            generated, prompt_tokens = self._generate(texts, number)
        except Exception as exc:  # noqa: BLE001 - a batch that fails fails its items, not the run
            failed = []
            for _ in texts:
                item = ItemSamples.empty(k)
                item.fail(range(k), f"generation failed: {type(exc).__name__}: {exc}")
                failed.append(item)
            return failed
        items = []
        for index, tokens in enumerate(prompt_tokens):
            rows = generated[index * k:(index + 1) * k]
            completion_tokens = sum(_length(row, self.tokenizer.eos_token_id) for row in rows)
            items.append(ItemSamples(
                [self.tokenizer.decode(row, skip_special_tokens=True) for row in rows],
                [None] * k,
                {"prompt_tokens": tokens, "completion_tokens": completion_tokens,
                 "total_tokens": tokens + completion_tokens},
            ))
        return items

    def _generate(self, texts: list[str], number: int) -> tuple[list[Any], list[int]]:
        """The new tokens of every sample (k per prompt, prompt-major) and each prompt's token count."""
        torch, options = self.torch, self.options
        encoded = self.tokenizer(texts, return_tensors="pt", padding=True).to(self.device)
        greedy = options.temperature == 0
        arguments: dict[str, Any] = {
            "max_new_tokens": options.max_tokens or DEFAULT_MAX_NEW_TOKENS,
            "pad_token_id": self.tokenizer.pad_token_id,
            "do_sample": not greedy,
        }
        if not greedy:
            arguments.update(temperature=options.temperature, top_p=options.top_p or 1.0, top_k=0,
                             num_return_sequences=options.k)
        if options.seed is not None:
            torch.manual_seed(options.seed + number)
        with torch.no_grad():
            output = self.model.generate(**encoded, **arguments)
        new = output[:, encoded["input_ids"].shape[1]:].tolist()
        if greedy:
            new = [row for row in new for _ in range(options.k)]
        return new, encoded["attention_mask"].sum(dim=1).tolist()


def _length(tokens: list[int], eos: int | None) -> int:
    """Generated tokens up to and including the first end-of-sequence token."""
    return tokens.index(eos) + 1 if eos is not None and eos in tokens else len(tokens)
