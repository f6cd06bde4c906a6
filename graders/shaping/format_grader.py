"""``format``: strict structure checks of an output: required tags, a JSON object, or a whole-text regex."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Literal

import orjson
import regex
from pydantic import AfterValidator, Field, model_validator

from rft_core import Item, RegexField, Result, Sample, SharedComposite, compile_pattern, hookimpl, search_with_timeout

from ._shaping import FAILED, PASSED, ShapingConfig, ShapingGrader

CHECKS = {
    "tags": ("once", "order", "nesting", "outside", "answer_nonempty", "single_answer"),
    "json": ("json_object", "keys"),
    "regex": ("regex",),
}
"""The checks of each mode, in the order they are reported."""

CANDIDATE_PATTERNS = (r"(?i)\bor\b", r"(?s)\\boxed.*?\\boxed")
"""An answer matching one of these is a list of candidates: 'A or B or C', '3, 4 or 5', two boxed answers."""

MEMO_SIZE = 4096  # distinct outcomes (checks passed and failure details) whose Result is kept and shared
TAG_NAME = re.compile(r"[A-Za-z][\w.-]*")

Outcome = dict[str, str | None]  # check -> None when it passed, else why it failed


def _tag_name(name: str) -> str:
    if not TAG_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a tag name: use letters, digits, '_', '-', '.', starting with a letter")
    return name


class Format(ShapingGrader):
    """Strict structure: required tags exactly once, in order, nothing outside; or a JSON object; or a regex.

    Each check is a sub-reward (1.0 passed, 0.0 failed). ``scoring: all`` (the default) pays 1.0
    only when every check passes; ``weighted`` pays the weighted share of checks passed, for use
    as a shaping component. The answer tag must hold one non-empty answer, not a candidate list.

    >>> Format().grade("<think>2+2 is 4</think>\\n<answer>4</answer>").reward
    1.0
    >>> Format().grade("<think>...</think><answer>3 or 4</answer>").sub_rewards["single_answer"].reward
    0.0
    """

    type = "format"
    openai_hint = "OpenAI has no structure grader: run it here, or write the check as a python grader"

    class Config(ShapingConfig):
        mode: Literal["tags", "json", "regex"] = Field(
            default="tags", description="tags: required tags; json: a JSON object and nothing else; regex: fullmatch."
        )
        tags: list[Annotated[str, AfterValidator(_tag_name)]] = Field(
            default=["think", "answer"],
            min_length=1,
            description="Tags that must each appear exactly once, in this order, neither nested nor mismatched.",
        )
        answer_tag: str | None = Field(
            default="answer",
            description="The tag holding the answer: it must not be empty nor a candidate list; null skips those checks.",
        )
        outside: Literal["whitespace", "any"] = Field(
            default="whitespace", description="What may stand outside the tags: only whitespace, or anything."
        )
        candidate_patterns: list[RegexField] = Field(
            default=list(CANDIDATE_PATTERNS),
            description="Regexes that mark an answer as a list of candidates (searched in the answer tag's text).",
        )
        required_keys: list[str] = Field(default=[], description="json mode: keys the object must have.")
        pattern: RegexField | None = Field(default=None, description="regex mode: the pattern the whole text must match.")
        regex_timeout: float = Field(default=1.0, gt=0, description="Seconds a regex may run before the grade times out.")
        scoring: Literal["all", "weighted"] = Field(
            default="all", description="all: 1.0 only when every check passes; weighted: the weighted share passed."
        )
        weights: dict[str, float] | None = Field(
            default=None,
            description="Weight of each check (default 1 each); a weight of 0 turns the check off.",
        )

        @model_validator(mode="after")
        def _consistent(self):
            lowered = [tag.lower() for tag in self.tags]
            if len(set(lowered)) != len(lowered):
                raise ValueError(f"tags {self.tags} name a tag twice (tags are matched ignoring case)")
            if self.answer_tag is not None and self.answer_tag.lower() not in lowered:
                raise ValueError(f"answer_tag {self.answer_tag!r} is not one of tags {self.tags}")
            if self.mode == "regex" and self.pattern is None:
                raise ValueError("mode regex needs a pattern, e.g. pattern: '\\d+'")
            known = CHECKS[self.mode]
            unknown = sorted(set(self.weights or {}) - set(known))
            if unknown:
                raise ValueError(f"weights name unknown checks {unknown} (mode {self.mode} has: {', '.join(known)})")
            if self.weights is not None and any(weight < 0 for weight in self.weights.values()):
                raise ValueError("weights must not be negative")
            return self

    config: Config

    def __init__(self, config: Config | None = None, /, **fields: object) -> None:
        super().__init__(config, **fields)
        config = self.config
        weights = config.weights or {}
        self.weights = {check: weights.get(check, 1.0) for check in self.active_checks()}
        if not self.weights:
            raise ValueError(f"every check of mode {config.mode} is turned off: give one a weight above 0")
        self.total_weight = sum(self.weights.values())
        names = "|".join(re.escape(tag) for tag in config.tags)
        # our own linear patterns run with the standard library's re (no timeout needed, and faster)
        self.tag_pattern = re.compile(rf"<\s*(/?)\s*({names})\b[^<>]*>", re.IGNORECASE)
        self.canonical = _canonical(config, names)
        self.names = {tag.lower(): tag for tag in config.tags}
        self.candidates = [_candidate_pattern(pattern) for pattern in config.candidate_patterns]
        self.whole = compile_pattern(config.pattern, ValueError) if config.pattern is not None else None
        self.memo: dict[tuple, Result] = {}
        self.passed = self.result(dict.fromkeys(self.weights))
        self.grade_text: Callable[[str], Result] = getattr(self, f"_{config.mode}")

    def active_checks(self) -> list[str]:
        """The checks this config runs: its mode's, less those turned off or with nothing to check."""
        config = self.config
        skipped = set()
        if config.outside == "any":
            skipped.add("outside")
        if config.answer_tag is None:
            skipped |= {"answer_nonempty", "single_answer"}
        if not config.required_keys:
            skipped.add("keys")
        weights = config.weights or {}
        return [c for c in CHECKS[config.mode] if c not in skipped and weights.get(c, 1.0) > 0]

    def evaluate(self, sample: Sample, item: Item) -> Result:
        return self.grade_text(self.text(sample, item))

    def evaluate_batch(self, samples: list[Sample], items: list[Item]) -> list[Result]:
        return list(map(self.grade_text, self.texts(samples, items)))

    def result(self, outcome: Outcome) -> Result:
        """The Result of one outcome; equal outcomes share one read-only Result."""
        key = tuple(outcome.values())
        cached = self.memo.get(key)
        if cached is not None:
            return cached
        failed = [check for check, why in outcome.items() if why is not None]
        if self.config.scoring == "all":
            reward = 0.0 if failed else 1.0
        else:
            reward = sum(self.weights[check] for check in outcome if outcome[check] is None) / self.total_weight
        reason = "; ".join(f"{check}: {outcome[check]}" for check in failed) or None
        sub_rewards = {check: FAILED if why is not None else PASSED for check, why in outcome.items()}
        result = SharedComposite(reward, reason, sub_rewards)
        if len(self.memo) < MEMO_SIZE:
            self.memo[key] = result
        return result

    # --- the modes: text -> outcome of each active check ------------------------------------

    def _tags(self, text: str) -> Result:
        """The well-formed case in one C-level fullmatch; anything else is scanned tag by tag."""
        match = self.canonical.fullmatch(text)
        if match is not None:
            if self.config.answer_tag is None:
                return self.passed
            answer = match.group(1).strip()
            if answer and self._single(answer) is None:
                return self.passed
        return self.result(self.scan(text))

    def scan(self, text: str) -> Outcome:
        """The outcome of every active check of tags mode, from one pass over the tags in the text."""
        names = self.names
        wanted = (self.config.answer_tag or "").lower()
        opens, closes = dict.fromkeys(names, 0), dict.fromkeys(names, 0)
        opened: list[str] = []  # first opening of each tag, in order
        nesting = outside = None
        current = None  # the tag open now, while the nesting holds
        depth = position = 0
        answer_start = answer_stop = None
        for match in self.tag_pattern.finditer(text):
            close, name, spelled = match[1] == "/", match[2].lower(), match[0]
            start, end = match.span()
            if depth == 0 and outside is None and text[position:start].strip():
                outside = f"text outside the tags: {_clip(text[position:start])}"
            tag = names[name]
            if nesting is None:
                if spelled != (f"</{tag}>" if close else f"<{tag}>"):
                    nesting = f"malformed tag {spelled!r}"
                elif not close and current is not None:
                    nesting = f"<{tag}> opens inside <{names[current]}>"
                elif close and current != name:
                    nesting = f"</{tag}> closes " + (f"<{names[current]}>" if current else "nothing")
                current = None if close else name
            if close:
                closes[name] += 1
                depth = max(depth - 1, 0)
                if name == wanted and answer_start is not None and answer_stop is None:
                    answer_stop = start
            else:
                opens[name] += 1
                depth += 1
                if opens[name] == 1:
                    opened.append(name)
                if name == wanted and answer_start is None:
                    answer_start = end
            position = end
        if depth == 0 and outside is None and text[position:].strip():
            outside = f"text outside the tags: {_clip(text[position:])}"
        if nesting is None and current is not None:
            nesting = f"<{names[current]}> is never closed"
        wrong_counts = [
            f"<{tag}> opens {opens[name]} and closes {closes[name]} times"
            for name, tag in names.items()
            if (opens[name], closes[name]) != (1, 1)
        ]
        found = {
            "once": ", ".join(wrong_counts) or None,
            "order": None if opened == list(names) else
            f"tags open in the order {_tag_list(map(names.get, opened))}, not {_tag_list(self.config.tags)}",
            "nesting": nesting,
            "outside": outside,
        }
        if wanted:
            answer = text[answer_start:answer_stop].strip() if answer_stop is not None else ""
            found["answer_nonempty"] = None if answer else "the answer tag is missing or empty"
            found["single_answer"] = self._single(answer) if answer else "no answer to check"
        return {check: found[check] for check in self.weights}

    def _single(self, answer: str) -> str | None:
        timeout = self.config.regex_timeout
        for pattern in self.candidates:
            if pattern.search(answer) if isinstance(pattern, re.Pattern) else search_with_timeout(pattern, answer, timeout):
                return f"the answer {_clip(answer)} is a list of candidates (matches {pattern.pattern!r})"
        return None

    def _json(self, text: str) -> Result:
        try:
            value = orjson.loads(text.strip())
        except orjson.JSONDecodeError as exc:
            value, problem = None, f"not JSON ({exc})"
        else:
            problem = None if isinstance(value, dict) else f"a JSON {type(value).__name__}, not an object"
        found = {"json_object": problem}
        if "keys" in self.weights:
            missing = [key for key in self.config.required_keys if not isinstance(value, dict) or key not in value]
            found["keys"] = f"missing keys {missing}" if missing else None
        return self.result({check: found[check] for check in self.weights})

    def _regex(self, text: str) -> Result:
        assert self.whole is not None
        matched = search_with_timeout(self.whole, text, self.config.regex_timeout, full=True)
        return self.result({"regex": None if matched else f"the text does not fullmatch {self.whole.pattern!r}"})


