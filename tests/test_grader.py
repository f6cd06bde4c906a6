"""rft_core.kernel.grader: the Grader base class. grade() never raises; async graders work from sync code."""

from __future__ import annotations

import asyncio
import functools
import pickle
import threading

import pytest
from pydantic import Field, ValidationError

from rft_core import GradeError, Grader, GraderConfig, Result, Status, SubGraders
from rft_core.kernel.grader import BatchFailureWarning, child_fields, run_sync
from rft_core.kernel.types import Sample

# --- throwaway graders ------------------------------------------------------------


class Length(Grader):
    """Reward = length of the output text (a sync grader)."""

    type = "length"

    def evaluate(self, sample, item):
        return Result(float(len(sample.output_text)), metadata={"item": dict(item)})


class Raises(Grader):
    """Raises whatever exception the item names."""

    type = "raises"

    def evaluate(self, sample, item):
        raise item["exception"]


class AsyncLength(Grader):
    """Reward = length of the output text, computed in an async evaluate (an I/O-style grader)."""

    type = "async_length"

    async def evaluate(self, sample, item):
        # later samples finish first, so gather's ordering is what keeps results in order
        for _ in range(10 - len(sample.output_text) % 10):
            await asyncio.sleep(0)
        if sample.output_text == "boom":
            raise RuntimeError("async kaput")
        return Result(float(len(sample.output_text)))


class Neither(Grader):
    type = "neither"


class Composite(Grader):
    """A composite with two sub-grader fields."""

    type = "composite"

    class Config(GraderConfig):
        first: SubGraders = Field(description="Some sub-graders.")
        second: SubGraders = Field(default_factory=dict, description="More sub-graders.")
        other: int = Field(default=0, description="Not a sub-grader field.")

    def evaluate(self, sample, item):
        return Result(1.0)


# --- grade() never raises ---------------------------------------------------------


@pytest.mark.parametrize(
    ("exception", "status", "reason", "metadata"),
    [
        # an unexpected exception: status error, grader name, type and message
        (
            RuntimeError("kaput"),
            Status.ERROR,
            "raises: RuntimeError: kaput",
            {"error_code": "other_error", "exception": "RuntimeError"},
        ),
        (
            KeyError("answer"),
            Status.ERROR,
            "raises: KeyError: 'answer'",
            {"error_code": "other_error", "exception": "KeyError"},
        ),
        # even a RecursionError from deeply nested model output
        (
            RecursionError("too deep"),
            Status.ERROR,
            "raises: RecursionError: too deep",
            {"error_code": "other_error", "exception": "RecursionError"},
        ),
        # a GradeError is a known failure: its status and code, its message as the reason
        (
            GradeError("no answer line", status=Status.PARSE_ERROR, code="sample_parse_error"),
            Status.PARSE_ERROR,
            "no answer line",
            {"error_code": "sample_parse_error"},
        ),
        (
            GradeError("regex ran over 1s", status=Status.TIMEOUT, code="timeout_error"),
            Status.TIMEOUT,
            "regex ran over 1s",
            {"error_code": "timeout_error"},
        ),
        # a GradeError with neither: status error, code other_error
        (GradeError("plain"), Status.ERROR, "plain", {"error_code": "other_error"}),
        # a GradeError may say the grader does not apply
        (
            GradeError("no reference for this row", status=Status.NOT_APPLICABLE, code="not_applicable"),
            Status.NOT_APPLICABLE,
            "no reference for this row",
            {"error_code": "not_applicable"},
        ),
    ],
    ids=["runtime", "key", "recursion", "parse-error", "timeout", "grade-error-default", "not-applicable"],
)
def test_grade_turns_exceptions_into_results(exception, status, reason, metadata):
    grader = Raises()
    for result in (
        grader.grade("x", {"exception": exception}),
        asyncio.run(grader.agrade("x", {"exception": exception})),
    ):
        assert (result.reward, result.status, result.reason, result.row_metadata()) == (0.0, status, reason, metadata)


