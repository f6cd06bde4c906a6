"""Machinery that knows no grader: OpenAI-compatible client, on-disk cache, torch/transformers
helpers, worker processes, the sandbox, import scanning, per-batch memo."""
