"""rft_core.run.runner: score rows in order; a grader that raises never crashes a run."""

from __future__ import annotations

import asyncio
import json

import pytest

from rft_core import GradeError, Grader, Result, Status, Usage, hookimpl, score
from rft_core.run.data import Task, tasks_from_rows
from rft_core.kernel.grader import BatchFailureWarning
from rft_core.kernel.registry import Registry
from rft_core.run.runner import RunAborted, Scored, run, to_rows
from rft_core.kernel.spec import load_spec
from rft_core.kernel.types import Sample

EXACT = {"type": "string_check", "reference": "{{ item.answer }}"}

# --- throwaway graders ------------------------------------------------------------


class Fragile(Grader):
    """1.0, except that the output "boom" makes it raise."""

    type = "fragile"

    def evaluate(self, sample, item):
        if sample.output_text == "boom":
            raise RuntimeError("kaput")
        return Result(1.0)


class AsyncNumber(Grader):
    """Reward = the output text as a number / 1000, computed asynchronously; finishes out of order."""

    type = "async_number"

    def __init__(self, config=None, /, **fields):
        super().__init__(config, **fields)
        self.graded: list[str] = []

    async def evaluate(self, sample, item):
        self.graded.append(sample.output_text)
        for _ in range(7 - int(sample.output_text) % 7):  # later samples finish first
            await asyncio.sleep(0)
        if sample.output_text == "13":
            raise ValueError("unlucky")
        return Result(int(sample.output_text) / 1000)


@pytest.fixture
def registry_with_fragile(pm):
    class FragilePlugin:
        @hookimpl
        def register_graders(self, register):
            register(Fragile)

    pm.register(FragilePlugin(), name="rft-fragile")
    return Registry.from_plugin_manager(pm)


# --- score() ----------------------------------------------------------------------


def test_score_over_rows_of_every_format(registry):
    rows = [
        {"output_text": "4", "answer": "4"},  # flat
        {"item": {"answer": "4"}, "sample": "5"},  # canonical
        {"completions": ["4", "no", [{"role": "assistant", "content": "4"}]], "answer": "4"},  # three samples
        {"messages": [{"role": "user", "content": "2+2"}, {"role": "assistant", "content": "4"}], "answer": "4"},
    ]
    results = score(EXACT, rows, registry=registry)
    assert [(result.reward, result.status) for result in results] == [
        (1.0, Status.OK),
        (0.0, Status.OK),
        (1.0, Status.OK),
        (0.0, Status.OK),
        (1.0, Status.OK),
        (1.0, Status.OK),
    ]


def test_score_records_bad_rows_and_bad_variables(registry):
    results = score(EXACT, [{"answer": "no sample"}, {"output_text": "4"}, 7], registry=registry)
    assert [(result.status, result.reason, result.error_codes()) for result in results] == [
        (
            Status.ERROR,
            "row 0: row has no sample: "
            "give output_text, completion, completions, an assistant message, or {item, sample}",
            {".": "sample_parse_error"},
        ),
        (
            Status.ERROR,
            "invalid_variable: item.answer in template '{{ item.answer }}': no key 'answer' (keys: none)",
            {".": "invalid_variable_error"},
        ),
        (Status.ERROR, "row 2: a row must be a JSON object, not int", {".": "sample_parse_error"}),
    ]


def test_score_takes_a_grader_a_mapping_or_a_file(tmp_path, registry):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(EXACT))
    rows = [{"output_text": "4", "answer": "4"}]
    for spec in (EXACT, path, str(path), load_spec(EXACT, registry)):
        assert [result.reward for result in score(spec, rows, registry=registry)] == [1.0]


def test_score_of_no_rows(registry):
    assert score(EXACT, [], registry=registry) == []


def test_a_grader_that_raises_gives_an_error_result_not_a_crash(registry_with_fragile):
    spec = {"type": "multi", "graders": {"f": {"type": "fragile"}, "e": EXACT}}
    results = score(
        spec,
        [{"output_text": "boom", "answer": "boom"}, {"output_text": "x", "answer": "x"}],
        registry=registry_with_fragile,
    )
    broken = results[0].sub_rewards["f"]
    assert (broken.status, broken.reason) == (Status.ERROR, "f: RuntimeError: kaput")
    assert results[0].sub_rewards["e"].reward == 1.0
    assert results[1].reward == 1.0


def test_fail_fast_raises_run_aborted():
    rows = [{"output_text": "fine"}, {"output_text": "boom"}, {"output_text": "never graded"}]
    with pytest.raises(RunAborted) as excinfo:
        score(Fragile(), rows, fail_fast=True)
    assert str(excinfo.value) == "row 1: fragile: RuntimeError: kaput"


def test_fail_fast_stops_at_an_unreadable_row():
    with pytest.raises(RunAborted) as excinfo:
        score(Fragile(), [{"output_text": "fine"}, [1]], fail_fast=True)
    assert str(excinfo.value) == "row 1: a row must be a JSON object, not list"