@pytest.mark.parametrize(
    ("sample", "item", "reason"),
    [
        # a sample that is neither text nor a mapping
        (4, {}, "length: TypeError: a sample must be a string or a mapping, not int"),
        # a sample mapping with a field OpenAI's sample does not have
        (
            {"text": "x"},
            {},
            "length: ValueError: unknown sample field(s) ['text']; "
            "a sample has output_text, output_json, output_tools, choices",
        ),
        # an item that is not a mapping
        ("x", ["a"], "length: TypeError: an item must be a mapping, not list"),
    ],
    ids=["int-sample", "unknown-sample-field", "list-item"],
)
def test_grade_reports_bad_inputs_as_errors(sample, item, reason):
    result = Length().grade(sample, item)
    assert (result.status, result.reason) == (Status.ERROR, reason)


def test_grade_reports_a_grader_that_implements_nothing():
    # the registry refuses such a class; built directly, it still never raises
    result = Neither().grade("x")
    assert (result.status, result.reason) == (
        Status.ERROR,
        "neither: NotImplementedError: Neither does not implement evaluate",
    )


@pytest.mark.parametrize(
    ("sample", "item", "reward", "seen_item"),
    [
        # a string is the output text; no item means {}
        ("abc", None, 3.0, {}),
        # an OpenAI sample mapping
        ({"output_text": "abcd"}, {"answer": "x"}, 4.0, {"answer": "x"}),
        # a Sample as is
        (Sample("ab"), {}, 2.0, {}),
    ],
    ids=["string-no-item", "mapping", "sample"],
)
def test_grade_coerces_sample_and_item(sample, item, reward, seen_item):
    result = Length().grade(sample, item)
    assert (result.reward, result.status, result.metadata["item"]) == (reward, Status.OK, seen_item)


# --- async graders ----------------------------------------------------------------


def test_is_async():
    assert AsyncLength().is_async()
    assert not Length().is_async()


def test_async_only_grader_works_through_grade():
    result = AsyncLength().grade("abc")
    assert (result.reward, result.status) == (3.0, Status.OK)


def test_async_only_grader_errors_become_results():
    result = AsyncLength().grade("boom")
    assert (result.status, result.reason) == (Status.ERROR, "async_length: RuntimeError: async kaput")


def test_sync_grader_works_through_agrade():
    assert asyncio.run(Length().agrade("abcde")).reward == 5.0


@pytest.mark.parametrize("grader", [AsyncLength(), Length()], ids=["async", "sync"])
def test_grade_batch_keeps_order(grader):
    samples = ["a" * n for n in range(1, 13)] + ["boom"]
    results = grader.grade_batch(samples, [None] * len(samples))
    assert [result.reward for result in results[:-1]] == [float(n) for n in range(1, 13)]
    # one failure does not take the batch down
    assert results[-1].status is (Status.ERROR if grader.is_async() else Status.OK)


def test_grade_batch_of_nothing():
    assert AsyncLength().grade_batch([], []) == []
    assert Length().grade_batch([], []) == []


def test_grade_batch_length_mismatch():
    with pytest.raises(ValueError) as excinfo:
        Length().grade_batch(["a", "b"], [{}])
    assert str(excinfo.value) == "grade_batch got 2 samples but 1 items"


def test_async_grader_from_inside_a_running_event_loop():
    # e.g. a notebook or an async trainer calling the sync API
    async def main():
        grader = AsyncLength()
        return grader.grade("abc"), grader.grade_batch(["a", "bb"], [{}, {}]), await grader.agrade("abcd")

    single, batch, awaited = asyncio.run(main())
    assert single.reward == 3.0
    assert [result.reward for result in batch] == [1.0, 2.0]
    assert awaited.reward == 4.0


def test_run_sync_returns_and_raises_in_both_paths():
    async def value():
        return 42

    async def fails():
        raise KeyError("k")

    assert run_sync(value()) == 42
    with pytest.raises(KeyError):
        run_sync(fails())

    async def inside_a_loop():
        with pytest.raises(KeyError):
            run_sync(fails())
        return run_sync(value())

    assert asyncio.run(inside_a_loop()) == 42


# --- construction, config, children -----------------------------------------------


