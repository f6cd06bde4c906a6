"""Shaping graders that judge a text's form: ``format``, ``length`` and ``repetition``."""
