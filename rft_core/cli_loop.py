"""The ``rft select``, ``rft pairs`` and ``rft loop`` commands: arguments in, library calls out."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import exit_codes
from .input_format import check_json_lines
from .output_files import check_outputs

__all__ = ["add_loop_commands"]

_SCORES_HELP = "output rows of `rft score -o` (JSONL)"
_DATA_HELP = "the data file that was scored (the output of `rft sample`): it holds the prompts and completion texts"


def add_loop_commands(commands: Any) -> None:
    """Add ``select``, ``pairs`` and ``loop`` to the ``rft`` subcommands."""
    from .cli import _positive_int

    select = commands.add_parser("select", help="best-of-k: keep the best graded samples as SFT rows (TRL format)")
    select.add_argument("scores", type=Path, help=_SCORES_HELP)
    select.add_argument("--data", type=Path, required=True, help=_DATA_HELP)
    select.add_argument("-o", "--output", type=Path, required=True, help="write the SFT rows (JSONL) here")
    select.add_argument("--min-reward", type=float, default=1.0,
                        help="keep samples with at least this reward (and status ok; default 1.0)")
    select.add_argument("--per-item", type=_positive_int, default=1, metavar="N",
                        help="keep at most N samples per item, best first (default 1)")
    select.add_argument("--all", action="store_true", help="keep every sample that qualifies (no --per-item cap)")
    select.add_argument("--ties", choices=["shortest", "first"], default="shortest",
                        help="among equal rewards: the shortest text first (default) or the first sampled")
    select.set_defaults(handler=_select)

    pairs = commands.add_parser("pairs", help="preference pairs (chosen, rejected) from graded samples of each item")
    pairs.add_argument("scores", type=Path, help=_SCORES_HELP)
    pairs.add_argument("--data", type=Path, required=True, help=_DATA_HELP)
    pairs.add_argument("-o", "--output", type=Path, required=True, help="write the pairs (JSONL) here")
    pairs.add_argument("--min-margin", type=float, default=0.0,
                       help="the chosen reward must exceed the rejected one by at least this (default: any amount)")
    pairs.add_argument("--per-item", type=_positive_int, metavar="N", help="at most N pairs per item, widest margin first")
    pairs.set_defaults(handler=_pairs)


def _select(args: argparse.Namespace) -> int:
    from .select import select_file

    check_outputs({"SCORES": args.scores, "--data": args.data}, {"-o": args.output})
    _check_inputs(args)
    totals = select_file(args.scores, args.data, args.output, min_reward=args.min_reward,
                         per_item=None if args.all else args.per_item, ties=args.ties)
    print(json.dumps({"output": str(args.output), **totals.to_dict()}))
    if totals.items_without_rows:
        print(f"{totals.items_without_rows} of {totals.items} items got no row (no ok sample with reward >= "
              f"{args.min_reward:g})", file=sys.stderr)
    return exit_codes.OK


def _pairs(args: argparse.Namespace) -> int:
    from .pairs import pairs_file

    check_outputs({"SCORES": args.scores, "--data": args.data}, {"-o": args.output})
    _check_inputs(args)
    totals = pairs_file(args.scores, args.data, args.output, min_margin=args.min_margin, per_item=args.per_item)
    print(json.dumps({"output": str(args.output), **totals.to_dict()}))
    if totals.items_without_pairs:
        print(f"{totals.items_without_pairs} of {totals.items} items gave no pair (fewer than two ok samples "
              f"with different rewards)", file=sys.stderr)
    return exit_codes.OK


def _check_inputs(args: argparse.Namespace) -> None:
    check_json_lines(args.scores, "scores file", allow_empty=True)
    check_json_lines(args.data, allow_empty=True)


def add_sft_options(train: argparse.ArgumentParser) -> None:
    """``rft train``'s SFT options: ``--trainer sft`` epochs, and the warm-up before GRPO/RLOO."""
    train.add_argument("--epochs", type=float, metavar="N",
                       help="with --trainer sft: train N epochs over --data (default: --max-steps steps)")
    train.add_argument("--warmup-sft", type=Path, metavar="DATA",
                       help="first fine-tune on these SFT rows (prompt/completion or messages, as `rft select` "
                       "writes them), then run GRPO/RLOO from that model; it is saved in OUTPUT_DIR/warmup-sft")
    train.add_argument("--warmup-epochs", type=float, default=1.0, metavar="N", help="epochs of the warm-up (default 1)")
    train.add_argument("--sft-learning-rate", type=float, default=1e-5,
                       help="learning rate of --trainer sft and of the warm-up (default 1e-5)")


def train_sft_first(args: argparse.Namespace) -> Path | None:
    """Run ``rft train``'s SFT part: the whole run for ``--trainer sft``, else the ``--warmup-sft`` warm-up;
    returns where the warmed-up model is (None without a warm-up)."""
    from .sft import train_sft

    options = {"learning_rate": args.sft_learning_rate, "per_device_train_batch_size": args.per_device_train_batch_size,
               "config": {"report_to": args.report_to}}
    if args.trainer == "sft":
        trainer = train_sft(args.model, args.data, args.output_dir, epochs=args.epochs, max_steps=args.max_steps, **options)
        print(json.dumps({"output_dir": str(args.output_dir), "steps": trainer.state.global_step,
                          **_last(trainer, "loss", "mean_token_accuracy")}))
        return Path(args.output_dir)
    if args.warmup_sft is None:
        return None
    warmed = Path(args.output_dir) / "warmup-sft"
    trainer = train_sft(args.model, args.warmup_sft, warmed, epochs=args.warmup_epochs, **options)
    print(json.dumps({"warmup_sft": str(warmed), "steps": trainer.state.global_step,
                      **_last(trainer, "loss", "mean_token_accuracy")}))
    return warmed


def _last(trainer: Any, *keys: str) -> dict[str, Any]:
    """The last logged value of each of ``keys`` that the trainer logged."""
    last = {key: value for entry in trainer.state.log_history for key, value in entry.items()}
    return {key: last[key] for key in keys if key in last}
