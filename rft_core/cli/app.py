"""The ``rft`` command line: translates arguments into library calls and errors into messages.

Each command group is a module of this package with its ``add_commands``; this one parses and runs."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings

from . import exit_codes
from .loop import add_loop_commands
from ..kernel.errors import RftError
from . import audit, report, score, serve, specs, train


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

    specs.add_commands(commands)
    score.add_commands(commands)
    report.add_commands(commands)
    train.add_commands(commands)
    audit.add_commands(commands)
    serve.add_commands(commands)
    add_loop_commands(commands)
    for command in commands.choices.values():  # `rft score ... --debug` works as well as `rft --debug score ...`
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rft-graders")
    except PackageNotFoundError:
        return "(not installed)"


if __name__ == "__main__":
    sys.exit(main())
