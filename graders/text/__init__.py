"""Text graders: ``string_check``, ``fuzzy_match`` and ``text_similarity``, with their normalisation, size caps and metrics."""
