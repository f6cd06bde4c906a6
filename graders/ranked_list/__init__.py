"""The ``ranked_list`` grader: where the reference answers stand in the model's ranked list."""
