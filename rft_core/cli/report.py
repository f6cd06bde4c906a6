"""The report command, and the report options score shares."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from . import exit_codes
from ..kernel.errors import RftError
from ..report.gold import read_gold
from ..run.rows import check_json_lines
from ..run.output_files import check_outputs
from ..report.summary import write_report


def add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gold", metavar="COLUMN", help="a column of the data file with gold (human) labels: "
                        "the report adds accuracy and Spearman correlation against it (see docs/report.md)")
    parser.add_argument("--html", type=Path, metavar="OUT.html", help="also write the report as a self-contained HTML page")


def add_commands(commands: Any) -> None:
    report = commands.add_parser("report", help="the reward-signal report of an output file of `rft score -o`")
    report.add_argument("scores", type=Path, help="output rows of `rft score -o` (JSONL)")
    report.add_argument("--data", type=Path, help="the data file that was scored (for --gold)")
    report.add_argument("--json", action="store_true", help="print the report as JSON instead of tables")
    report.add_argument("--pass-threshold", type=float, default=1.0,
                        help="reward at or above which a sample passes (default 1.0)")
    add_report_options(report)
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
