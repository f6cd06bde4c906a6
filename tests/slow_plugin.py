"""A grader slow enough (1 ms a sample) to interrupt `rft score` in the middle, for the resume tests,
and one that never finishes some samples, for the deadline tests.

Run the CLI with it: ``python -c "import slow_plugin; slow_plugin.main()" score SPEC DATA ...``
(with this directory on PYTHONPATH).
"""

from __future__ import annotations

import re
import sys
import time

from rft_core import Grader, Result, hookimpl


class Slow(Grader):
    """1.0 when the output text equals item.answer; sleeps 1 ms first."""

    type = "slow"

    def evaluate(self, sample, item):
        time.sleep(0.001)
        return Result(float(sample.output_text == item["answer"]), metadata={"length": len(sample.output_text)})


class Stuck(Grader):
    """1.0, except on outputs that never finish: "sleep" sleeps, "spin" loops in Python, "gil" backtracks
    in ``re`` (C code holding the GIL) for hours."""

    type = "stuck"

    def evaluate(self, sample, item):
        text = sample.output_text
        if text == "sleep":
            time.sleep(3600)
        elif text == "spin":
            while True:
                pass
        elif text == "gil":
            re.match(r"(a+)+$", "a" * 60 + "!")
        return Result(1.0)


@hookimpl
def register_graders(register):
    register(Slow)
    register(Stuck)


def main() -> None:
    """`rft` with this module among the default plugins."""
    from rft_core.kernel import plugins
    from rft_core.cli import main as rft

    plugins.DEFAULT_PLUGINS = (*plugins.DEFAULT_PLUGINS, __name__)
    sys.exit(rft(sys.argv[1:]))
