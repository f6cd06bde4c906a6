"""Training commands: sample (completions to score), train (TRL GRPO/RLOO/SFT) and train-rm."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import exit_codes
from .loop import add_sft_options as _add_sft_options, train_sft_first
from ..kernel.errors import RftError
from ..run.rows import check_json_lines
from ..run.output_files import check_outputs
from ..kernel.spec import load_spec
from .options import SPEC_HELP, positive_int, share


def add_commands(commands: Any) -> None:
    """Add sample, train and train-rm."""
    _add_sample_command(commands)
    train = commands.add_parser("train", help="train a model with TRL (GRPO or RLOO, the spec as its reward; or SFT)")
    train.add_argument("spec", type=Path, nargs="?", help=SPEC_HELP + " (not with --trainer sft)")
    train.add_argument("--model", required=True, help="model path (or hub id) to train")
    train.add_argument("--data", required=True, type=Path, help="training rows (JSONL): a prompt and the item's fields")
    train.add_argument("--eval-data", type=Path, help="validation rows; their rewards are logged as eval_reward")
    train.add_argument("--trainer", choices=["grpo", "rloo", "sft"], default="grpo",
                       help="grpo (default), rloo, or sft: supervised fine-tuning on --data rows as `rft select` "
                       "writes them (prompt/completion or messages)")
    train.add_argument("--output-dir", type=Path, default=Path("rft-output"), help="where the trained model goes")
    train.add_argument("--max-steps", type=int, default=100)
    train.add_argument("--learning-rate", type=float, default=1e-6)
    train.add_argument("--num-generations", type=int, default=8, help="completions per prompt")
    train.add_argument("--per-device-train-batch-size", type=int, default=8)
    train.add_argument("--max-completion-length", type=int, default=256)
    train.add_argument("--eval-steps", type=int, help="steps between evaluations (default: max-steps / 5)")
    train.add_argument("--report-to", default="none", help="TRL/transformers loggers, e.g. wandb (default: none)")
    train.add_argument(
        "--column", action="append", dest="columns", metavar="NAME",
        help="a dataset column to put in the item (repeat; default: every column, and the prompt)",
    )
    train.add_argument(
        "--rename", action="append", default=[], metavar="COLUMN=KEY",
        help="give a column another name in the item, e.g. solution=answer (repeat)",
    )
    _add_sft_options(train)
    train.set_defaults(handler=_train)

    train_rm = commands.add_parser(
        "train-rm", help="train a reward model on preference pairs (TRL RewardTrainer) for the reward_model grader"
    )
    train_rm.add_argument("data", type=Path, help="preference pairs (JSONL): prompt, chosen, rejected")
    train_rm.add_argument("-o", "--output-dir", type=Path, required=True, help="where the trained model goes")
    train_rm.add_argument("--model", required=True, help="model path (or hub id) to start from")
    train_rm.add_argument("--max-steps", type=int, default=100)
    train_rm.add_argument("--learning-rate", type=float, default=1e-5)
    train_rm.add_argument("--per-device-train-batch-size", type=int, default=8)
    train_rm.add_argument("--max-length", type=int, default=1024, help="pairs longer than this (tokens) are skipped")
    train_rm.add_argument("--seed", type=int, default=42)
    train_rm.add_argument("--report-to", default="none", help="TRL/transformers loggers, e.g. wandb (default: none)")
    train_rm.set_defaults(handler=_train_rm)


def _add_sample_command(commands: Any) -> None:
    sample = commands.add_parser("sample", help="sample k completions per prompt into a file rft score reads")
    sample.add_argument("data", type=Path, help="rows (JSONL) with a prompt (text or chat messages) or messages")
    sample.add_argument("-o", "--output", type=Path, required=True, help="write the rows with their completions here")
    sample.add_argument("--model", required=True, help="the served model's name, or a local model path (transformers)")
    sample.add_argument("-k", type=positive_int, default=4, help="samples per prompt (default 4)")
    sample.add_argument("--backend", choices=["openai", "transformers"], default="openai",
                        help="openai: an OpenAI-compatible server (default); transformers: a local causal LM")
    sample.add_argument("--base-url", help="the server's base URL (default $OPENAI_BASE_URL, else OpenAI)")
    sample.add_argument("--api-key-env", default="OPENAI_API_KEY", help="variable holding the API key")
    sample.add_argument("--temperature", type=float, default=1.0, help="default 1.0; 0 is greedy")
    sample.add_argument("--top-p", type=float)
    sample.add_argument("--max-tokens", type=positive_int, help="most tokens per sample")
    sample.add_argument("--seed", type=int, help="sample j of an item gets seed + j")
    sample.add_argument("--concurrency", type=positive_int, default=16, help="most requests in flight (default 16)")
    sample.add_argument("--requests-per-minute", type=float)
    sample.add_argument("--tokens-per-minute", type=float)
    sample.add_argument("--timeout", type=float, default=120.0, help="seconds per attempt (default 120)")
    sample.add_argument("--max-retries", type=int, default=4, help="retries on 429, 5xx, timeouts (default 4)")
    sample.add_argument("--one-sample-per-request", action="store_true",
                        help="k requests per prompt instead of one with n=k")
    sample.add_argument("--no-cache", action="store_true", help="ask the server afresh instead of reading the cache")
    sample.add_argument("--batch-size", type=positive_int, default=8, help="prompts per generate call (transformers)")
    sample.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto",
                        help="transformers (default auto)")
    sample.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    sample.add_argument(
        "--max-error-rate", type=share, metavar="SHARE",
        help="exit 2 when more than this share (0 to 1) of the samples failed (default: when all failed)",
    )
    sample.set_defaults(handler=_sample)


def _sample(args: argparse.Namespace) -> int:
    from ..integrations.sampling import SampleOptions, sample_file

    check_outputs({"DATA": args.data}, {"-o": args.output})
    check_json_lines(args.data)
    options = SampleOptions(
        model=args.model, k=args.k, backend=args.backend, temperature=args.temperature, top_p=args.top_p,
        max_tokens=args.max_tokens, seed=args.seed, base_url=args.base_url, api_key_env=args.api_key_env,
        concurrency=args.concurrency, requests_per_minute=args.requests_per_minute,
        tokens_per_minute=args.tokens_per_minute, timeout=args.timeout, max_retries=args.max_retries,
        n_per_request=not args.one_sample_per_request, cache=not args.no_cache, batch_size=args.batch_size,
        device=args.device,
    )
    totals = sample_file(args.data, args.output, options, progress=not args.no_progress)
    print(totals.render(), file=sys.stderr)
    problem = totals.failure(args.max_error_rate)
    if problem:
        print(f"error: {problem} (see completion_errors in {args.output})", file=sys.stderr)
        return exit_codes.UNGRADABLE
    return exit_codes.OK


def _train(args: argparse.Namespace) -> int:
    from ..integrations.training import train

    check_outputs({"SPEC": args.spec, "--data": args.data, "--eval-data": args.eval_data,
                   "--warmup-sft": args.warmup_sft}, {"--output-dir": args.output_dir})
    for option, path in (("--data", args.data), ("--eval-data", args.eval_data), ("--warmup-sft", args.warmup_sft)):
        if path is not None and not path.is_file():
            raise RftError(f"{path}: {option} file not found")
    if args.trainer == "sft":
        train_sft_first(args)
        return exit_codes.OK
    if args.spec is None:
        raise RftError(f"rft train --trainer {args.trainer} needs SPEC: the grader spec that is the reward")
    grader = load_spec(args.spec)
    _renames(args.rename)  # a malformed --rename is reported before anything loads
    warmed = train_sft_first(args)
    if warmed is not None:
        args.model = str(warmed)
    try:
        trainer = _train_with(train, grader, args)
    except ValueError as exc:  # TRL's config checks, e.g. a batch size num_generations does not divide
        raise RftError(f"rft train ({args.trainer}): {exc}") from None
    trainer.save_model(str(args.output_dir))
    last = {key: value for entry in trainer.state.log_history for key, value in entry.items()}
    rewards = {key: last[key] for key in ("reward", "eval_reward") if key in last}
    print(json.dumps({"output_dir": str(args.output_dir), "steps": trainer.state.global_step, **rewards}))
    return 0


def _train_rm(args: argparse.Namespace) -> int:
    from ..integrations.reward_training import train_reward_model

    check_outputs({"DATA": args.data}, {"--output-dir": args.output_dir})
    trainer = train_reward_model(
        args.data,
        args.output_dir,
        args.model,
        max_steps=args.max_steps,
        learning_rate=args.learning_rate,
        per_device_train_batch_size=args.per_device_train_batch_size,
        max_length=args.max_length,
        seed=args.seed,
        config={"report_to": args.report_to},
    )
    last = {key: value for entry in trainer.state.log_history for key, value in entry.items()}
    metrics = {key: last[key] for key in ("loss", "accuracy") if key in last}
    print(json.dumps({"output_dir": str(args.output_dir), "steps": trainer.state.global_step, **metrics}))
    return 0


def _train_with(train: Any, grader: Any, args: argparse.Namespace) -> Any:
    return train(
        grader,
        args.model,
        args.data,
        eval_data=args.eval_data,
        trainer=args.trainer,
        output_dir=args.output_dir,
        max_steps=args.max_steps,
        learning_rate=args.learning_rate,
        num_generations=args.num_generations,
        per_device_train_batch_size=args.per_device_train_batch_size,
        max_completion_length=args.max_completion_length,
        eval_steps=args.eval_steps,
        columns=args.columns,
        rename=_renames(args.rename),
        config={"report_to": args.report_to},
    )


def _renames(pairs: list[str]) -> dict[str, str]:
    renames = {}
    for pair in pairs:
        column, _, key = pair.partition("=")
        if not column or not key:
            raise RftError(f"--rename {pair!r}: write COLUMN=KEY, e.g. --rename solution=answer")
        renames[column] = key
    return renames
