"""LLM judges: score_model and label_model (``llm_judge``), rubric_model, pairwise_model, group_model."""
