"""The ``rft select``, ``rft pairs`` and ``rft loop`` commands: arguments in, library calls out."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import exit_codes
from ..run.rows import check_json_lines
from ..run.output_files import check_outputs

__all__ = ["add_loop_commands"]

_SCORES_HELP = "output rows of `rft score -o` (JSONL)"
_DATA_HELP = "the data file that was scored (the output of `rft sample`): it holds the prompts and completion texts"


def add_loop_commands(commands: Any) -> None:
    """Add ``select``, ``pairs`` and ``loop`` to the ``rft`` subcommands."""
    from .options import positive_int as _positive_int

    select = _graded_command(commands, "select", "best-of-k: keep the best graded samples as SFT rows (TRL format)",
                             "the SFT rows")
    select.add_argument("--min-reward", type=float, default=1.0,
                        help="keep samples with at least this reward (and status ok; default 1.0)")
    select.add_argument("--per-item", type=_positive_int, default=1, metavar="N",
                        help="keep at most N samples per item, best first (default 1)")
    select.add_argument("--all", action="store_true", help="keep every sample that qualifies (no --per-item cap)")
    select.add_argument("--ties", choices=["shortest", "first"], default="shortest",
                        help="among equal rewards: the shortest text first (default) or the first sampled")
    select.set_defaults(handler=_select)

    pairs = _graded_command(commands, "pairs", "preference pairs (chosen, rejected) from graded samples of each item",
                            "the pairs")
    pairs.add_argument("--min-margin", type=float, default=0.0,
                       help="the chosen reward must exceed the rejected one by at least this (default: any amount)")
    pairs.add_argument("--per-item", type=_positive_int, metavar="N", help="at most N pairs per item, widest margin first")
    pairs.set_defaults(handler=_pairs)
    _add_loop_command(commands, _positive_int)


def _graded_command(commands: Any, name: str, summary: str, written: str) -> argparse.ArgumentParser:
    """A command reading a scores file and the data that was scored, writing ``-o``."""
    command = commands.add_parser(name, help=summary)
    command.add_argument("scores", type=Path, help=_SCORES_HELP)
    command.add_argument("--data", type=Path, required=True, help=_DATA_HELP)
    command.add_argument("-o", "--output", type=Path, required=True, help=f"write {written} (JSONL) here")
    return command


def _select(args: argparse.Namespace) -> int:
    from ..integrations.select import select_file

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
    from ..integrations.pairs import pairs_file

    check_outputs({"SCORES": args.scores, "--data": args.data}, {"-o": args.output})
    _check_inputs(args)
    totals = pairs_file(args.scores, args.data, args.output, min_margin=args.min_margin, per_item=args.per_item)
    print(json.dumps({"output": str(args.output), **totals.to_dict()}))
    if totals.items_without_pairs:
        print(f"{totals.items_without_pairs} of {totals.items} items gave no pair (fewer than two ok samples "
              f"with different rewards)", file=sys.stderr)
    return exit_codes.OK


def _add_loop_command(commands: Any, positive: Any) -> None:
    loop = commands.add_parser("loop", help="rounds of sample, score, report, (select + SFT), RL and validation")
    loop.add_argument("spec", type=Path, help="the grader spec: the reward of every round")
    loop.add_argument("--model", required=True, help="the starting policy: a local causal LM directory")
    loop.add_argument("--data", type=Path, required=True, help="training rows (JSONL): a prompt and the item's fields")
    loop.add_argument("--eval-data", type=Path, required=True, help="validation rows, scored before and after each round")
    loop.add_argument("--rounds", type=positive, default=2, help="rounds (default 2)")
    loop.add_argument("-o", "--output", type=Path, required=True, metavar="RUN_DIR",
                      help="the run directory; run the same command again to continue a killed run")
    loop.add_argument("-k", type=positive, default=4, help="samples per training item each round (default 4)")
    loop.add_argument("--eval-k", type=positive, default=1, help="samples per validation item (default 1)")
    loop.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default 1.0)")
    loop.add_argument("--max-tokens", type=positive, default=64, help="most tokens per completion (default 64)")
    loop.add_argument("--trainer", choices=["grpo", "rloo"], default="grpo")
    loop.add_argument("--max-steps", type=positive, default=20, help="RL steps per round (default 20)")
    loop.add_argument("--learning-rate", type=float, default=1e-6)
    loop.add_argument("--num-generations", type=positive, default=4, help="RL completions per prompt (default 4)")
    loop.add_argument("--per-device-train-batch-size", type=positive, default=8)
    loop.add_argument("--select-sft", action="store_true",
                      help="each round, fine-tune on the best-of-k samples (rft select) before RL")
    loop.add_argument("--min-reward", type=float, default=1.0, help="with --select-sft: the reward to keep (1.0)")
    loop.add_argument("--sft-epochs", type=float, default=1.0, help="with --select-sft: SFT epochs (default 1)")
    loop.add_argument("--sft-learning-rate", type=float, default=1e-5)
    loop.add_argument("--refresh-rm", action="store_true", help="each round, retrain the spec's reward_model grader "
                      "on preference pairs of the round's graded samples and use it from the next round on")
    loop.add_argument("--rm-steps", type=positive, default=50, help="with --refresh-rm: training steps (default 50)")
    loop.add_argument("--rm-learning-rate", type=float, default=1e-5)
    loop.add_argument("--seed", type=int, default=0)
    loop.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto", help="for sampling")
    loop.set_defaults(handler=_loop)


def _loop(args: argparse.Namespace) -> int:
    from ..kernel.errors import RftError
    from ..integrations.loop import LoopOptions, run_loop

    check_outputs({"SPEC": args.spec, "--data": args.data, "--eval-data": args.eval_data}, {"-o": args.output})
    for option, path in (("SPEC", args.spec), ("--data", args.data), ("--eval-data", args.eval_data)):
        if not path.is_file():
            raise RftError(f"{path}: {option} file not found")
    options = LoopOptions(
        spec=str(args.spec.resolve()), model=args.model, train=str(args.data.resolve()),
        valid=str(args.eval_data.resolve()), run_dir=str(args.output.resolve()), rounds=args.rounds, k=args.k,
        eval_k=args.eval_k, temperature=args.temperature, max_tokens=args.max_tokens, trainer=args.trainer,
        max_steps=args.max_steps, learning_rate=args.learning_rate, num_generations=args.num_generations,
        per_device_train_batch_size=args.per_device_train_batch_size, select_sft=args.select_sft,
        min_reward=args.min_reward, sft_epochs=args.sft_epochs, sft_learning_rate=args.sft_learning_rate,
        refresh_rm=args.refresh_rm, rm_steps=args.rm_steps, rm_learning_rate=args.rm_learning_rate, seed=args.seed,
        device=args.device,
    )
    args.on_interrupt = f"run the same command again to continue from the last finished step in {args.output}"
    rows = run_loop(options, log=lambda message: print(message, file=sys.stderr, flush=True))
    print(json.dumps({"run_dir": str(args.output), "rounds": rows}))
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
    from ..integrations.sft import train_sft

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
