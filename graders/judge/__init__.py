"""LLM judges: ``score_model``/``label_model`` (``llm_judge``), ``rubric_model``, ``pairwise_model`` and ``group_model``."""