def test_fail_fast_names_the_line_of_a_file_row():
    task = Task(4, Sample("boom"), {}, line=9)
    with pytest.raises(RunAborted) as excinfo:
        list(run(Fragile(), [task], fail_fast=True))
    assert str(excinfo.value) == "row 4 (line 9): fragile: RuntimeError: kaput"


def test_fail_fast_ignores_graded_failures_that_are_not_errors(registry):
    # a parse_error or a wrong answer is a result, not a reason to stop
    spec = {**EXACT, "extract": r"Answer: (\w+)"}
    results = score(spec, [{"output_text": "no answer line", "answer": "4"}], registry=registry, fail_fast=True)
    assert results[0].status is Status.PARSE_ERROR


def test_run_does_not_read_all_tasks_first():
    # results come out while tasks are still coming in: an endless task stream still yields
    def endless():
        index = 0
        while True:
            yield Task(index, Sample("a"), {})
            index += 1

    assert next(run(Fragile(), endless())).result.reward == 1.0


# --- output rows ------------------------------------------------------------------


def test_output_rows_follow_the_design():
    rows = [
        {"id": "q1", "output_text": "fine"},
        {"output_text": "boom"},
        {"completions": ["a", "b"]},
        [1],
    ]
    out = [scored.to_row() for scored in run(Fragile(), tasks_from_rows(rows))]
    for row in out:
        assert isinstance(row.pop("execution_time"), float)
    assert out == [
        {"index": 0, "id": "q1", "reward": 1.0, "status": "ok", "reason": None, "sub_rewards": {}, "errors": {}},
        {
            "index": 1,
            "reward": 0.0,
            "status": "error",
            "reason": "fragile: RuntimeError: kaput",
            "sub_rewards": {},
            "errors": {".": "other_error"},
            "metadata": {"error_code": "other_error", "exception": "RuntimeError"},
        },
        {"index": 2, "sample_index": 0, "reward": 1.0, "status": "ok", "reason": None, "sub_rewards": {}, "errors": {}},
        {"index": 2, "sample_index": 1, "reward": 1.0, "status": "ok", "reason": None, "sub_rewards": {}, "errors": {}},
        {
            "index": 3,
            "reward": 0.0,
            "status": "error",
            "reason": "row 3: a row must be a JSON object, not list",
            "sub_rewards": {},
            "errors": {".": "sample_parse_error"},
            "metadata": {"error_code": "sample_parse_error"},
            "line": None,
        },
    ]


class Metered(Grader):
    """A model-style grader: spends tokens, fails with a GradeError on "refuse", and its batch path
    is broken (it raises), so the runner's rows show the batch failure."""

    type = "metered"

    def evaluate(self, sample, item):
        if sample.output_text == "refuse":
            raise GradeError("the judge refused", status=Status.PARSE_ERROR, code="model_grader_refusal_error", attempts=2)
        return Result(1.0, metadata={"model": "m"}, usage=Usage(input_tokens=3, output_tokens=1, cost_usd=0.5))

    def evaluate_batch(self, samples, items):
        raise KeyError("vector path bug")


def test_grade_errors_usage_and_batch_failures_reach_the_output_rows():
    with pytest.warns(BatchFailureWarning, match="'metered'.*KeyError: 'vector path bug'"):
        out = [scored.to_row() for scored in run(Metered(), tasks_from_rows([{"output_text": "ok"}, {"output_text": "refuse"}]))]
    batch_error = {"batch_error": "KeyError: 'vector path bug'"}
    assert [(row["status"], row["errors"], row["metadata"]) for row in out] == [
        ("ok", {}, {"model": "m", **batch_error, "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
                    "cost_usd": 0.5}),
        ("parse_error", {".": "model_grader_refusal_error"},
         {"attempts": 2, **batch_error, "error_code": "model_grader_refusal_error"}),
    ]


def test_output_row_key_order():
    row = Scored(Task(3, Sample("x"), {}, line=4, sample_index=1, id="r"), Result(0.5), 0.25).to_row()
    assert list(row) == [
        "index",
        "id",
        "sample_index",
        "reward",
        "status",
        "reason",
        "sub_rewards",
        "errors",
        "execution_time",
    ]
    assert row["execution_time"] == 0.25


def test_output_rows_of_a_composite_nest_sub_rewards_and_errors(registry_with_fragile):
    spec = {"type": "multi", "graders": {"f": {"type": "fragile"}, "e": EXACT}, "calculate_output": "f + e"}
    grader = load_spec(spec, registry_with_fragile)
    [scored] = run(grader, tasks_from_rows([{"output_text": "boom", "answer": "boom"}]))
    row = scored.to_row()
    assert row["status"] == "ok"
    assert row["reward"] == 1.0
    assert row["sub_rewards"]["f"]["status"] == "error"
    assert row["sub_rewards"]["e"] == {"reward": 1.0, "status": "ok", "reason": None}
    assert row["errors"] == {"f": "other_error"}
    json.dumps(row)


def test_an_unreadable_file_row_keeps_its_line():
    task = Task(2, None, {}, line=5, error="line 5: invalid JSON: Expecting value at column 1")
    [scored] = run(Fragile(), [task])
    row = scored.to_row()
    assert (row["status"], row["reason"], row["line"], row["errors"]) == (
        "error",
        "line 5: invalid JSON: Expecting value at column 1",
        5,
        {".": "sample_parse_error"},
    )