def _canonical(config: Format.Config, names: str) -> re.Pattern:
    """The well-formed output as one linear pattern: each tag once, in order, its content free of
    the tags (in any spelling), whitespace (or with ``outside: any``, tag-free text) between them.
    The answer tag's content is group 1. A fullmatch implies every structural check passes."""
    content = rf"[^<]*(?:<(?!\s*/?\s*(?i:{names})\b)[^<]*)*"
    gap = r"\s*" if config.outside == "whitespace" else f"(?:{content})"
    answer = (config.answer_tag or "").lower()
    parts = [gap]
    for tag in config.tags:
        inside = f"({content})" if tag.lower() == answer else f"(?:{content})"
        parts += [f"<{re.escape(tag)}>", inside, f"</{re.escape(tag)}>", gap]
    return re.compile("".join(parts))


def _candidate_pattern(pattern: str) -> re.Pattern | regex.Pattern:
    """The default patterns are ours and linear: the standard library runs them without a timeout.
    A spec's own patterns run in the regex module, stopped at regex_timeout."""
    return re.compile(pattern) if pattern in CANDIDATE_PATTERNS else compile_pattern(pattern, ValueError)


def _tag_list(names) -> str:
    return " ".join(f"<{name}>" for name in names) or "(none)"


def _clip(text: str, limit: int = 40) -> str:
    text = text.strip()
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


@hookimpl
def register_graders(register):
    register(Format)
