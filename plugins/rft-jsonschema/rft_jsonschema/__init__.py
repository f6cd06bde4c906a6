"""rft-jsonschema: a ``json_schema`` grader for structured outputs, as an rft-graders plugin.

Installed, it registers through the ``rft`` entry point; load it with
``RFT_LOAD_PLUGINS`` unset or naming ``rft-jsonschema``.
"""

from __future__ import annotations

from rft_core import hookimpl

from ._grader import JsonSchemaGrader

__all__ = ["JsonSchemaGrader", "register_graders"]


@hookimpl
def register_graders(register):
    """Register the ``json_schema`` grader type."""
    register(JsonSchemaGrader)
