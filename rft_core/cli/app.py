"""The ``rft`` command line: translates arguments into library calls and errors into messages."""

from __future__ import annotations

import argparse
import gc
import json
import os
import shlex
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from . import exit_codes
from .loop import add_loop_commands, add_sft_options as _add_sft_options, train_sft_first
from ..run.data import read_tasks
from ..kernel.errors import RftError, SpecError
from ..report.gold import read_gold
from ..run.input_format import check_json_lines
from ..integrations.openai_compat import (
    export_openai,
    formula_error_response,
    not_portable,
    openai_issues,
    run_response,
)
from ..run.output import RowWriter, finish_output, open_output, result_from_row, resume_record_path, written_rows
from ..run.output_files import atomic_text, check_outputs
from ..kernel.registry import default_registry
from ..report.summary import Summary, write_report
from ..run.runner import run
from ..kernel.spec import load_spec, read_spec_file
from ..kernel.types import Sample


DEBUG_VARIABLE = "RFT_DEBUG"
"""Set to 1 (like --debug) to see the traceback of an unexpected error."""


def main(argv: list[str] | None = None) -> int:
    """Run the ``rft`` command ``argv`` (default: ``sys.argv[1:]``); returns the exit code (see ``exit_codes``).

    An unexpected exception (a bug, ours or a plugin's) is one line on stderr and exit code 1; with
    ``--debug`` or ``RFT_DEBUG=1``, its traceback.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    with warnings.catch_warnings():  # restores the caller's showwarning afterwards
        warnings.showwarning = _show_warning
        return _main(argv)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one readable line, without Python's internal file path and source line."""
    print(f"warning: {_one_line(message)}", file=file or sys.stderr)


