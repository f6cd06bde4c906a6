"""Running graders over data: rows in, the runner and its Ray backend, deadlines, rows out."""
