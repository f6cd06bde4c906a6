"""``rft sample``: k completions per prompt, written as the rows ``rft score`` reads.

Input rows (JSONL) give a ``prompt`` (a string or a chat message list) or ``messages``
(a chat message list); every other field (answer, id, ...) is kept. Each output row is the
input row plus ``completions``: the k samples, in input order, written as they come. A
sample that could not be had (its request failed after the retries) is ``null`` in
``completions`` and its reason is in ``completion_errors`` at the same place; ``rft score``
turns it into an error row and grades the others.

Backends: ``openai`` (any OpenAI-compatible server, through the LLM judges' client:
concurrency, rate limits, retries, timeouts and the on-disk cache; ``sampling_api``) and
``transformers`` (a local causal LM, batched; ``sampling_local``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..kernel.errors import RftError
from ..run.rows import read_rows
from ..run.output import RowWriter
from ..run.output_files import atomic_text
from ..kernel.runtime import Runtime

__all__ = [
    "ItemSamples",
    "PromptRow",
    "SampleOptions",
    "SampleTotals",
    "output_row",
    "read_prompt_rows",
    "sample_file",
]

_SCORING_KEYS = ("item", "sample")  # a row holding these is read as {item, sample} by rft score


@dataclass(frozen=True, slots=True)
class SampleOptions:
    """How to sample: the model, k, the sampling parameters and how to reach the server."""

    model: str
    k: int = 4
    backend: Literal["openai", "transformers"] = "openai"
    temperature: float = 1.0
    top_p: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 16
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    timeout: float = 120.0
    max_retries: int = 4
    n_per_request: bool = True  # ask for the k samples with n=k in one request (falls back to k requests)
    cache: bool = True
    cache_dir: str | None = None
    batch_size: int = 8  # prompts per generate() call (transformers)
    device: str = "auto"

    def __post_init__(self) -> None:
        checks = [
            (self.k >= 1, f"k must be at least 1, not {self.k}"),
            (self.temperature >= 0, f"temperature must be 0 or more, not {self.temperature:g}"),
            (self.top_p is None or 0 < self.top_p <= 1, f"top_p must be in (0, 1], not {self.top_p}"),
            (self.max_tokens is None or self.max_tokens > 0, f"max_tokens must be at least 1, not {self.max_tokens}"),
            (self.max_retries >= 0, f"max_retries must be 0 or more, not {self.max_retries}"),
            (self.timeout > 0, f"timeout must be more than 0 seconds, not {self.timeout:g}"),
            (self.concurrency >= 1 and self.batch_size >= 1, "concurrency and batch_size must be at least 1"),
        ]
        problems = [message for ok, message in checks if not ok]
        if problems:
            raise RftError("; ".join(problems))


@dataclass(frozen=True, slots=True)
class PromptRow:
    """One input row: its line in the file, the row, and its prompt (text or chat messages)."""

    line: int
    row: dict[str, Any]
    prompt: str | list[dict[str, Any]]


@dataclass(slots=True)
class ItemSamples:
    """One item's k samples (None where one failed, with the reason in ``errors``) and their cost."""

    completions: list[str | None]
    errors: list[str | None]
    usage: dict[str, int] = field(default_factory=dict)
    requests: int = 0  # HTTP requests sent, retries included
    cached: int = 0  # samples read from the cache

    @classmethod
    def empty(cls, k: int) -> ItemSamples:
        return cls([None] * k, [None] * k)

    def fail(self, positions: Iterable[int], reason: str) -> None:
        for position in positions:
            self.completions[position] = None
            self.errors[position] = reason

    def add_usage(self, usage: Mapping[str, int]) -> None:
        _add_counts(self.usage, usage)


