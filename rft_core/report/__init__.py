"""Reports of a scored run: statistics, readiness, gold agreement, judge bias, text and HTML."""
