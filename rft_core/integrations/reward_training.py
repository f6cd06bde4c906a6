"""Train a reward model on preference pairs with TRL's RewardTrainer, for the ``reward_model`` grader.

Nothing here imports torch, transformers or TRL until ``train_reward_model`` runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..kernel.errors import MissingDependencyError, RftError
from .sft import offline_options
from ..run.rows import rows_in

__all__ = ["load_preferences", "train_reward_model"]

NEEDED_FOR = "rft train-rm"


def load_preferences(data: str | Path | list[Mapping[str, Any]], chat: bool = False) -> list[dict[str, Any]]:
    """Preference rows (``prompt``, ``chosen``, ``rejected``) from a JSONL path or a list of rows.

    ``prompt`` is optional (TRL's implicit-prompt format). Each value is text or a list of chat
    messages, one kind for the whole dataset. With ``chat=True`` text rows become conversations:
    the prompt a user message, each answer an assistant message. Raises RftError naming the file
    and line of a bad row.
    """
    source = str(data) if isinstance(data, (str, Path)) else "preference data"
    prepared = []
    kinds = set()
    for where, row in rows_in(data, "preference data", empty="no preference pairs to train on"):
        missing = [key for key in ("chosen", "rejected") if key not in row]
        if missing:
            raise RftError(f"{where}: missing {' and '.join(missing)}; a row holds prompt, chosen and rejected")
        pair = {key: row[key] for key in ("prompt", "chosen", "rejected") if key in row}
        for key, value in pair.items():
            if not isinstance(value, (str, list)):
                raise RftError(f"{where}: {key} must be text or a list of chat messages, not {type(value).__name__}")
            kinds.add(isinstance(value, str))
        if chat and isinstance(pair["chosen"], str):
            pair = _as_conversation(pair)
        prepared.append(pair)
    if len(kinds) > 1:
        raise RftError(f"{source}: some values are text and some chat messages; use one kind for the whole dataset")
    if len({"prompt" in row for row in prepared}) > 1:
        raise RftError(f"{source}: some rows have a prompt and some do not; give every row one, or none")
    return prepared


def _as_conversation(pair: dict[str, Any]) -> dict[str, Any]:
    out = {key: [{"role": "assistant", "content": pair[key]}] for key in ("chosen", "rejected")}
    if "prompt" in pair:
        out["prompt"] = [{"role": "user", "content": pair["prompt"]}]
    return out


def train_reward_model(
    data: str | Path | list[Mapping[str, Any]],
    output_dir: str | Path,
    model: str,
    *,
    max_steps: int = 100,
    learning_rate: float = 1e-5,
    per_device_train_batch_size: int = 8,
    max_length: int | None = 1024,
    seed: int = 42,
    config: Mapping[str, Any] | None = None,
) -> Any:
    """Train a reward model on preference pairs and save it where the ``reward_model`` grader loads it.

    Args:
        data: a JSONL path or a list of rows with ``prompt`` (optional), ``chosen`` and ``rejected``
            (text, or chat messages). Text pairs become conversations when the tokenizer has a chat
            template, so the grader (which uses the chat template) reads what training read.
        output_dir: where the model and tokenizer are saved.
        model: the model to start from, a directory or Hub id; a sequence-classification head with
            one output is added when it has none.
        max_steps, learning_rate, per_device_train_batch_size, max_length, seed: the usual
            ``RewardConfig`` fields (pairs longer than ``max_length`` tokens are skipped, as TRL does).
        config: any other ``trl.RewardConfig`` field, e.g. ``{"report_to": "wandb"}``.

    Returns:
        The ``trl.RewardTrainer``, trained; the model is saved in ``output_dir``.

    >>> trainer = train_reward_model("prefs.jsonl", "my-rm", model="Qwen/Qwen2.5-0.5B-Instruct")  # doctest: +SKIP
    >>> load_spec({"type": "reward_model", "model": "my-rm"}).grade("Paris.", {"prompt": "Capital?"})  # doctest: +SKIP
    """
    try:
        import datasets
        import transformers
        import trl
    except ImportError as exc:
        raise MissingDependencyError(exc.name or "trl", "trl", NEEDED_FOR) from None
    rows = load_preferences(data)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(model)
    except OSError as exc:
        raise RftError(f"model {model!r}: cannot load its tokenizer ({str(exc).strip().splitlines()[0]})") from None
    if getattr(tokenizer, "chat_template", None) and isinstance(rows[0]["chosen"], str):
        rows = [_as_conversation(row) for row in rows]
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    transformers.set_seed(seed)
    classifier = transformers.AutoModelForSequenceClassification.from_pretrained(model, num_labels=1)
    options = offline_options(output_dir, max_steps=max_steps, learning_rate=learning_rate,
                              per_device_train_batch_size=per_device_train_batch_size, max_length=max_length, seed=seed)
    options.update(config or {})
    try:
        args = trl.RewardConfig(**options)
        trainer = trl.RewardTrainer(
            model=classifier,
            args=args,
            train_dataset=datasets.Dataset.from_list(rows),
            processing_class=tokenizer,
        )
    except (TypeError, ValueError) as exc:
        raise RftError(f"rft train-rm: {exc}") from None
    trainer.train()
    trainer.save_model(str(output_dir))
    tokenizer.save_pretrained(str(output_dir))
    return trainer