@dataclass(slots=True)
class SampleTotals:
    """What a run did, for the summary printed at the end."""

    items: int = 0
    samples: int = 0
    failed: int = 0
    requests: int = 0
    cached: int = 0
    usage: dict[str, int] = field(default_factory=dict)
    first_error: str | None = None

    def add(self, item: ItemSamples) -> None:
        self.items += 1
        self.samples += sum(text is not None for text in item.completions)
        self.failed += sum(text is None for text in item.completions)
        if self.first_error is None:
            self.first_error = next((error for error in item.errors if error is not None), None)
        self.requests += item.requests
        self.cached += item.cached
        _add_counts(self.usage, item.usage)

    def render(self) -> str:
        usage = self.usage
        tokens = (
            f"tokens: {usage.get('prompt_tokens', 0)} prompt + {usage.get('completion_tokens', 0)} completion"
            f" = {usage.get('total_tokens', usage.get('prompt_tokens', 0) + usage.get('completion_tokens', 0))}"
        )
        failed = f", {self.failed} failed (null in completions, reason in completion_errors)" if self.failed else ""
        served = ""
        if self.requests or self.cached:
            served = f"{self.requests} requests, {self.cached} samples from the cache; "
        return f"{self.items} items: {self.samples} samples{failed}; {served}{tokens}"

    def failure(self, max_error_rate: float | None = None) -> str | None:
        """Why the run failed (``rft sample`` exits 2), or None: every sample failed, or with
        ``max_error_rate`` more than that share of them."""
        wanted = self.samples + self.failed
        if not self.failed:
            return None
        share = self.failed / wanted
        if share > max_error_rate if max_error_rate is not None else self.failed == wanted:
            limit = f"more than --max-error-rate {max_error_rate:g}" if max_error_rate is not None else "all"
            return f"{self.failed} of {wanted} samples failed ({limit}); the first: {self.first_error}"
        return None


def _add_counts(into: dict[str, int], counts: Mapping[str, int]) -> None:
    for name, count in counts.items():
        into[name] = into.get(name, 0) + count


def read_prompt_rows(path: str | Path) -> list[PromptRow]:
    """Every row of a JSONL file with its prompt; raises RftError naming the line of a bad row."""
    rows = []
    for line, row in read_rows(path):
        try:
            rows.append(PromptRow(line, row, _prompt(row)))
        except ValueError as exc:
            raise RftError(f"{path}: line {line}: {exc}") from None
    return rows


def _prompt(row: dict[str, Any]) -> str | list[dict[str, Any]]:
    scoring = [key for key in _SCORING_KEYS if key in row]
    if scoring:
        raise ValueError(f"the row has {scoring[0]!r}: give the prompt and the item's fields at the top level")
    if "prompt" in row:
        prompt = row["prompt"]
        if isinstance(prompt, str):
            return prompt
        return _messages(prompt, "prompt")
    if "messages" in row:
        return _messages(row["messages"], "messages")
    raise ValueError("the row has no prompt: give 'prompt' (a string or chat messages) or 'messages'")


def _messages(value: Any, name: str) -> list[dict[str, Any]]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(message, dict) and isinstance(message.get("role"), str) for message in value)
    ):
        kind = "a string or " if name == "prompt" else ""
        raise ValueError(f"'{name}' must be {kind}a non-empty list of {{role, content}} messages")
    return value


def output_row(row: dict[str, Any], samples: ItemSamples) -> dict[str, Any]:
    """The input row with ``completions`` (and ``completion_errors`` when a sample failed)."""
    out = {key: value for key, value in row.items() if key not in ("completions", "completion_errors")}
    out["completions"] = samples.completions
    if any(error is not None for error in samples.errors):
        out["completion_errors"] = samples.errors
    return out


def sample_file(
    data: str | Path, output: str | Path, options: SampleOptions, *, progress: bool = False
) -> SampleTotals:
    """Sample ``options.k`` completions for every row of ``data`` into ``output``; returns the totals.

    ``output`` is replaced only by a complete file: an interrupted or failed run leaves it as it was
    (with the openai backend the samples had so far are in its on-disk cache: a new run asks for the rest).
    Raises RftError for a bad row (naming its line) before any sampling, or when the backend
    cannot start (no API key, a model that does not load).
    """
    prompts = read_prompt_rows(data)
    runtime = Runtime.from_environment()  # the API backend's cache, event loop and what servers support
    sampler = _sampler(options, runtime)
    totals = SampleTotals()
    from tqdm import tqdm

    # a temporary file that replaces ``output`` once complete: an interrupted run leaves the old file as it was
    with runtime, atomic_text(Path(output)) as out, tqdm(
        total=len(prompts), unit="item", disable=not progress or None, file=sys.stderr
    ) as bar:
        writer = RowWriter(out)  # flushes every second, fsyncs every few
        for prompt, samples in zip(prompts, sampler.samples(prompts)):
            writer.write(output_row(prompt.row, samples))
            totals.add(samples)
            bar.update(1)
        writer.close()
    return totals


def _sampler(options: SampleOptions, runtime: Runtime) -> Any:
    """The backend: an object whose ``samples(prompts)`` yields one ItemSamples per prompt, in order."""
    if options.backend == "transformers":
        from .sampling_local import LocalSampler

        return LocalSampler(options)
    from .sampling_api import ApiSampler

    return ApiSampler(options, runtime)

