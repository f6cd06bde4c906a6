"""Grading commands: score (a data file, with resume, workers and Ray) and run (one sample)."""

from __future__ import annotations

import argparse
import gc
import json
import shlex
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from . import exit_codes
from ..run.data import read_tasks
from ..kernel.errors import RftError, SpecError
from ..report.gold import read_gold
from ..run.rows import check_json_lines, count_rows
from ..integrations.openai_compat import (
    formula_error_response,
    run_response,
)
from ..run.output import RowWriter, finish_output, open_output, result_from_row, resume_record_path, written_rows
from ..run.output_files import check_outputs
from ..report.summary import Summary, write_report
from ..run.runner import RunAborted, Scored, run
from ..kernel.runtime import Runtime
from ..kernel.spec import load_spec, read_spec_file
from ..kernel.types import Sample
from .options import DATA_HELP, SPEC_HELP, positive_int, positive_seconds, share
from .report import add_report_options


def add_commands(commands: Any) -> None:
    """Add score and run."""
    score = commands.add_parser("score", help="score a JSONL file of model outputs", epilog=exit_codes.EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    score.add_argument("spec", type=Path, help=SPEC_HELP)
    score.add_argument("data", type=Path, help=DATA_HELP)
    score.add_argument("-o", "--output", type=Path, help="write output rows here (default: stdout); "
                       "never one of the inputs")
    score.add_argument(
        "--max-error-rate", type=share, metavar="SHARE", help="exit 2 when more than this share (0 to 1) of a "
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
        "--workers", type=positive_int, metavar="N", help="grade in N processes "
        "(CPU-bound graders; async ones such as LLM judges stay in one; default 1); "
        "with --backend ray: N Ray actors (default: one per CPU of the cluster)"
    )
    score.add_argument(
        "--grader-timeout", type=positive_seconds, metavar="SECONDS", help="seconds one sample's grade may "
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
        "(as RFT_NO_CACHE=1 does)"
    )
    add_report_options(score)
    score.set_defaults(handler=_score)

    run_one = commands.add_parser(
        "run", help="grade one sample and print the result as JSON (OpenAI's /graders/run response)"
    )
    run_one.add_argument("spec", type=Path, help=SPEC_HELP)
    run_one.add_argument("--sample", required=True, help="the model output text")
    run_one.add_argument("--item", default="{}", help="the dataset row as a JSON object")
    run_one.add_argument(
        "--format", choices=["openai", "rft"], default="openai",
        help="openai: OpenAI's /graders/run response (default); rft: the full result with statuses and reasons",
    )
    run_one.set_defaults(handler=_run)


def _score(args: argparse.Namespace) -> int:
    if args.ray_address is not None and args.backend != "ray":
        raise RftError("--ray-address is for --backend ray")
    settings = {"no_cache": True} if args.no_cache else {}
    with Runtime.from_environment(base_folder=args.spec.parent, **settings) as runtime:
        return _score_run(args, runtime)


def _score_run(args: argparse.Namespace, runtime: Runtime) -> int:
    from tqdm import tqdm

    rows_to = {"-o": args.output, "the resume record": resume_record_path(args.output)} if args.output else \
        {"stdout": _STDOUT if _STDOUT.exists() else None}  # `rft score SPEC DATA >> DATA` would read its own rows
    check_outputs({"SPEC": args.spec, "DATA": args.data}, {**rows_to, "--html": args.html})
    grader = load_spec(args.spec, runtime=runtime)
    if not args.data.is_file():
        raise RftError(f"{args.data}: data file not found")
    check_json_lines(args.data, allow_empty=args.allow_empty, empty_option="--allow-empty")
    threshold = args.pass_threshold if args.pass_threshold is not None else grader.pass_threshold()
    summary = Summary(1.0 if threshold is None else threshold)
    gold = read_gold(args.data, args.gold) if args.gold else None
    total_rows = count_rows(args.data)
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
            for scored in _naming_the_data_file(args.data, run(
                grader, tasks, fail_fast=args.fail_fast, workers=args.workers, backend=args.backend,
                ray_address=args.ray_address, timeout=args.grader_timeout,
            )):
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


@contextmanager
def _collector_skipping_startup_objects() -> Iterator[None]:
    """For a scoring run, exempt what exists now (modules, the grader) from garbage collection
    (``gc.freeze``): the collector's full passes then walk only what the run makes, not every object of the program."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _naming_the_data_file(data: Path, scored: Iterator[Scored]) -> Iterator[Scored]:
    """The run's scored samples; a ``--fail-fast`` stop says which file its row or line is in."""
    try:
        yield from scored
    except RunAborted as exc:
        raise RunAborted(f"{data}: {exc}") from None


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
