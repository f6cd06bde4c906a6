"""Commands about specs and plugins: graders, plugins, validate, export-openai, new-plugin, schema."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from . import exit_codes
from ..run.data import read_tasks
from ..kernel.errors import RftError, SpecError
from ..run.rows import check_json_lines
from ..integrations.openai_compat import (
    export_openai,
    not_portable,
    openai_issues,
)
from ..run.output_files import atomic_text, check_outputs
from ..kernel.registry import default_registry
from ..kernel.spec import load_spec
from .options import SPEC_HELP, positive_int


def add_commands(commands: Any) -> None:
    """Add graders, plugins, validate, export-openai, new-plugin and schema."""
    graders = commands.add_parser("graders", help="list the grader types: type, plugin, description")
    graders.set_defaults(handler=_graders)

    plugins = commands.add_parser("plugins", help="print the loaded plugins as JSON")
    plugins.set_defaults(handler=_plugins)

    validate = commands.add_parser("validate", help="check a spec and report every problem")
    validate.add_argument("spec", type=Path, help=SPEC_HELP)
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
    validate.add_argument("--rows", type=positive_int, default=5, metavar="N",
                          help="with --data: how many rows to render against (default 5)")
    validate.set_defaults(handler=_validate)

    export = commands.add_parser("export-openai", help="write a spec as OpenAI grader JSON (exit 1 if not portable)")
    export.add_argument("spec", type=Path, help=SPEC_HELP)
    export.add_argument("-o", "--output", type=Path, help="write the JSON here (default: stdout)")
    export.add_argument(
        "--target", choices=["fine-tuning", "evals"], default="fine-tuning",
        help="where the JSON will run; evals also take a top-level label_model (default fine-tuning)",
    )
    export.set_defaults(handler=_export_openai)

    new_plugin = commands.add_parser("new-plugin", help="write a complete plugin distribution to start from")
    new_plugin.add_argument("name", help="the plugin's name, e.g. word-count: distribution rft-word-count, "
                            "package rft_word_count, grader type word_count")
    new_plugin.add_argument("--directory", type=Path, help="where to write it (default: ./NAME)")
    new_plugin.set_defaults(handler=_new_plugin)

    schema = commands.add_parser("schema", help="print the JSON Schema of specs (for editors)")
    schema.set_defaults(handler=_schema)


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
    text = json.dumps(export_openai(args.spec, target=args.target), indent=2, ensure_ascii=False) + "\n"
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
