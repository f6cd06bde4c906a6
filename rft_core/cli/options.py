"""Argument types and help texts the command groups share."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any



SPEC_HELP = "the grader spec (YAML or JSON; OpenAI grader JSON works as is)"


DATA_HELP = ("model outputs to grade (JSON Lines: one object per line, e.g. {\"answer\": ..., \"output_text\": ...}, "
              "or with a completions list; see docs/cli.md)")


def checked_number(convert: Callable[[str], Any], valid: Callable[[Any], bool], wanted: str) -> Callable[[str], Any]:
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


share = checked_number(float, lambda value: 0.0 <= value <= 1.0, "a share from 0 to 1 (0.05 is 5%)")


positive_seconds = checked_number(float, lambda value: 0 < value < float("inf"), "a positive number of seconds")


positive_int = checked_number(int, lambda value: value >= 1, "a whole number of at least 1")