def test_name_defaults_to_the_type():
    assert Length().name == "length"
    assert Length(name="chars").name == "chars"
    assert repr(Length(name="chars")) == "<Length 'chars'>"


def test_config_or_fields_not_both():
    with pytest.raises(TypeError, match="^pass either a Config or keyword fields, not both$"):
        Length(GraderConfig(type="length"), name="x")


def test_config_forbids_unknown_fields():
    with pytest.raises(ValidationError) as excinfo:
        Length(refrence="x")
    assert [error["type"] for error in excinfo.value.errors()] == ["extra_forbidden"]


def test_summary_is_the_first_docstring_line():
    assert Length.summary() == "Reward = length of the output text (a sync grader)."
    assert Neither.summary() == ""


def test_child_fields_finds_the_sub_grader_fields():
    assert child_fields(Composite.Config) == ["first", "second"]
    assert child_fields(GraderConfig) == []


def test_children_of_a_leaf_is_empty():
    assert Length().children() == {}


def test_children_of_a_composite():
    a, b, c = Length(name="a"), AsyncLength(), Length()
    composite = Composite(first={"a": a, "b": b}, second={"c": c})
    assert composite.children() == {"a": a, "b": b, "c": c}


def test_sub_graders_from_dicts_are_built_and_named_by_key():
    # dict sub-graders go through the spec loader (the default registry's built-in types)
    composite = Composite(first={"exact": {"type": "string_check", "reference": "x"}})
    child = composite.children()["exact"]
    assert (child.type, child.name) == ("string_check", "exact")
    assert child.grade("x").reward == 1.0


def test_sub_grader_must_be_a_grader_object():
    with pytest.raises(ValidationError) as excinfo:
        Composite(first={"a": 3})
    assert "sub-grader 'a' must be a grader object, not int" in str(excinfo.value)


# --- evaluate_batch ---------------------------------------------------------------


class Columnar(Grader):
    """Grades a whole column at once; 'boom' in a column makes evaluate_batch raise."""

    type = "columnar"

    def __init__(self, config=None, /, **fields):
        super().__init__(config, **fields)
        self.seen: list[tuple[list, list]] = []

    def evaluate(self, sample, item):
        if sample.output_text == "boom":
            raise RuntimeError("one bad sample")
        return Result(float(len(sample.output_text)))

    def evaluate_batch(self, samples, items):
        self.seen.append((list(samples), list(items)))
        if any(sample.output_text == "boom" for sample in samples):
            raise RuntimeError("the column failed")
        return [Result(float(len(sample.output_text)), metadata={"batched": True}) for sample in samples]


class ShortBatch(Length):
    """A buggy evaluate_batch that drops the last result."""

    type = "short_batch"

    def evaluate_batch(self, samples, items):
        return [Result(0.0) for _ in samples[:-1]]


def test_grade_batch_uses_evaluate_batch_with_coerced_inputs():
    grader = Columnar()
    results = grader.grade_batch(["a", {"output_text": "bb"}, Sample("ccc")], [None, {"k": 1}, {}])
    assert [(result.reward, result.metadata) for result in results] == [
        (1.0, {"batched": True}),
        (2.0, {"batched": True}),
        (3.0, {"batched": True}),
    ]
    [(samples, items)] = grader.seen
    assert [type(sample) for sample in samples] == [Sample, Sample, Sample]
    assert items == [{}, {"k": 1}, {}]


def test_a_raising_evaluate_batch_is_reported_once_and_marked_on_the_rows():
    grader = Columnar(name="cols")
    with pytest.warns(BatchFailureWarning) as caught:
        results = grader.grade_batch(["a", "boom", "ccc"], [{}, {}, {}])
        again = grader.grade_batch(["boom", "dd"], [{}, {}])
    [warning] = caught  # once per grader, not once per batch
    assert "'cols'" in str(warning.message) and "test_grader.Columnar" in str(warning.message)
    assert "RuntimeError: the column failed" in str(warning.message)
    # each sample then gets its own grade, and says why its batch was graded one by one
    assert [(result.reward, result.status, result.reason) for result in results] == [
        (1.0, Status.OK, None),
        (0.0, Status.ERROR, "cols: RuntimeError: one bad sample"),
        (3.0, Status.OK, None),
    ]
    assert {result.metadata["batch_error"] for result in results + again} == {"RuntimeError: the column failed"}
    assert results[1].error_code == "other_error"