def _main(argv: list[str]) -> int:
    try:
        return _command(argv)
    except KeyboardInterrupt:  # before a command started (loading plugins, reading arguments)
        print("interrupted", file=sys.stderr)
        return exit_codes.INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - never a traceback unless asked for
        if "--debug" in argv or os.environ.get(DEBUG_VARIABLE, "") not in ("", "0"):
            traceback.print_exc()
        else:
            print(f"error: unexpected {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
            print(f"(a bug in rft or a plugin: run again with --debug or {DEBUG_VARIABLE}=1 for the traceback, "
                  "and report it)", file=sys.stderr)
        return exit_codes.FAILED


def _command(argv: list[str]) -> int:
    """Parse ``argv`` and run its command; errors meant for the user become messages and exit codes."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help and --version exit 0, a usage error 2, which is ours for rows
        return exit_codes.FAILED if exc.code else exit_codes.OK
    if not hasattr(args, "handler"):
        parser.print_help()
        return exit_codes.FAILED
    args.argv = argv
    try:
        return args.handler(args)
    except RftError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_codes.FAILED
    except KeyboardInterrupt:
        hint = getattr(args, "on_interrupt", None)
        print("interrupted" + (f": {hint}" if hint else ""), file=sys.stderr)
        return exit_codes.INTERRUPTED
    except BrokenPipeError:  # e.g. `rft score ... | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exit_codes.OK


def _one_line(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rft", description="Open, local graders for reinforcement fine-tuning.", epilog=exit_codes.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--debug", action="store_true", help=f"show the traceback of an unexpected error "
                        f"(also {DEBUG_VARIABLE}=1)")
    commands = parser.add_subparsers(metavar="COMMAND")

    graders = commands.add_parser("graders", help="list the grader types: type, plugin, description")
    graders.set_defaults(handler=_graders)

    plugins = commands.add_parser("plugins", help="print the loaded plugins as JSON")
    plugins.set_defaults(handler=_plugins)

    validate = commands.add_parser("validate", help="check a spec and report every problem")
    validate.add_argument("spec", type=Path, help=_SPEC_HELP)
    validate.add_argument(
        "--openai", action="store_true", help="also check the spec against OpenAI's graders (types, fields, no nested multi)"
    )
    validate.add_argument(
        "--target", choices=["fine-tuning", "evals"], default="fine-tuning",
        help="with --openai: where the spec would run; evals also take a top-level label_model (default fine-tuning)",
    )
    validate.add_argument(
        "--data", type=Path, help="also render every template against the first rows of this data file "
        "(catches a key the data lacks, e.g. {{ item.anwser }})"
    )
    validate.add_argument("--rows", type=_positive_int, default=5, metavar="N",
                          help="with --data: how many rows to render against (default 5)")
    validate.set_defaults(handler=_validate)

    export = commands.add_parser("export-openai", help="write a spec as OpenAI grader JSON (exit 1 if not portable)")
    export.add_argument("spec", type=Path, help=_SPEC_HELP)
    export.add_argument("-o", "--output", type=Path, help="write the JSON here (default: stdout)")
    export.set_defaults(handler=_export_openai)

    new_plugin = commands.add_parser("new-plugin", help="write a complete plugin distribution to start from")
    new_plugin.add_argument("name", help="the plugin's name, e.g. word-count: distribution rft-word-count, "
                            "package rft_word_count, grader type word_count")
    new_plugin.add_argument("--directory", type=Path, help="where to write it (default: ./NAME)")
    new_plugin.set_defaults(handler=_new_plugin)

    schema = commands.add_parser("schema", help="print the JSON Schema of specs (for editors)")
    schema.set_defaults(handler=_schema)

    score = commands.add_parser("score", help="score a JSONL file of model outputs", epilog=exit_codes.EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    score.add_argument("spec", type=Path, help=_SPEC_HELP)
    score.add_argument("data", type=Path, help=_DATA_HELP)
    score.add_argument("-o", "--output", type=Path, help="write output rows here (default: stdout); "
                       "never one of the inputs")
    score.add_argument(
        "--max-error-rate", type=_share, metavar="SHARE", help="exit 2 when more than this share (0 to 1) of a "
        "grader's samples are error, timeout or parse_error (default: when a grader graded none, or a template "
        "names a key the data lacks)"
    )
    score.add_argument("--allow-empty", action="store_true", help="accept an empty data file (default: an error)")
    score.add_argument("--fail-fast", action="store_true", help="stop at the first row that errors")
    score.add_argument(
        "--pass-threshold", type=float, help="reward at or above which a sample passes "
        "(default: the spec's pass_threshold, else 1.0)"
    )
    score.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    score.add_argument(
        "--resume", action="store_true", help="continue an interrupted run: keep the rows already in OUT and "
        "score the rest (needs -o; refused if the spec or data changed)"
    )
    score.add_argument(
        "--workers", type=_positive_int, metavar="N", help="grade in N processes "
        "(CPU-bound graders; async ones such as LLM judges stay in one; default 1); "
        "with --backend ray: N Ray actors (default: one per CPU of the cluster)"
    )
    score.add_argument(
        "--grader-timeout", type=_positive_seconds, metavar="SECONDS", help="seconds one sample's grade may "
        "take before its row gets status timeout and the run goes on (default: the spec's grader_timeout, else 300)"
    )
    score.add_argument(
        "--backend", choices=["local", "ray"], default="local",
        help="local: this machine (default); ray: a Ray cluster, see --ray-address (needs rft-graders[ray])",
    )
    score.add_argument(
        "--ray-address", metavar="ADDRESS", help="with --backend ray: the cluster to join (auto, HOST:PORT or "
        "ray://HOST:PORT; default: start a local Ray instance)"
    )
    score.add_argument(
        "--no-cache", action="store_true", help="ask model graders afresh instead of using their verdict cache "
        "(sets RFT_NO_CACHE=1 for the run)"
    )
    _add_report_options(score)
    score.set_defaults(handler=_score)

    _add_report_command(commands)

    _add_sample_command(commands)

    run_one = commands.add_parser(
        "run", help="grade one sample and print the result as JSON (OpenAI's /graders/run response)"
    )
    run_one.add_argument("spec", type=Path, help=_SPEC_HELP)
    run_one.add_argument("--sample", required=True, help="the model output text")
    run_one.add_argument("--item", default="{}", help="the dataset row as a JSON object")
    run_one.add_argument(
        "--format", choices=["openai", "rft"], default="openai",
        help="openai: OpenAI's /graders/run response (default); rft: the full result with statuses and reasons",
    )
    run_one.set_defaults(handler=_run)

    train = commands.add_parser("train", help="train a model with TRL (GRPO or RLOO, the spec as its reward; or SFT)")
    train.add_argument("spec", type=Path, nargs="?", help=_SPEC_HELP + " (not with --trainer sft)")
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
    _add_audit_command(commands)
    _add_serve_command(commands)
    add_loop_commands(commands)
    for command in commands.choices.values():  # `rft score ... --debug` works as well as `rft --debug score ...`
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


_SPEC_HELP = "the grader spec (YAML or JSON; OpenAI grader JSON works as is)"
_DATA_HELP = ("model outputs to grade (JSON Lines: one object per line, e.g. {\"answer\": ..., \"output_text\": ...}, "
              "or with a completions list; see docs/cli.md)")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rft-graders")
    except PackageNotFoundError:
        return "(not installed)"


def _add_sample_command(commands: Any) -> None:
    sample = commands.add_parser("sample", help="sample k completions per prompt into a file rft score reads")
    sample.add_argument("data", type=Path, help="rows (JSONL) with a prompt (text or chat messages) or messages")
    sample.add_argument("-o", "--output", type=Path, required=True, help="write the rows with their completions here")
    sample.add_argument("--model", required=True, help="the served model's name, or a local model path (transformers)")
    sample.add_argument("-k", type=_positive_int, default=4, help="samples per prompt (default 4)")
    sample.add_argument("--backend", choices=["openai", "transformers"], default="openai",
                        help="openai: an OpenAI-compatible server (default); transformers: a local causal LM")
    sample.add_argument("--base-url", help="the server's base URL (default $OPENAI_BASE_URL, else OpenAI)")
    sample.add_argument("--api-key-env", default="OPENAI_API_KEY", help="variable holding the API key")
    sample.add_argument("--temperature", type=float, default=1.0, help="default 1.0; 0 is greedy")
    sample.add_argument("--top-p", type=float)
    sample.add_argument("--max-tokens", type=_positive_int, help="most tokens per sample")
    sample.add_argument("--seed", type=int, help="sample j of an item gets seed + j")
    sample.add_argument("--concurrency", type=_positive_int, default=16, help="most requests in flight (default 16)")
    sample.add_argument("--requests-per-minute", type=float)
    sample.add_argument("--tokens-per-minute", type=float)
    sample.add_argument("--timeout", type=float, default=120.0, help="seconds per attempt (default 120)")
    sample.add_argument("--max-retries", type=int, default=4, help="retries on 429, 5xx, timeouts (default 4)")
    sample.add_argument("--one-sample-per-request", action="store_true",
                        help="k requests per prompt instead of one with n=k")
    sample.add_argument("--no-cache", action="store_true", help="ask the server afresh instead of reading the cache")
    sample.add_argument("--batch-size", type=_positive_int, default=8, help="prompts per generate call (transformers)")
    sample.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto",
                        help="transformers (default auto)")
    sample.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    sample.add_argument(
        "--max-error-rate", type=_share, metavar="SHARE",
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


def _graders(args: argparse.Namespace) -> int:
    rows = [(name, entry.plugin, entry.cls.summary()) for name, entry in default_registry()]
    widths = [max(len(row[column]) for row in rows + [("type", "plugin", "")]) for column in range(2)]
    print(f"{'type'.ljust(widths[0])}  {'plugin'.ljust(widths[1])}  description")
    for name, plugin, summary in rows:
        print(f"{name.ljust(widths[0])}  {plugin.ljust(widths[1])}  {summary}")
    return 0


def _plugins(args: argparse.Namespace) -> int:
    from ..kernel.plugins import make_plugin_manager, plugin_info

    print(json.dumps(plugin_info(make_plugin_manager()), indent=2))
    return 0


def _new_plugin(args: argparse.Namespace) -> int:
    from .scaffold import write_plugin

    directory = args.directory or Path(args.name)
    check_outputs({}, {"DIRECTORY": directory})
    for path in write_plugin(args.name, directory):
        print(path)
    print(f"next: pip install -e {shlex.quote(str(directory))} && pytest {shlex.quote(str(directory))}", file=sys.stderr)
    return exit_codes.OK


def _validate(args: argparse.Namespace) -> int:
    grader = load_spec(args.spec)
    problems = _environment_problems(grader, "")
    if problems:
        raise RftError(f"{args.spec}: {len(problems)} problem{'s' * (len(problems) > 1)} in this environment\n"
                       + "\n".join(f"  {path}: {problem}" for path, problem in problems))
    children = grader.children()
    detail = f" with {len(children)} sub-graders: {', '.join(children)}" if children else ""
    if args.openai:
        issues = openai_issues(args.spec, target=args.target)
        if issues:
            raise SpecError(issues, not_portable(str(args.spec)))
        detail += "; valid for OpenAI"
    if args.data is not None:
        detail += _check_templates(grader, args)
    print(f"{args.spec}: ok ({grader.type}{detail})")
    return exit_codes.OK


def _environment_problems(grader: Any, path: str) -> list[tuple[str, str]]:
    """``environment_problems`` of every grader in the tree, with its path (``graders.key``)."""
    found = [(path or "(root)", problem) for problem in grader.environment_problems()]
    for key, child in grader.children().items():
        found += _environment_problems(child, f"{path + '.' if path else ''}graders.{key}")
    return found


def _check_templates(grader: Any, args: argparse.Namespace) -> str:
    """Render the spec's templates against the first ``--rows`` rows of ``--data``; raise RftError listing
    every template that cannot render, else say how many rendered."""
    from itertools import takewhile

    from ..run.template_check import template_problems, templates

    check_json_lines(args.data)
    tasks = list(takewhile(lambda task: task.index < args.rows, read_tasks(args.data)))
    problems = template_problems(grader, tasks)
    if problems:
        raise RftError(
            f"{args.spec}: {len(problems)} template problem{'s' if len(problems) != 1 else ''} against the first "
            f"rows of {args.data}:\n" + "\n".join(f"  {problem}" for problem in problems)
        )
    rows = len({task.index for task in tasks})
    return f"; {len(list(templates(grader)))} templates render on the first {rows} rows of {args.data}"


def _export_openai(args: argparse.Namespace) -> int:
    check_outputs({"SPEC": args.spec}, {"-o": args.output})
    text = json.dumps(export_openai(args.spec), indent=2, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        with atomic_text(args.output) as out:
            out.write(text)
    return exit_codes.OK


def _schema(args: argparse.Namespace) -> int:
    from ..kernel.schema import spec_schema

    print(json.dumps(spec_schema(default_registry()), indent=2))
    return 0


def _score(args: argparse.Namespace) -> int:
    if args.ray_address is not None and args.backend != "ray":
        raise RftError("--ray-address is for --backend ray")
    if args.no_cache:
        with _environment(RFT_NO_CACHE="1"):
            return _score_run(args)
    return _score_run(args)


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set environment variables for the duration of a command, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _score_run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    rows_to = {"-o": args.output, "the resume record": resume_record_path(args.output)} if args.output else \
        {"stdout": _STDOUT if _STDOUT.exists() else None}  # `rft score SPEC DATA >> DATA` would read its own rows
    check_outputs({"SPEC": args.spec, "DATA": args.data}, {**rows_to, "--html": args.html})
    grader = load_spec(args.spec)
    if not args.data.is_file():
        raise RftError(f"{args.data}: data file not found")
    check_json_lines(args.data, allow_empty=args.allow_empty, empty_option="--allow-empty")
    threshold = args.pass_threshold
    if threshold is None:
        threshold = getattr(grader.config, "pass_threshold", None)
    if threshold is None:
        threshold = 1.0
    summary = Summary(threshold)
    gold = read_gold(args.data, args.gold) if args.gold else None
    total_rows = _count_rows(args.data)
    tasks = read_tasks(args.data)
    kept = 0
    if args.output:
        output, kept = open_output(args.output, args.spec, args.data, resume=args.resume)
        args.on_interrupt = f"the rows scored so far are in {args.output}; continue with:\n  {_resume_command(args.argv)}"
    elif args.resume:
        raise RftError("--resume needs -o OUT: the output file to continue")
    else:
        output = nullcontext(sys.stdout)
        args.on_interrupt = "the rows went to stdout: write to a file with -o OUT to be able to --resume"
    with output as out, _collector_skipping_startup_objects():
        last_index = -1
        if kept:
            for row in written_rows(args.output, kept, tasks, args.data):
                summary.add(row["index"], result_from_row(row), row.get("id"))
            last_index = row["index"]
        bar = tqdm(
            total=total_rows, initial=last_index + 1, unit="row", disable=args.no_progress or None, file=sys.stderr
        )
        with bar:
            writer = RowWriter(out)  # flushes every second, fsyncs every few
            for scored in run(
                grader, tasks, fail_fast=args.fail_fast, workers=args.workers, backend=args.backend,
                ray_address=args.ray_address, timeout=args.grader_timeout,
            ):
                writer.write(scored.to_row())
                summary.add(scored.task.index, scored.result, scored.task.id)
                if scored.task.index != last_index:
                    bar.update(scored.task.index - last_index)
                    last_index = scored.task.index
            writer.close()
    if args.output:
        finish_output(args.output)
    args.on_interrupt = None
    report = write_report(summary, sys.stderr, gold=gold, html=args.html, title=f"rft score {args.spec} {args.data}")
    problems = exit_codes.ungradable(report["graders"], args.max_error_rate)
    if problems:
        print("error: samples could not be graded (exit code 2; see the reasons above):\n"
              + "\n".join(f"  {problem}" for problem in problems), file=sys.stderr)
        return exit_codes.UNGRADABLE
    return exit_codes.OK


_STDOUT = Path("/dev/stdout")  # where the system names it: the file or pipe the shell connected


def _resume_command(argv: list[str]) -> str:
    """The command line that continues this run: the same arguments, with --resume."""
    return shlex.join(["rft", *argv, *([] if "--resume" in argv else ["--resume"])])


def _add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gold", metavar="COLUMN", help="a column of the data file with gold (human) labels: "
                        "the report adds accuracy and Spearman correlation against it (see docs/report.md)")
    parser.add_argument("--html", type=Path, metavar="OUT.html", help="also write the report as a self-contained HTML page")


def _add_report_command(commands: Any) -> None:
    report = commands.add_parser("report", help="the reward-signal report of an output file of `rft score -o`")
    report.add_argument("scores", type=Path, help="output rows of `rft score -o` (JSONL)")
    report.add_argument("--data", type=Path, help="the data file that was scored (for --gold)")
    report.add_argument("--json", action="store_true", help="print the report as JSON instead of tables")
    report.add_argument("--pass-threshold", type=float, default=1.0,
                        help="reward at or above which a sample passes (default 1.0)")
    _add_report_options(report)
    report.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from ..report.scores import read_scores

    if (args.gold is None) != (args.data is None):
        raise RftError("--gold COLUMN and --data DATA go together: the labels are a column of the scored data file")
    check_outputs({"SCORES": args.scores, "--data": args.data}, {"--html": args.html})
    check_json_lines(args.scores, "scores file", allow_empty=True)  # the output of `rft score --allow-empty`
    summary = read_scores(args.scores, args.pass_threshold)
    gold = read_gold(args.data, args.gold) if args.gold else None
    write_report(summary, sys.stdout, gold=gold, html=args.html, as_json=args.json, title=str(args.scores))
    return exit_codes.OK


@contextmanager
def _collector_skipping_startup_objects() -> Iterator[None]:
    """For a scoring run, exempt what exists now (modules, the grader) from garbage collection
    (``gc.freeze``): the collector's full passes then walk only what the run makes (~8% of the time)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _checked_number(convert: Callable[[str], Any], valid: Callable[[Any], bool], wanted: str) -> Callable[[str], Any]:
    """An argparse type: ``convert(text)`` when ``valid`` accepts it, else an error saying what is wanted."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {wanted}, not {text!r}") from None
        if not valid(value):
            raise argparse.ArgumentTypeError(f"must be {wanted}, not {text!r}")
        return value

    return parse


_share = _checked_number(float, lambda value: 0.0 <= value <= 1.0, "a share from 0 to 1 (0.05 is 5%)")
_positive_seconds = _checked_number(float, lambda value: 0 < value < float("inf"), "a positive number of seconds")
_positive_int = _checked_number(int, lambda value: value >= 1, "a whole number of at least 1")


def _count_rows(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())


def _run(args: argparse.Namespace) -> int:
    try:
        grader = load_spec(args.spec, openai_fidelity=args.format == "openai")
    except SpecError as exc:  # OpenAI answers a formula that does not parse with a flag, not a refusal
        response = formula_error_response(read_spec_file(args.spec)[0], exc) if args.format == "openai" else None
        if response is None:
            raise
        print(json.dumps(response, indent=2, ensure_ascii=False))
        return exit_codes.OK
    try:
        item: Any = json.loads(args.item)
    except json.JSONDecodeError as exc:
        raise RftError(f"--item is not valid JSON: {exc}") from None
    if not isinstance(item, dict):
        raise RftError("--item must be a JSON object, e.g. '{\"answer\": \"paris\"}'")
    started = time.perf_counter()
    result = grader.grade(Sample(args.sample), item)
    seconds = round(time.perf_counter() - started, 6)
    output = result.to_dict() if args.format == "rft" else run_response(grader, result, seconds)
    print(json.dumps(output, indent=2, ensure_ascii=False))
    return 0


def _train(args: argparse.Namespace) -> int:
    from ..integrations.trl import train

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


def _add_audit_command(commands: Any) -> None:
    from ..audit.probes import PROBES

    audit = commands.add_parser(
        "audit", help="probe a spec for reward hacking: adversarial outputs per item (exit 1 if any earns reward)"
    )
    audit.add_argument("spec", type=Path, help=_SPEC_HELP)
    audit.add_argument("data", type=Path, help="rows (JSONL) in any format rft score reads; a row needs no sample")
    audit.add_argument("--threshold", type=float, default=0.5, help="a probe passes an item above this reward (0.5)")
    audit.add_argument(
        "--tolerance", type=float, default=0.05, help="flag a probe passing more than this fraction of items (0.05)"
    )
    audit.add_argument("--max-items", type=_positive_int, default=100, metavar="N", help="items to probe (100)")
    audit.add_argument(
        "--probe", action="append", dest="probes", choices=[probe.name for probe in PROBES], metavar="NAME",
        help="run only this probe (repeat); default: all, see docs/audit.md",
    )
    audit.add_argument("--workers", type=_positive_int, default=1, metavar="N", help="grade in N processes (1)")
    audit.add_argument("--json", action="store_true", help="print the report as JSON")
    audit.set_defaults(handler=_audit)


def _audit(args: argparse.Namespace) -> int:
    from ..audit.auditor import audit

    check_json_lines(args.data, allow_empty=True)  # audit says itself that there are no rows to audit
    report = audit(
        args.spec, args.data, threshold=args.threshold, tolerance=args.tolerance, max_items=args.max_items,
        probes=args.probes, workers=args.workers,
    )
    print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) if args.json else report.render())
    return 0 if report.passed else 1


def _add_serve_command(commands: Any) -> None:
    serve = commands.add_parser(
        "serve", help="serve a spec over HTTP: OpenAI's /graders/run, OpenRLHF's /get_reward, /score (docs/serve.md)"
    )
    serve.add_argument("spec", type=Path, nargs="?", help="the spec that grades requests sending no grader")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    serve.add_argument("--workers", type=_positive_int, default=1, metavar="N", help="server processes (1)")
    serve.add_argument(
        "--token-env", metavar="VAR", help="require 'Authorization: Bearer <token>' with the token in variable VAR"
    )
    serve.add_argument(
        "--max-request-mb", type=_positive_int, default=64, metavar="MB", help="refuse larger request bodies (64)"
    )
    serve.add_argument(
        "--spec-only", action="store_true", help="refuse graders sent in requests: grade only with SPEC"
    )
    serve.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], default="info",
        help="uvicorn's log level; info logs every request (default), warning only problems",
    )
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from ..integrations.serve import serve

    if args.spec_only and args.spec is None:
        raise RftError("--spec-only needs a SPEC to grade with: rft serve SPEC --spec-only")
    serve(
        args.spec, host=args.host, port=args.port, workers=args.workers, token_env=args.token_env,
        max_request_bytes=args.max_request_mb * 1024 * 1024, request_graders=not args.spec_only,
        log_level=args.log_level,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
