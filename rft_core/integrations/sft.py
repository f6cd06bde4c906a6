"""Supervised fine-tuning with TRL's ``SFTTrainer``: ``rft train --trainer sft`` and the SFT warm-up before RL.

The data is TRL's SFT formats, as ``rft select`` writes them: ``{"prompt", "completion"}`` (the
loss is on the completion only, TRL's default) or ``{"messages"}`` (a conversation). Nothing here
imports torch or TRL until ``train_sft`` runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..kernel.errors import MissingDependencyError, RftError
from ..run.rows import read_rows

__all__ = ["load_sft_rows", "offline_options", "train_sft"]

NEEDED_FOR = "rft train --trainer sft"
_FORMATS = (("prompt", "completion"), ("messages",))


def offline_options(output_dir: str | Path, **fields: Any) -> dict[str, Any]:
    """TRL config fields for a run that logs every step, saves no checkpoint, reports nowhere and uses
    the CPU when there is no accelerator (TRL's default bf16 refuses such a machine); ``fields`` added."""
    from .training import _accelerator_available

    return {"output_dir": str(output_dir), "logging_steps": 1, "save_strategy": "no", "report_to": "none",
            "use_cpu": not _accelerator_available(), **fields}


def load_sft_rows(path: str | Path) -> list[dict[str, Any]]:
    """The SFT rows of a JSONL file, each cut to its format's fields; RftError names the line of a bad row."""
    rows = []
    for line, row in read_rows(path):
        fields = next((keys for keys in _FORMATS if all(key in row for key in keys)), None)
        if fields is None:
            raise RftError(f"{path}: line {line}: an SFT row holds 'prompt' and 'completion', or 'messages' "
                           "(as `rft select` writes them)")
        rows.append({key: row[key] for key in fields})
    if not rows:
        raise RftError(f"{path}: no SFT rows to train on (did `rft select` keep none? lower --min-reward)")
    if len({tuple(row) for row in rows}) > 1:
        raise RftError(f"{path}: some rows are prompt-completion and some messages; use one format for the file")
    return rows


def train_sft(
    model: str,
    data: str | Path,
    output_dir: str | Path,
    *,
    epochs: float | None = None,
    max_steps: int | None = None,
    learning_rate: float = 1e-5,
    per_device_train_batch_size: int = 8,
    max_length: int | None = 1024,
    seed: int = 42,
    config: Mapping[str, Any] | None = None,
) -> Any:
    """Fine-tune ``model`` on the SFT rows of ``data`` for ``epochs`` (or ``max_steps``); save model and
    tokenizer in ``output_dir``; return the trained ``trl.SFTTrainer``."""
    try:
        import datasets
        import transformers
        import trl
    except ImportError as exc:
        raise MissingDependencyError(exc.name or "trl", "trl", NEEDED_FOR) from None
    rows = load_sft_rows(data)
    transformers.set_seed(seed)
    options = offline_options(
        output_dir, max_steps=max_steps if max_steps is not None and epochs is None else -1,
        num_train_epochs=epochs if epochs is not None else 1.0, learning_rate=learning_rate,
        per_device_train_batch_size=per_device_train_batch_size, max_length=max_length, seed=seed,
    )
    options.update(config or {})
    try:
        trainer = trl.SFTTrainer(model=model, args=trl.SFTConfig(**options),
                                 train_dataset=datasets.Dataset.from_list(rows))
    except (TypeError, ValueError) as exc:
        raise RftError(f"rft train --trainer sft: {exc}") from None
    except OSError as exc:
        raise RftError(f"--model {model}: cannot load it ({str(exc).strip().splitlines()[0]})") from None
    trainer.train()
    trainer.save_model(str(output_dir))
    return trainer
