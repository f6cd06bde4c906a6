"""The ``tool_call`` grader: the sample's tool calls against the expected ones."""
