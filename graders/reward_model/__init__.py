"""The ``reward_model`` grader: a local sequence-classification reward model scores the sample."""
