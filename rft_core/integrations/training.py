"""``train``: a spec as the reward of a TRL GRPO or RLOO run (or SFT), with the datasets read from JSON Lines.

Nothing here imports torch or TRL until ``train`` runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..kernel.errors import MissingDependencyError, RftError
from ..kernel.grader import Grader
from ..run.rows import rows_in
from ..kernel.registry import Registry
from .trl import Spec, _load, reward_funcs, reward_weights

__all__ = ["load_dataset", "train"]


def train(
    spec: Spec,
    model: Any,
    train_data: Any,
    *,
    eval_data: Any = None,
    trainer: str = "grpo",
    output_dir: str | Path = "rft-output",
    max_steps: int = 100,
    learning_rate: float = 1e-6,
    num_generations: int = 8,
    per_device_train_batch_size: int = 8,
    max_completion_length: int = 256,
    eval_steps: int | None = None,
    split: bool | None = None,
    columns: Sequence[str] | None = None,
    rename: Mapping[str, str] | None = None,
    config: Mapping[str, Any] | None = None,
    run: bool = True,
    registry: Registry | None = None,
) -> Any:
    """Train a model with the spec as the reward: a thin layer over TRL's GRPOTrainer / RLOOTrainer.

    Args:
        spec: a Grader, a spec file path or a spec mapping.
        model: a model path (or hub id; TRL loads it) or a loaded model.
        train_data: a JSONL path, a list of rows or a ``datasets.Dataset``. Rows need a ``prompt``
            (text or chat messages) or OpenAI RFT ``messages``; the other fields are the item.
        eval_data: the same for the validation set; its rewards are logged every ``eval_steps``
            steps as ``eval_reward`` and ``eval_rewards/<name>/mean`` (OpenAI's valid_reward_mean).
        trainer: ``grpo`` or ``rloo``.
        output_dir, max_steps, learning_rate, num_generations, per_device_train_batch_size,
        max_completion_length: the trainer config fields of the same names.
        eval_steps: steps between evaluations (default: a fifth of ``max_steps``).
        split: one reward function per top-level grader, with ``reward_weights`` (default: when the
            spec's combination is a weighted sum), else one composite function.
        columns, rename: which dataset columns make the item (see ``RewardFunction``).
        config: any other GRPOConfig / RLOOConfig fields, e.g. ``{"beta": 0.04, "report_to": "wandb"}``.
        run: call ``trainer.train()`` before returning.
        registry: grader types to build the spec with.

    Returns:
        The trainer (``trainer.state.log_history`` has every logged metric).
    """
    grader = _load(spec, registry)
    trainer_class, config_class = _trainer_classes(trainer)
    if split is None:
        split = _splittable(grader)
    funcs = reward_funcs(grader, split=split, columns=columns, rename=rename)
    fields: dict[str, Any] = {
        "output_dir": str(output_dir),
        "max_steps": max_steps,
        "learning_rate": learning_rate,
        "num_generations": num_generations,
        "per_device_train_batch_size": per_device_train_batch_size,
        "max_completion_length": max_completion_length,
        "logging_steps": 1,
        "report_to": "none",
        "save_strategy": "no",
        "reward_weights": reward_weights(grader) if split else None,
        "use_cpu": not _accelerator_available(),  # TRL's default bf16 refuses a machine without one
    }
    train_dataset = load_dataset(train_data, "train_data")
    eval_dataset = load_dataset(eval_data, "eval_data") if eval_data is not None else None
    if eval_dataset is not None:
        fields["eval_strategy"] = "steps"
        fields["eval_steps"] = eval_steps or max(1, max_steps // 5)
        fields["per_device_eval_batch_size"] = per_device_train_batch_size
    fields.update(config or {})
    built = trainer_class(
        model=model,
        reward_funcs=funcs,
        args=config_class(**fields),
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
    )
    if run:
        built.train()
    return built


def _splittable(grader: Grader) -> bool:
    if not grader.splits:
        return False
    try:
        reward_weights(grader)
    except RftError:
        return False
    return True


def _accelerator_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return torch.cuda.is_available() or bool(mps is not None and mps.is_available())


def _trainer_classes(name: str) -> tuple[Any, Any]:
    name = name.lower()
    if name not in ("grpo", "rloo"):
        raise RftError(f"unknown trainer {name!r}: use grpo or rloo")
    try:
        import trl
    except ImportError:
        raise MissingDependencyError("trl", "trl", "rft_core.integrations.training.train") from None
    if name == "grpo":
        return trl.GRPOTrainer, trl.GRPOConfig
    return trl.RLOOTrainer, trl.RLOOConfig


def load_dataset(data: Any, what: str = "data") -> Any:
    """A ``datasets.Dataset`` of training rows from a JSONL path, a list of rows or a Dataset.

    Rows with OpenAI RFT ``messages`` and no ``prompt`` get the messages (less a trailing
    assistant reply) as their chat ``prompt``.
    """
    try:
        import datasets
    except ImportError:
        raise MissingDependencyError("datasets", "trl", "rft_core.integrations.training.train") from None
    if isinstance(data, (datasets.Dataset, datasets.IterableDataset)):
        return data
    source = str(data) if isinstance(data, (str, Path)) else what
    prepared = [_prepare_row(row, where) for where, row in rows_in(data, what, empty="no rows to train on")]
    kinds = {isinstance(row["prompt"], str) for row in prepared}
    if len(kinds) > 1:
        raise RftError(f"{source}: some prompts are text and some chat messages; use one kind for the whole dataset")
    keys: dict[str, None] = {}
    for row in prepared:
        keys.update(dict.fromkeys(row))
    return datasets.Dataset.from_dict({key: [row.get(key) for row in prepared] for key in keys})


def _prepare_row(row: Mapping[str, Any], where: str) -> dict[str, Any]:
    row = dict(row)
    if "prompt" not in row:
        messages = row.pop("messages", None)
        if not isinstance(messages, list) or not messages:
            raise RftError(f"{where}: a training row needs a 'prompt' (text or chat messages) or 'messages'")
        if isinstance(messages[-1], Mapping) and messages[-1].get("role") == "assistant":
            messages = messages[:-1]
        row["prompt"] = messages
    return row
