"""What a grader type declares so the core can ask instead of guessing: how it maps to an OpenAI
grader (``OpenAIMapping``) and the tables it adds to the report (``ReportMetric``).

A grader class sets ``openai = OpenAIMapping(...)`` and ``report_metrics = (ReportMetric(...),)``;
see ``Grader`` for the other declarations (``splits``, ``component_weights``, ``pass_threshold``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["OPENAI_TYPES", "OpenAIMapping", "ReportMetric"]

OPENAI_TYPES = ("string_check", "text_similarity", "score_model", "label_model", "python", "multi")
"""OpenAI's grader types (its API reference): an ``OpenAIMapping.type`` is one of them."""

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class OpenAIMapping:
    """How a grader type's config maps to one of OpenAI's grader types, field by field.

    A spec node ports when every field it sets is one of ``fields`` (with a value OpenAI takes,
    see ``values``), one of ``operational``, or at its default. The export writes ``type`` (OpenAI's
    type name), the ``fields`` the node sets, the ``filled`` ones at our default when the node leaves
    them out, and ``fixed``; sub-grader fields (``SubGraders``) are exported recursively.
    """

    type: str
    """OpenAI's type name, one of ``OPENAI_TYPES`` (usually the grader's own type)."""
    fields: tuple[str, ...]
    """Our config fields that OpenAI's grader has under the same name and meaning (``name`` included;
    ``type`` always maps to ``type`` above)."""
    operational: tuple[str, ...] = ()
    """Ours, OpenAI lacks them, and they change how a grade is fetched, never what it is (retries, caches,
    local limits): dropped on export and no reason the spec is not portable."""
    filled: tuple[str, ...] = ()
    """Fields OpenAI requires that a spec may leave to our defaults: the export writes the default out."""
    fixed: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    """Fields OpenAI's grader needs whose value this grader type implies (e.g. ``operation: eq``)."""
    values: Mapping[str, tuple[Any, ...]] = field(default_factory=lambda: _EMPTY)
    """Fields whose values OpenAI restricts further than we do: field -> the values OpenAI takes."""
    root: bool = True
    """False when OpenAI's fine-tuning takes this grader only inside a multi (label_model); an eval's
    testing criteria take it at the top level either way."""

    def __post_init__(self) -> None:
        if self.type not in OPENAI_TYPES:
            raise ValueError(f"OpenAIMapping type {self.type!r} is not an OpenAI grader type "
                             f"(OpenAI's: {', '.join(OPENAI_TYPES)})")


@dataclass(frozen=True)
class ReportMetric:
    """A table a grader adds to the reward-signal report (``rft score``, ``rft report``, the HTML page).

    Its results put a value in their metadata under ``key``; for every grader path where some result
    does, the report shows ``name``'s table with one row per path: ``samples`` (that path's results,
    ``not_applicable`` ones left out) and the columns ``compute(values, samples)`` returns, where
    ``values`` are the ``key`` values of those results that have one (a result without one counts in
    ``samples`` only). ``compute`` must be a module-level function (reports may be pickled) and
    survive any value: metadata is the grader's output, not checked by the core.
    """

    name: str
    """The report section: its key in the JSON report, e.g. ``rankings``."""
    title: str
    """The table's heading in the text and HTML reports, e.g. ``Rankings``."""
    key: str
    """The metadata key the grader's results carry the value under, e.g. ``rank``."""
    columns: tuple[tuple[str, str], ...]
    """(value name in ``compute``'s answer, column heading), in display order."""
    compute: Callable[[Sequence[Any], int], Mapping[str, float | None]]
    """(values, samples) -> {value name: number or None}."""
