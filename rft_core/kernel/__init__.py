"""The kernel: data model, errors, the Grader contract, templates, formulas, hooks, registry, spec, schema.

Imports nothing else of the project (checked by import-linter). Plugins import its names from ``rft_core``.
"""
