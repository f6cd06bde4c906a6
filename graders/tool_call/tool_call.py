"""``tool_call``: the sample's tool calls against the item's expected calls: precision, recall, F1."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from itertools import repeat
from typing import Any, Literal

import orjson
from pydantic import Field

from rft_core import (
    GradeError,
    Grader,
    GraderConfig,
    Item,
    Result,
    Sample,
    SharedComposite,
    SharedResult,
    Status,
    SubGraders,
    TemplateField,
    hookimpl,
)


Call = tuple[str, dict[str, Any]]  # (function name, parsed arguments)


class ToolCall(Grader):
    """Compare ``sample.output_tools`` with the item's expected calls: names and arguments.

    A call matches an expected one when the names are equal and the arguments are too:
    ``exact`` (the same JSON; true is not 1), ``subset`` (every expected argument present and
    equal; others allowed) or ``graders`` (a grader per argument, the rest exact). Calls are
    paired one to one, in order (``ordered: true``) or not; the reward is the F1 (or precision,
    recall, or ``exact``: every call matched and none extra) of the pairing. Arguments that are
    not a JSON object are a parse_error.

    >>> call = {"type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}}
    >>> ToolCall().grade({"output_tools": [call]}, {"tool_calls": [{"name": "weather", "arguments": {"city": "Paris"}}]}).reward
    1.0
    """

    type = "tool_call"
    openai_hint = "OpenAI has no tool-call grader: run it here, or compare sample.output_tools in a python grader"

    class Config(GraderConfig):
        expected: TemplateField = Field(
            default="{{ item.tool_calls }}",
            description="The expected calls: a list (or JSON text) of {name, arguments} or Chat Completions "
            "{type: function, function: {name, arguments}}.",
        )
        arguments: Literal["exact", "subset", "graders"] = Field(
            default="exact", description="How arguments must match: exact, subset, or per-argument graders."
        )
        argument_graders: SubGraders = Field(
            default={},
            description="graders: a grader per argument name; it grades the called value as the sample's text "
            "with item.expected the expected value.",
        )
        argument_threshold: float = Field(
            default=1.0, description="graders: the reward at or above which a graded argument matches."
        )
        ordered: bool = Field(default=False, description="Pair calls in order (as a subsequence) rather than in any order.")
        metric: Literal["f1", "precision", "recall", "exact"] = Field(
            default="f1", description="The reward: F1, precision or recall of the pairing, or exact (all or nothing)."
        )
        max_calls: int = Field(default=64, gt=0, description="A sample with more calls gets status parse_error.")
        max_argument_chars: int = Field(
            default=100_000, gt=0, description="Arguments longer than this get status parse_error."
        )

    config: Config

    def evaluate(self, sample: Sample, item: Item) -> Result:
        return self.compare(self.parse_expected(self.config.expected.resolve(sample, item)), sample, item)

    def evaluate_batch(self, samples: list[Sample], items: list[Item]) -> list[Result]:
        """``evaluate`` of each row with the expected calls read at once (when a row cannot resolve
        them, every row is graded on its own, so the failure lands on that row). A row whose calls
        are the expected ones as they are written (the usual right answer) is decided by comparing
        the two lists whole; rows in a row that share their expected calls parse them once."""
        try:
            values = self.config.expected.resolve_batch(samples, items)
        except Exception:  # noqa: BLE001 - grade reports it on the row it belongs to
            return [self.grade(sample, item) for sample, item in zip(samples, items)]
        config, results = self.config, []
        parse, parse_calls, compare_calls = self.parse_expected, self.parse_calls, self.compare_calls
        whole = config.arguments != "graders"  # argument graders may refuse equal values
        limit, perfect, dumps = config.max_calls, PERFECT[config.metric], orjson.dumps
        last: Any = None
        expected: list[Call] = []
        for value, sample, item in zip(values, samples, items):
            try:
                if value is not last or last is None:
                    expected, last = parse(value), value
                calls = sample.output_tools
                if type(calls) is not list or len(calls) > limit:
                    raise _malformed_calls(calls, limit)
                called = parse_calls(calls, "tool call")
                if whole and expected == called and dumps(expected) == dumps(called):
                    results.append(perfect)  # equal in Python and as JSON text: every pair is `equal`
                else:
                    results.append(compare_calls(expected, called, item))
            except Exception:  # noqa: BLE001 - grade turns this row's failure into its status
                last = None
                results.append(self.grade(sample, item))
        return results

    def compare(self, expected: list[Call], sample: Sample, item: Item) -> Result:
        """The result of the sample's calls against the expected ones."""
        return self.compare_calls(expected, self.parse_calls(_calls(sample, self.config.max_calls), "tool call"), item)

    def compare_calls(self, expected: list[Call], called: list[Call], item: Item) -> Result:
        """The result of the (parsed) calls made against the expected ones."""
        config = self.config
        match = _same_call if config.arguments == "exact" else self.matches
        try:
            if len(expected) == len(called) and all(map(match, expected, called, repeat(item))):
                return PERFECT[config.metric]  # the usual right answer: the calls in order, no pairing to search
            matches = [[match(want, got, item) for got in called] for want in expected]
        except RecursionError:
            raise _malformed("arguments nested too deeply to compare") from None
        paired = _in_order(matches) if config.ordered else _any_order(matches)
        if paired == len(expected) == len(called):
            return PERFECT[config.metric]
        return _scored(config.metric, paired, len(expected), len(called))

    def parse_expected(self, value: Any) -> list[Call]:
        """The expected calls from the resolved ``expected`` value; a malformed one is an error."""
        try:
            if type(value) is not list:  # the usual column is a list: no checks
                if isinstance(value, str):
                    try:
                        value = orjson.loads(value)
                    except orjson.JSONDecodeError as exc:
                        raise GradeError(f"not JSON ({exc})") from None
                if isinstance(value, Mapping):
                    value = [value]
                if not isinstance(value, list):
                    raise GradeError(f"{_json_kind(value)}, not a list of calls")
            return self.parse_calls(value, "expected call")
        except GradeError as exc:
            raise GradeError(
                f"expected calls ({self.config.expected.text}): {exc}; give a list of {{name, arguments}}",
                status=Status.ERROR,
                code="invalid_variable_error",
            ) from None

    def parse_calls(self, calls: list[Any], what: str) -> list[Call]:
        """(name, arguments) of every call, in either shape; a malformed one is a parse_error."""
        limit, loads, parsed = self.config.max_argument_chars, orjson.loads, []
        try:  # the usual shapes, with arguments an object or its JSON text: read inline
            for call in calls:
                function = call.get("function")
                body = call if function is None else function
                name, arguments = body.get("name"), body.get("arguments")
                if type(arguments) is str and len(arguments) <= limit:
                    arguments = loads(arguments)
                if type(name) is not str or type(arguments) is not dict:
                    raise TypeError("not the usual call")
                parsed.append((name, arguments))
        except Exception:  # noqa: BLE001 - an unusual call: checked_call reads each one, or says what is wrong
            return [self.checked_call(call, position, what) for position, call in enumerate(calls)]
        return parsed

    def checked_call(self, call: Any, position: int, what: str) -> Call:
        """(name, arguments) of a call in any shape, with a parse_error naming what is wrong."""
        if type(call) is not dict and not isinstance(call, Mapping):
            raise _malformed(f"{what} {position} is {_json_kind(call)}, not an object")
        function = call.get("function")
        body = function if function is not None and (type(function) is dict or isinstance(function, Mapping)) else call
        name, arguments = body.get("name"), body.get("arguments")
        if not isinstance(name, str):
            raise _malformed(f"{what} {position} has no function name")
        if arguments is None or arguments == "":
            return name, {}
        if isinstance(arguments, str):
            if len(arguments) > self.config.max_argument_chars:
                raise _malformed(f"{what} {position} ({name}): arguments over {self.config.max_argument_chars:,} characters")
            try:
                arguments = orjson.loads(arguments)
            except orjson.JSONDecodeError as exc:
                raise _malformed(f"{what} {position} ({name}): arguments are not valid JSON ({exc})") from None
        if type(arguments) is dict:
            return name, arguments
        if not isinstance(arguments, Mapping):
            raise _malformed(f"{what} {position} ({name}): arguments are {_json_kind(arguments)}, not an object")
        return name, dict(arguments)

    def matches(self, want: Call, got: Call, item: Item) -> bool:
        if want[0] != got[0]:
            return False
        expected, given = want[1], got[1]
        mode = self.config.arguments
        if mode == "exact":
            return equal(expected, given)
        if mode == "subset":
            return all(key in given and equal(value, given[key]) for key, value in expected.items())
        if expected.keys() != given.keys():
            return False
        graders = self.config.argument_graders
        return all(
            self.graded(graders[key], value, given[key], item) if key in graders else equal(value, given[key])
            for key, value in expected.items()
        )

    def graded(self, grader: Grader, expected: Any, given: Any, item: Item) -> bool:
        result = grader.grade(Sample(_text(given)), {**item, "expected": _text(expected)})
        return result.ok and result.reward >= self.config.argument_threshold


def _same_call(want: Call, got: Call, item: Item) -> bool:
    """``matches`` with exact arguments: the same name and the same JSON."""
    return want[0] == got[0] and equal(want[1], got[1])


def equal(expected: Any, given: Any) -> bool:
    """``same``, decided by C-level comparisons where they suffice: values Python finds unequal are
    not the same JSON, and values whose canonical JSON text is identical are."""
    if expected != given:
        return False
    try:  # the same text in the same key order (the usual case) needs no sorting
        if orjson.dumps(expected) == orjson.dumps(given):
            return True
        if orjson.dumps(expected, option=CANONICAL) == orjson.dumps(given, option=CANONICAL):
            return True
    except (orjson.JSONEncodeError, TypeError):
        pass
    return same(expected, given)  # equal in Python, not in text: 1 and 1.0 are the same, true and 1 are not


CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def same(expected: Any, given: Any) -> bool:
    """JSON equality that tells true from 1 (Python's == does not); 1 and 1.0 are equal."""
    kind = type(expected)
    if kind is type(given):
        if kind is dict:
            return expected.keys() == given.keys() and all(same(value, given[key]) for key, value in expected.items())
        if kind is list:
            return len(expected) == len(given) and all(map(same, expected, given))
        return expected == given
    if kind in NUMBERS and type(given) in NUMBERS:
        return expected == given
    if isinstance(expected, Mapping) and isinstance(given, Mapping):  # other mapping types, e.g. from YAML
        return same(dict(expected), dict(given))
    return False


NUMBERS = (int, float)


def _calls(sample: Sample, limit: int) -> list[Any]:
    calls = sample.output_tools
    if not isinstance(calls, list) or len(calls) > limit:
        raise _malformed_calls(calls, limit)
    return calls


def _malformed_calls(calls: Any, limit: int) -> GradeError:
    """Why ``output_tools`` is not a list of at most ``limit`` calls."""
    if not isinstance(calls, list):
        return _malformed(f"output_tools is {_json_kind(calls)}, not a list of calls")
    return _malformed(f"{len(calls):,} tool calls, over max_calls={limit}")


def _any_order(matches: list[list[bool]]) -> int:
    """The most pairs of expected and made calls, each used once (augmenting paths; at once when no
    two expected calls match the same made call)."""
    if len(matches) == 1:
        return int(any(matches[0]))
    hits = [[got for got, hit in enumerate(row) if hit] for row in matches]
    chosen = [row[0] for row in hits if len(row) == 1]
    if all(len(row) <= 1 for row in hits) and len(set(chosen)) == len(chosen):
        return len(chosen)
    owner: dict[int, int] = {}  # made call -> the expected call it is paired with
    return sum(_augment(want, hits, owner, set()) for want in range(len(hits)))


def _augment(want: int, hits: list[list[int]], owner: dict[int, int], seen: set[int]) -> bool:
    for got in hits[want]:
        if got not in seen:
            seen.add(got)
            if got not in owner or _augment(owner[got], hits, owner, seen):
                owner[got] = want
                return True
    return False


def _in_order(matches: list[list[bool]]) -> int:
    """The most pairs that keep both lists' order (a longest common subsequence)."""
    width = len(matches[0]) if matches else 0
    previous = [0] * (width + 1)
    for row in matches:
        current = [0] * (width + 1)
        for got, hit in enumerate(row, start=1):
            current[got] = previous[got - 1] + 1 if hit else max(previous[got], current[got - 1])
        previous = current
    return previous[width]


def _json_kind(value: Any) -> str:
    """What a value is, in JSON's words: 'an array', 'null', 'a number'."""
    if value is None:
        return "null"
    kinds = ((bool, "a boolean"), ((int, float), "a number"), (str, "a string"), (list, "an array"), (Mapping, "an object"))
    return next((kind for types, kind in kinds if isinstance(value, types)), f"a {type(value).__name__}")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


@lru_cache(maxsize=4096)
def _scored(metric: str, paired: int, expected: int, called: int) -> Result:
    """The result of ``paired`` pairs between ``expected`` and ``called`` calls: made once for
    every sample with the same counts, read-only."""
    precision = paired / called if called else float(not expected)
    recall = paired / expected if expected else 1.0
    if metric == "f1":
        reward = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    else:
        reward = precision if metric == "precision" else recall if metric == "recall" else 0.0
    reason = f"{paired} of {expected} expected calls made, {called} calls in all"
    return SharedComposite(reward, reason, {"precision": SharedResult(precision), "recall": SharedResult(recall)})


PERFECT = {
    metric: SharedComposite(1.0, None, {"precision": SharedResult(1.0), "recall": SharedResult(1.0)})
    for metric in ("f1", "precision", "recall", "exact")
}
"""The result of every sample whose calls are exactly the expected ones."""


def _malformed(message: str) -> GradeError:
    return GradeError(message, status=Status.PARSE_ERROR, code="sample_parse_error")


@hookimpl
def register_graders(register):
    register(ToolCall)
