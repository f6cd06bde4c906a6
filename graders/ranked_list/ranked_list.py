"""``ranked_list``: reward a ranked answer list by where the correct answer(s) appear in it."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Literal

import regex
from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema, field_validator, model_validator

from rft_core import (
    GradeError,
    Grader,
    GraderConfig,
    Item,
    RegexField,
    Result,
    Sample,
    Status,
    TemplateField,
    compile_pattern,
    finditer_with_timeout,
    hookimpl,
)

from ._ranking import RANKINGS, gain, items_from_value
from ._aliases import AliasFile, Normaliser, check_alias_mapping, load_alias_file

__all__ = ["RankedList"]

AliasFileField = Annotated[
    AliasFile,
    BeforeValidator(load_alias_file),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "description": "Path to a .csv, .tsv or .json alias table."}),
]

_REJECTED = "\x00lookalike"  # the key of an item rejected for lookalike letters: it matches nothing


class RankedList(Grader):
    """Ranked answers (e.g. candidate genes): reward by the rank of the correct one, top@k in the summary.

    The list is read from the output (JSON array, numbered or bulleted lines, comma
    separated, prose around it skipped), items are normalised (NFKC, case, punctuation,
    lookalike letters, aliases) and deduplicated at their first position. With
    ``match: any`` the best-ranked reference gives the reward through the ``schedule``
    (default exponential, decay 0.7: rank 1 -> 1.0, rank 2 -> 0.7, absent -> 0); with
    ``match: all`` it is the NDCG of every reference. Lists longer than ``max_items``
    and duplicates are penalised. The rank goes into ``metadata["rank"]``.

    >>> RankedList(reference="{{ item.gene }}").grade("1. BRCA2\\n2. TP53 (p53)", {"gene": "TP53"}).reward
    0.7
    """

    type = "ranked_list"
    openai_hint = "OpenAI has no ranked-list grader: run it here, or compute the rank's reward in a python grader"
    report_metrics = (RANKINGS,)

    class Config(GraderConfig):
        input: TemplateField | None = Field(
            default=None,
            description="Template for the list: text to read a list from, or a JSON list itself "
            "(e.g. {{ sample.output_json.genes }}). Default: the sample's output_text, or its output_json "
            "when output_text is empty.",
        )
        reference: TemplateField = Field(
            description="Template for the correct answer(s): a string, or a list of strings "
            "(e.g. {{ item.genes }}); an empty one gives status not_applicable."
        )
        match: Literal["any", "all"] = Field(
            default="any",
            description="any: reward from the best rank of any reference; all: NDCG over every reference.",
        )
        schedule: Literal["exponential", "linear", "reciprocal", "log", "table"] = Field(
            default="exponential",
            description="From rank to reward: exponential (decay^(rank-1)), linear ((k-rank+1)/k), reciprocal "
            "(1/rank, MRR), log (1/log2(rank+1), NDCG's discount), table (the `table` list).",
        )
        decay: float = Field(
            default=0.7, gt=0, lt=1, description="The exponential schedule's factor per rank: 0.7 gives 1, 0.7, 0.49."
        )
        table: list[float] | None = Field(
            default=None,
            description="Rewards for ranks 1, 2, ... with schedule table, each in [0, 1]; later ranks get 0.",
        )
        k: int | None = Field(
            default=None, gt=0, description="Cut-off: an answer ranked below k earns 0. Required by linear."
        )
        max_items: int | None = Field(
            default=20,
            gt=0,
            description="A list with more distinct items than this loses too_long_penalty of its reward "
            "(a guard against stuffing the list); null for no limit.",
        )
        too_long_penalty: float = Field(
            default=1.0,
            ge=0,
            le=1,
            description="Fraction of the reward a list over max_items loses: 1.0 scores it 0, 0.5 halves it.",
        )
        duplicate_penalty: float = Field(
            default=0.1,
            ge=0,
            le=1,
            description="Subtracted from the reward for each repeated item (after normalisation and aliases); "
            "a duplicate only ever counts at its first position.",
        )
        casefold: bool = Field(default=True, description="Compare case-insensitively.")
        ignore_punctuation: bool = Field(
            default=True,
            description="Compare letters and digits only: punctuation and spaces inside an item are ignored "
            "(HLA-B equals HLAB).",
        )
        lookalikes: Literal["fold", "reject", "keep"] = Field(
            default="fold",
            description="Cyrillic/Greek letters that mimic Latin ones (Cyrillic ТР53): fold them to Latin, reject "
            "the item (it matches nothing), or keep them as they are.",
        )
        ignore_words: list[str] = Field(
            default_factory=list,
            description="Words dropped from items and references before comparing, e.g. [the, gene]: "
            "'the CFTR gene' is CFTR.",
        )
        aliases: dict[str, Any] | None = Field(
            default=None,
            description="Inline alias table: {canonical: [aliases or previous names]}, e.g. {TP53: [p53]}.",
        )
        aliases_file: AliasFileField | None = Field(
            default=None,
            description="Alias table file (.csv, .tsv or .json; relative to the spec file's folder): the canonical "
            "name in the first column (or a column headed symbol), aliases in the others (or those headed "
            "alias.../prev...), several per cell separated by | or ;.",
        )
        extract: RegexField | None = Field(
            default=None,
            description="Regex whose matches, in order, are the list's items (group 1 if it has one), "
            "instead of reading the list's layout.",
        )
        item_field: str | None = Field(
            default=None,
            description="For a JSON list of objects, the field holding each item (e.g. symbol).",
        )
        regex_timeout: float = Field(default=1.0, gt=0, description="Seconds `extract` may run before status timeout.")
        max_input_chars: int = Field(
            default=1_000_000, gt=0, description="Longer inputs get status parse_error instead of being read."
        )

        @field_validator("aliases")
        @classmethod
        def _aliases_are_a_table(cls, aliases: dict[str, Any] | None) -> dict[str, Any] | None:
            return None if aliases is None else check_alias_mapping(aliases)

        @field_validator("table")
        @classmethod
        def _table_in_range(cls, table: list[float] | None) -> list[float] | None:
            if table is not None:
                if not table:
                    raise ValueError("table is empty: give the reward for rank 1, 2, ...")
                bad = [value for value in table if not 0 <= value <= 1]
                if bad:
                    raise ValueError(f"table values must be in [0, 1], got {bad[0]}")
            return table

        @model_validator(mode="after")
        def _schedule_has_what_it_needs(self):
            if self.schedule == "table" and self.table is None:
                raise ValueError("schedule table needs `table`: the rewards for rank 1, 2, ... (e.g. [1.0, 0.7])")
            if self.schedule != "table" and self.table is not None:
                raise ValueError(f"`table` is only used with schedule table (schedule is {self.schedule})")
            if self.schedule == "linear" and self.k is None:
                raise ValueError("schedule linear needs `k`: the rank that still earns 1/k")
            return self

    config: Config

    def __init__(self, config: Config | None = None, /, **fields: Any) -> None:
        super().__init__(config, **fields)
        config = self.config
        self.normaliser = Normaliser(config.casefold, config.ignore_punctuation, config.lookalikes, config.ignore_words)
        if config.aliases_file is not None:
            self.normaliser.add_aliases(config.aliases_file.table)
        if config.aliases is not None:
            self.normaliser.add_aliases(config.aliases)
        self.pattern = compile_pattern(config.extract, ValueError) if config.extract is not None else None

    # --- reading -----------------------------------------------------------------------

    def items(self, sample: Sample, item: Item) -> list[str]:
        """The list as the output gives it (items cleaned, not yet normalised)."""
        if self.config.input is not None:
            value = self.config.input.resolve(sample, item)
        elif sample.output_text.strip() or sample.output_json is None:
            value = sample.output_text
        else:
            value = sample.output_json
        if self.pattern is not None:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
            if len(text) > self.config.max_input_chars:
                raise GradeError(
                    f"input has {len(text):,} characters, over max_input_chars={self.config.max_input_chars:,}",
                    status=Status.PARSE_ERROR,
                    code="sample_parse_error",
                )
            matches = finditer_with_timeout(self.pattern, text, self.config.regex_timeout)
            return [self._extracted(match) for match in matches]
        return items_from_value(value, self.config.item_field, self.config.max_input_chars)

    def _extracted(self, match: regex.Match) -> str:
        return (match.group(1) or "") if self.pattern.groups else match.group(0)  # type: ignore[union-attr]

    def references(self, sample: Sample, item: Item) -> list[str]:
        value = self.config.reference.resolve(sample, item)
        if isinstance(value, str) and value.strip().startswith("["):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        if isinstance(value, str):
            value = [value]
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            value = [str(value)]
        if not isinstance(value, (list, tuple)) or not all(isinstance(entry, (str, int, float)) for entry in value):
            raise GradeError(f"reference must be a string or a list of strings, not {_kind(value)}")
        return [str(entry) for entry in value if str(entry).strip()]

    # --- grading -------------------------------------------------------------------------

    def evaluate(self, sample: Sample, item: Item) -> Result:
        references = self.references(sample, item)
        named: dict[str, str] = {}  # canonical key -> the reference as the item wrote it
        for reference in references:
            named.setdefault(self.normaliser.canonical(reference), reference.strip())
        named.pop("", None)
        reference_keys = list(named)
        if not reference_keys:
            raise GradeError("no reference answer for this row", status=Status.NOT_APPLICABLE)
        positions, duplicates, rejected = self.rank_items(self.items(sample, item))
        length = len(positions)
        ranks = [positions.get(key) for key in reference_keys]
        found = [rank for rank in ranks if rank is not None]
        best = min(found) if found else None
        metadata: dict[str, Any] = {"rank": best, "list_length": length, "duplicates": duplicates}
        if self.config.match == "all":
            metadata["ranks"] = ranks
        if rejected:
            metadata["lookalikes_rejected"] = rejected
        if length == 0:
            return Result(0.0, reason="the list is empty", metadata=metadata)
        reward, reason = self.score(ranks, best, list(named.values()), length)
        notes = []
        config = self.config
        if config.max_items is not None and length > config.max_items:
            reward *= 1.0 - config.too_long_penalty
            kept = 1.0 - config.too_long_penalty
            notes.append(f"{length} items, over max_items={config.max_items}: reward x{kept:g}")
            if config.too_long_penalty == 1.0 and best is not None:
                # a rejected list ranks nothing: top@k in the summary must not count stuffed lists as hits
                metadata["rank"] = None
                metadata["rank_before_guard"] = best
        if duplicates and config.duplicate_penalty and reward > 0:
            reward = max(0.0, reward - duplicates * config.duplicate_penalty)
            notes.append(f"{duplicates} duplicate(s): -{duplicates * config.duplicate_penalty:g}")
        if rejected:
            notes.append(f"{rejected} item(s) with lookalike letters rejected")
        if notes:
            reason += "; " + "; ".join(notes)
        return Result(round(reward, 12), reason=reason, metadata=metadata)

    def rank_items(self, items: list[str]) -> tuple[dict[str, int], int, int]:
        """{key: rank} with each key at its first position, the number of duplicates and of rejected items."""
        positions: dict[str, int] = {}
        duplicates = rejected = 0
        normaliser = self.normaliser
        reject = self.config.lookalikes == "reject"
        for text in items:
            if reject and normaliser.has_lookalike(text):
                rejected += 1
                key = f"{_REJECTED}{rejected}"
            else:
                key = normaliser.canonical(text)
                if not key:
                    continue
            if key in positions:
                duplicates += 1
            else:
                positions[key] = len(positions) + 1
        return positions, duplicates, rejected

    def gain(self, rank: int) -> float:
        config = self.config
        return gain(rank, config.schedule, config.decay, config.k, config.table)

    def score(self, ranks: list[int | None], best: int | None, references: list[str], length: int) -> tuple[float, str]:
        if self.config.match == "any":
            if best is None:
                return 0.0, f"no reference in the list ({length} items)"
            reward = self.gain(best)
            return reward, f"{_short(references[ranks.index(best)])} at rank {best} of {length}"
        ideal = sum(self.gain(rank) for rank in range(1, len(ranks) + 1))
        actual = sum(self.gain(rank) for rank in ranks if rank is not None)
        reward = actual / ideal if ideal > 0 else 0.0
        found = sum(rank is not None for rank in ranks)
        shown = ", ".join("-" if rank is None else str(rank) for rank in ranks)
        return reward, f"{found} of {len(ranks)} references in the list (ranks {shown}); NDCG {_fmt(reward)}"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fmt(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def _kind(value: Any) -> str:
    return "null" if value is None else f"a {type(value).__name__}"


@hookimpl
def register_graders(register):
    register(RankedList)
