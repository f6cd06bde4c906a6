"""Composition: ``multi`` (a formula over child graders) and ``fallback`` (stages tried in order)."""
