"""A local text encoder for embedding similarity: any transformers encoder, mean pooling, cosine.

Used by ``text_similarity`` with ``evaluation_metric: cosine``. torch and transformers are
imported only when an encoder loads (the ``rm`` extra).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationInfo

from rft_core import Runtime

from rft_core.infra import import_torch, locate_model, pick_device

__all__ = ["DEFAULT_ENCODER", "CosineMetric", "Encoder", "load_encoder", "locate_encoder"]

NEEDED_FOR = "text_similarity's cosine metric"
DEFAULT_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"


class Encoder:
    """Embeds texts as the mean of their last hidden states over real tokens, L2-normalised."""

    def __init__(self, model: Any, tokenizer: Any, torch: Any, device: str, max_length: int) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.torch = torch
        self.device = device
        self.max_length = max_length

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> Any:
        """A (len(texts), dim) float tensor of unit vectors; batches sorted by length."""
        torch = self.torch
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        out = [None] * len(texts)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                encoded = self.tokenizer(
                    [texts[index] for index in chunk],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(self.device)
                hidden = self.model(**encoded).last_hidden_state.float()
                mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, dim=-1).cpu()
                for row, index in enumerate(chunk):
                    out[index] = pooled[row]
        return torch.stack(out) if out else torch.zeros((0, 0))

    def cosine(self, texts: Sequence[str], references: Sequence[str]) -> list[float]:
        """Cosine similarity of each text's embedding with its reference's, clamped to [0, 1]
        (an unrelated pair can come out slightly negative; OpenAI's reward is in [0, 1])."""
        if not texts:
            return []
        vectors = self.embed([*texts, *references])
        count = len(texts)
        similarity = (vectors[:count] * vectors[count:]).sum(-1).tolist()
        return [min(max(value, 0.0), 1.0) for value in similarity]


def load_encoder(location: str, runtime: Runtime, device: str = "auto", max_length: int = 512) -> Encoder:
    """The encoder at ``location`` (a directory or hub id), loaded once per runtime."""
    torch, transformers = import_torch(NEEDED_FOR)
    device = pick_device(torch, device)

    def load() -> Encoder:
        tokenizer = transformers.AutoTokenizer.from_pretrained(location)
        model = transformers.AutoModel.from_pretrained(location, dtype=torch.float32)
        model.to(device).eval()
        limit = min(max_length, getattr(model.config, "max_position_embeddings", max_length) or max_length)
        return Encoder(model, tokenizer, torch, device, limit)

    return runtime.shared(("encoder", location, device, max_length), load)


def locate_encoder(model: str, info: ValidationInfo) -> str:
    """The encoder a config names (from its validator, whose ``info`` says the spec's folder): a
    directory's absolute path or a hub id; a missing one raises ValueError saying how to fix it."""
    return locate_model(model, "embedding_model", NEEDED_FOR, info)


class CosineMetric:
    """``text_similarity``'s cosine metric for one grader: the encoder ``location`` (found by
    ``locate_encoder`` when the spec loads) is loaded on first use, once per process (so a pickled
    grader carries its location, never the model)."""

    def __init__(self, location: str) -> None:
        self.location = location

    def encoder(self, runtime: Runtime) -> Encoder:
        return load_encoder(self.location, runtime)

    def score(self, text: str, reference: str, runtime: Runtime) -> float:
        return self.encoder(runtime).cosine([text], [reference])[0]

    def grade_batch(self, grader: Any, samples: Sequence[Any], items: Sequence[Any]) -> list[Any]:
        """The grader's results for a batch, the texts embedded together; a row whose template
        fails, or whose texts are over the grader's size caps, gets its own result."""
        from rft_core import Result

        config = grader.config
        results: list[Any] = [None] * len(samples)
        rows, texts, references = [], [], []
        for index, (sample, item) in enumerate(zip(samples, items)):
            try:
                text, reference = grader.texts(sample, item)
            except Exception as exc:  # noqa: BLE001 - one bad row fails alone
                results[index] = grader._failure(exc)
                continue
            texts.append(text)
            references.append(reference)
            rows.append(index)
        threshold = config.pass_threshold
        for index, score in zip(rows, self.encoder(grader.runtime).cosine(texts, references)):
            results[index] = Result(score, metadata={"passed": score >= threshold} if threshold is not None else {})
        return results
