"""The worker process: reads JSON requests on stdin, answers one JSON line each on stdout.

Started by ``_pool`` as a fresh interpreter. It parses both answers again with our own
parser (never ``sympify``), builds sympy objects from the trees and compares them.
The parent kills it when a request overruns its deadline.
"""

from __future__ import annotations

import json
import os
import sys
from functools import lru_cache

from rft_core.infra import exit_with_parent

__all__ = ["handle", "main"]


def _limit_memory(megabytes: int) -> None:
    if megabytes <= 0:
        return
    try:
        import resource

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # not on this platform: the deadline still holds
        pass


@lru_cache(maxsize=4096)
def _parsed(text: str, caps_key: tuple, decimal_comma: bool = True):
    from ._parse import Caps, parse

    return parse(text, Caps(*caps_key), decimal_comma)


def handle(request: dict) -> dict:
    """One comparison: ``{"equal": bool}``, or ``{"error": message, "status": ...}``."""
    from ._equiv import Options, compare
    from ._parse import ParseFailure

    caps_key = tuple(request["caps"])
    try:
        answer = _parsed(request["answer"], caps_key)
        references = [_parsed(reference, caps_key, False) for reference in request["references"]]
    except ParseFailure as exc:
        return {"error": str(exc), "status": "parse_error"}
    options = Options(*request["options"])
    for reference in references:
        if compare(answer, reference, options, quick=False):
            return {"equal": True}
    return {"equal": False}


_WARM_UP = [  # sympy initialises much lazily: pay for it before the first deadline starts
    ("(y+2)^2", "y^2+4y+4"), ("\\sin^2 y+\\cos^2 y", "1"), ("\\sqrt{18}", "3\\sqrt{2}"), ("2^{1/3}", "\\sqrt[3]{2}"),
    ("\\frac{1}{y+1}", "(y+1)^{-1}"), ("\\log_2 8", "3"), ("e^{y}", "y"), ("\\pi/6", "0.5236"), ("2y+2=4", "y+1=2"),
    ("\\lim_{y \\to 0} \\frac{\\sin y}{y}", "1"), ("\\sin(\\frac{\\pi}{2} - y)", "\\cos y"),
]


def _warm_up() -> None:
    from ._parse import Caps

    caps = list(Caps().key())
    for answer, reference in _WARM_UP:
        handle({"answer": answer, "references": [reference], "caps": caps, "options": [1e-6, 1e-9, True, True, 6]})
    _parsed.cache_clear()


def main() -> None:
    """Serve requests until stdin closes."""
    exit_with_parent("rft-math-parent-watch")
    _limit_memory(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # stray prints from libraries must not corrupt the protocol
    sys.stdout = sys.stderr
    _warm_up()
    out.write(b'{"ready": true}\n')
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
        except ValueError:
            break
        try:
            response = handle(request)
        except MemoryError:
            response = {"error": "the comparison ran out of memory", "status": "error"}
        except RecursionError:
            response = {"error": "the comparison recursed too deep", "status": "error"}
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which makes it a status
            response = {"error": f"{type(exc).__name__}: {exc}", "status": "error"}
        response["id"] = request.get("id")
        out.write(json.dumps(response).encode() + b"\n")


if __name__ == "__main__":
    main()
