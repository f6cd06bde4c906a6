"""The ``rft`` command line: one module per command group; commands only translate arguments into calls."""

from .app import main

__all__ = ["main"]
