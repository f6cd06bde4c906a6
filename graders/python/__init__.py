"""Graders that run Python in the OS sandbox: ``python`` (the spec's grading code) and ``code`` (the model's program)."""