# --- async graders ----------------------------------------------------------------


def test_async_grader_batches_keep_order():
    grader = AsyncNumber()
    rows = [{"output_text": str(n)} for n in range(150)]
    rows[40] = {"not": "a sample"}  # an unreadable row inside a batch
    rows[149] = 5  # and one at the very end
    scored = list(run(grader, tasks_from_rows(rows)))
    assert [item.task.index for item in scored] == list(range(150))
    rewards = {item.task.index: item.result.reward for item in scored if item.result.ok}
    assert rewards == {n: n / 1000 for n in range(149) if n not in (13, 40)}
    assert scored[13].result.reason == "async_number: ValueError: unlucky"
    assert scored[40].result.status is Status.ERROR and scored[40].result.reason.startswith("row 40: row has no sample")
    assert scored[149].result.reason == "row 149: a row must be a JSON object, not int"
    # each readable sample graded exactly once
    assert sorted(grader.graded, key=int) == [str(n) for n in range(149) if n != 40]


def test_async_grader_fail_fast():
    with pytest.raises(RunAborted) as excinfo:
        score(AsyncNumber(), [{"output_text": str(n)} for n in range(20)], fail_fast=True)
    assert str(excinfo.value) == "row 13: async_number: ValueError: unlucky"


# --- big input --------------------------------------------------------------------


def test_a_1mb_sample_is_graded_with_a_status(registry):
    spec = {
        "type": "multi",
        "graders": {
            "exact": EXACT,
            "fuzzy": {"type": "fuzzy_match", "reference": "{{ item.answer }}"},
            "similar": {"type": "text_similarity", "reference": "{{ item.answer }}"},
            "regex": {"type": "string_check", "operation": "regex", "reference": "(a|a)*b"},
            "extract": {**EXACT, "extract": r"Answer: (\w+)"},
        },
    }
    text = "word " * 200_000  # 1,000,000 characters: string_check's and fuzzy_match's default max_input_chars
    results = score(
        spec,
        [{"output_text": text, "answer": "word"}, {"output_text": text + "!", "answer": "word"}],
        registry=registry,
    )
    statuses = [{key: sub.status for key, sub in result.sub_rewards.items()} for result in results]
    assert [result.status for result in results] == [Status.OK, Status.OK]
    assert statuses[0] == {
        "exact": Status.OK,
        "fuzzy": Status.OK,
        "similar": Status.PARSE_ERROR,  # over text_similarity's 100,000-character default
        "regex": Status.OK,
        "extract": Status.PARSE_ERROR,  # no "Answer:" line
    }
    # one character over the cap: the text graders refuse it with a status instead of grading it
    assert statuses[1]["exact"] is Status.PARSE_ERROR
    assert results[1].sub_rewards["exact"].reason == "input has 1,000,001 characters, over max_input_chars=1,000,000"


def test_a_rows_samples_stay_in_one_batch():
    """Graders comparing the samples of an item (length's group mode) need them in one grade_batch."""
    from rft_core.run.runner import _batches

    rows = [{"completions": ["a", "b", "c"], "answer": "x"}, {"output_text": "d", "answer": "y"},
            {"completions": ["e", "f"], "answer": "z"}]
    sizes = [[task.sample.output_text for task in batch] for batch in _batches(tasks_from_rows(rows), size=2)]
    assert sizes == [["a", "b", "c"], ["d", "e", "f"]]
    assert [len(batch) for batch in _batches(tasks_from_rows([{"output_text": str(n)} for n in range(5)]), 2)] == [2, 2, 1]


def test_length_groups_a_rows_completions_in_rft_score(registry):
    rows = [{"output_text": "first", "answer": "w"}, {"completions": ["a" * n for n in range(1, 401)], "answer": "x"}]
    results = list(score({"type": "length", "unit": "characters", "mode": "group"}, rows, registry=registry))
    # the row's 400 samples cross the batch size (256), yet are ranked as one group: 1 to 400 characters
    assert [results[n].reward for n in (1, 256, 400)] == pytest.approx([0.0, -255 / 399, -1.0])


def test_to_rows_equals_to_row_of_each_with_shared_sub_results():
    spec = {"type": "multi", "calculate_output": "a + b", "graders": {
        "a": {"type": "string_check", "operation": "eq", "reference": "{{ item.answer }}"},
        "b": {"type": "fuzzy_match", "reference": "{{ item.answer }}"}}}
    rows = [{"output_text": text, "answer": "Paris"} for text in ("Paris", "Lyon", "Pari", "Paris")] + [{"answer": "x"}]
    scored = list(run(load_spec(spec), tasks_from_rows(rows)))
    assert to_rows(scored) == [entry.to_row() for entry in scored]
    assert json.dumps(to_rows(scored)) == json.dumps([entry.to_row() for entry in scored])
    shared = to_rows(scored)
    assert shared[0]["sub_rewards"]["a"] is shared[3]["sub_rewards"]["a"]  # string_check's 1.0, made once
