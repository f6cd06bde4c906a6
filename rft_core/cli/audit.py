"""The audit command: reward-hacking probes against a spec."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..run.rows import check_json_lines
from .options import SPEC_HELP, positive_int


def add_commands(commands: Any) -> None:
    from ..audit.probes import PROBES

    audit = commands.add_parser(
        "audit", help="probe a spec for reward hacking: adversarial outputs per item (exit 1 if any earns reward)"
    )
    audit.add_argument("spec", type=Path, help=SPEC_HELP)
    audit.add_argument("data", type=Path, help="rows (JSONL) in any format rft score reads; a row needs no sample")
    audit.add_argument("--threshold", type=float, default=0.5, help="a probe passes an item above this reward (0.5)")
    audit.add_argument(
        "--tolerance", type=float, default=0.05, help="flag a probe passing more than this fraction of items (0.05)"
    )
    audit.add_argument("--max-items", type=positive_int, default=100, metavar="N", help="items to probe (100)")
    audit.add_argument(
        "--probe", action="append", dest="probes", choices=[probe.name for probe in PROBES], metavar="NAME",
        help="run only this probe (repeat); default: all, see docs/audit.md",
    )
    audit.add_argument("--workers", type=positive_int, default=1, metavar="N", help="grade in N processes (1)")
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