def test_grade_batch_with_a_bad_sample_fails_that_sample_only():
    results = Columnar().grade_batch(["a", 5, "ccc"], [{}, {}, []])
    assert [(result.status, result.reason) for result in results] == [
        (Status.OK, None),
        (Status.ERROR, "columnar: TypeError: a sample must be a string or a mapping, not int"),
        (Status.ERROR, "columnar: TypeError: an item must be a mapping, not list"),
    ]


def test_grade_batch_returns_one_result_per_sample_even_if_evaluate_batch_does_not():
    # a plugin's evaluate_batch that returns too few results must not misalign or crash a run
    with pytest.warns(BatchFailureWarning, match="returned 2 results for 3 samples"):
        results = ShortBatch().grade_batch(["a", "bb", "ccc"], [{}, {}, {}])
    assert [result.reward for result in results] == [1.0, 2.0, 3.0]


# --- the contract: what a subclass may and may not define -------------------------------


@pytest.mark.parametrize("method", ["grade", "agrade", "grade_batch", "is_async", "__getstate__"])
def test_a_subclass_overriding_a_base_method_is_refused_when_its_class_is_made(method):
    with pytest.raises(TypeError) as refused:
        type("Overrider", (Length,), {"type": "overrider", method: lambda self, *args: None})
    assert str(refused.value).startswith(f"test_grader.Overrider defines {method}: implement evaluate")


def test_a_subclass_with_aevaluate_is_told_to_make_evaluate_async():
    with pytest.raises(TypeError, match=r"defines aevaluate: make evaluate itself `async def evaluate"):
        type("OldStyle", (Grader,), {"type": "old", "aevaluate": lambda self, sample, item: None})


def test_a_sync_or_async_evaluate_is_read_once_from_the_class():
    assert (Length._evaluate_is_async, AsyncLength._evaluate_is_async) == (False, True)
    assert (Length._batch, Columnar._batch) == (None, "sync")


class AsyncColumns(Grader):
    """An async batch path: grade_batch runs it, and the grader is not graded sample by sample."""

    type = "async_columns"

    async def evaluate(self, sample, item):
        return Result(1.0)

    async def evaluate_batch(self, samples, items):
        await asyncio.sleep(0)
        return [Result(float(len(samples)))] * len(samples)


def test_an_async_evaluate_batch_is_the_batch_path():
    grader = AsyncColumns()
    assert not grader.is_async()  # it has a batch path: callers hand it batches
    assert [result.reward for result in grader.grade_batch(["a", "b", "c"], [{}] * 3)] == [3.0, 3.0, 3.0]
    assert grader.grade("a").reward == 1.0


# --- pickling: the config and what __init__ made of it, without transient state -----------


class Pooled(Grader):
    """Holds a lock (never picklable) and a lazily built 'model'."""

    type = "pooled"
    transient = {"lock": lambda grader: threading.Lock(), "model": None}

    def __init__(self, config=None, /, **fields):
        super().__init__(config, **fields)
        self.lock = threading.Lock()
        self.derived = f"made from {self.name}"

    @functools.cached_property
    def model(self):
        return object()

    def evaluate(self, sample, item):
        with self.lock:
            return Result(1.0, reason=str(id(self.model)))


def test_pickling_keeps_the_config_and_drops_transient_state():
    grader = Pooled(name="p")
    grader.grade("x")
    assert "model" in vars(grader)
    copy = pickle.loads(pickle.dumps(grader))
    assert (type(copy), copy.config, copy.name, copy.derived) == (Pooled, grader.config, "p", "made from p")
    assert "model" not in vars(copy)  # rebuilt on first use
    assert copy.lock is not grader.lock and not copy.lock.locked()
    assert copy.grade("x").reward == 1.0 and "model" in vars(copy)
