"""rft_core.integrations.trl: specs as TRL reward functions, and real (tiny, CPU) GRPO and RLOO runs with them."""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import os
import pickle
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from tiny_models import llama_config, word_tokenizer

from rft_core import Grader, GraderConfig, Result, Status, load_spec
from rft_core.kernel.errors import MissingDependencyError, RftError
from rft_core.kernel.registry import Registry
from rft_core.integrations.trl import AsyncRewardFunction, RewardFunction, reward_funcs, reward_weights
from rft_core.integrations.training import load_dataset, train
from rft_core.integrations.completions import to_sample

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach the Hub: every model here is built in the test

QUIZ = {
    "name": "quiz",
    "type": "multi",
    "calculate_output": "0.2 * format + 0.8 * exact",
    "graders": {
        "format": {"type": "string_check", "operation": "startswith", "reference": "Answer:"},
        "exact": {"type": "string_check", "operation": "like", "reference": "{{ item.answer }}"},
    },
}


# --- throwaway graders ----------------------------------------------------------------------


class OnlyFor(Grader):
    """Test grader: not applicable unless the row's task matches; then 1.0 if the answer occurs."""

    type = "only_for"

    class Config(GraderConfig):
        task: str

    def evaluate(self, sample, item):
        if item.get("task") != self.config.task:
            return Result(0.0, Status.NOT_APPLICABLE, f"not a {self.config.task} row")
        return Result(float(str(item["answer"]) in sample.output_text))


class Judge(Grader):
    """Test grader doing 'I/O': sleeps, tracks how many grades are in flight at once."""

    type = "judge"
    in_flight = 0
    most_in_flight = 0

    async def evaluate(self, sample, item):
        Judge.in_flight += 1
        Judge.most_in_flight = max(Judge.most_in_flight, Judge.in_flight)
        await asyncio.sleep(0.01)
        Judge.in_flight -= 1
        if sample.output_text == "boom":
            raise RuntimeError("judge unreachable")
        return Result(0.5 if "Paris" in sample.output_text else 0.0)


class Broken(Grader):
    """Test grader that fails in each of the ways a grader can."""

    type = "broken"

    def evaluate(self, sample, item):
        from rft_core.kernel.errors import GradeError

        if sample.output_text == "unparseable":
            raise GradeError("no answer found", status=Status.PARSE_ERROR)
        if sample.output_text == "slow":
            raise GradeError("too slow", status=Status.TIMEOUT)
        raise ValueError("bad")


@pytest.fixture
def test_registry(registry: Registry) -> Registry:
    for cls in (OnlyFor, Judge, Broken):
        registry.register(cls, plugin="tests")
    return registry


# --- reward values ---------------------------------------------------------------------------

CASES = [
    # (completion, answer, expected composite reward)
    pytest.param("Answer: Paris", "Paris", 1.0, id="format-and-answer"),
    pytest.param("Paris", "Paris", 0.8, id="answer-without-format"),
    pytest.param("Answer: Lyon", "Paris", 0.2, id="format-only"),
    pytest.param("", "Paris", 0.0, id="empty-completion"),
    pytest.param([{"role": "assistant", "content": "Answer: Paris"}], "Paris", 1.0, id="chat-completion"),
    pytest.param(
        [{"role": "assistant", "content": [{"type": "text", "text": "Answer: "}, {"type": "text", "text": "Paris"}]}],
        "Paris",
        1.0,
        id="chat-content-parts",
    ),
]


@pytest.mark.parametrize(("completion", "answer", "expected"), CASES)
def test_composite_reward_of_known_completions(completion, answer, expected):
    (func,) = reward_funcs(QUIZ)
    assert func(prompts=["Capital of France?"], completions=[completion], answer=[answer]) == [pytest.approx(expected)]


def test_composite_returns_one_value_per_completion_and_accepts_unknown_kwargs():
    (func,) = reward_funcs(QUIZ)
    rewards = func(
        prompts=["q"] * 3,
        completions=["Answer: 4", "4", "Answer: 5"],
        completion_ids=[[1], [2], [3]],
        answer=["4", "4", "4"],
        trainer_state=object(),
        something_new_from_trl=True,  # a future TRL kwarg that is not a column
    )
    assert rewards == [pytest.approx(1.0), pytest.approx(0.8), pytest.approx(0.2)]


def test_names_follow_the_spec():
    assert [f.__name__ for f in reward_funcs(QUIZ)] == ["quiz"]
    assert [f.__name__ for f in reward_funcs(QUIZ, name="trivia")] == ["trivia"]
    assert [f.__name__ for f in reward_funcs(QUIZ, split=True)] == ["format", "exact"]
    # A root that is not a multi gives one function, split or not.
    leaf = {"type": "string_check", "reference": "x"}
    assert [f.__name__ for f in reward_funcs(leaf, split=True)] == ["string_check"]


def test_trl_reads_the_names_we_set():
    trl_utils = pytest.importorskip("trl.trainer.utils")
    assert [trl_utils.get_callable_name(f) for f in reward_funcs(QUIZ, split=True)] == ["format", "exact"]


def test_split_functions_grade_each_component():
    fmt, exact = reward_funcs(QUIZ, split=True)
    kwargs = {"prompts": ["q", "q"], "completions": ["Answer: Lyon", "Paris"], "answer": ["Paris", "Paris"]}
    assert fmt(**kwargs) == [1.0, 0.0]
    assert exact(**kwargs) == [0.0, 1.0]


WEIGHTS = [
    # (combination fields, expected weights)
    pytest.param({"calculate_output": "0.2 * a + 0.8 * b"}, [0.2, 0.8], id="weighted-sum-formula"),
    pytest.param({"calculate_output": "(a + 3 * b) / 4"}, [0.25, 0.75], id="formula-divided"),
    pytest.param({"calculate_output": "b"}, [0.0, 1.0], id="formula-ignoring-a-grader"),
    pytest.param({"weights": {"a": 3, "b": 1}}, [0.75, 0.25], id="weights-normalised"),
    pytest.param({"weights": {"a": 2}}, [1.0, 0.0], id="weights-unlisted-key-is-zero"),
    pytest.param({}, [0.5, 0.5], id="plain-mean"),
]


@pytest.mark.parametrize(("combination", "expected"), WEIGHTS)
def test_reward_weights(combination, expected):
    spec = {
        "type": "multi",
        "graders": {"a": {"type": "string_check", "reference": "x"}, "b": {"type": "string_check", "reference": "y"}},
        **combination,
    }
    assert reward_weights(spec) == pytest.approx(expected)


@pytest.mark.parametrize(
    "formula",
    [
        pytest.param("min(a, b)", id="min"),
        pytest.param("a * b", id="product"),
        pytest.param("0.5 + 0.5 * a", id="constant-term"),
        pytest.param("sqrt(a)", id="sqrt"),
    ],
)
def test_reward_weights_refuses_a_formula_that_is_not_a_weighted_sum(formula):
    spec = {
        "type": "multi",
        "calculate_output": formula,
        "graders": {"a": {"type": "string_check", "reference": "x"}, "b": {"type": "string_check", "reference": "y"}},
    }
    with pytest.raises(RftError) as raised:
        reward_weights(spec)
    assert str(raised.value) == (
        f"multi: calculate_output {formula!r} is not a weighted sum of its graders, so it cannot be split into "
        "one TRL reward function per grader; use the composite function (split=False)"
    )


def test_reward_weights_of_a_leaf_is_one():
    assert reward_weights({"type": "string_check", "reference": "x"}) == [1.0]


def test_weighted_split_adds_up_to_the_composite():
    composite, parts, weights = reward_funcs(QUIZ)[0], reward_funcs(QUIZ, split=True), reward_weights(QUIZ)
    kwargs = {"completions": ["Answer: Paris", "Paris", "Answer: Lyon", "x"], "answer": ["Paris"] * 4}
    columns = [part(**kwargs) for part in parts]
    summed = [sum(w * column[i] for w, column in zip(weights, columns)) for i in range(4)]
    assert summed == pytest.approx(composite(**kwargs))


# --- items from dataset columns ----------------------------------------------------------------


class Capture(Grader):
    """Test grader recording the samples and items it is given."""

    type = "capture"
    seen: list = []

    def evaluate_batch(self, samples, items):
        Capture.seen.append((list(samples), list(items)))
        return [Result(1.0) for _ in samples]


def test_columns_become_the_item_with_the_prompt():
    Capture.seen = []
    func = RewardFunction(Capture())
    func(prompts=["p1", "p2"], completions=["a", "b"], answer=["A", "B"], task=["t", "t"], trainer_state=None)
    samples, items = Capture.seen[0]
    assert [s.output_text for s in samples] == ["a", "b"]
    assert items == [{"answer": "A", "task": "t", "prompt": "p1"}, {"answer": "B", "task": "t", "prompt": "p2"}]


def test_columns_can_be_chosen_and_renamed():
    Capture.seen = []
    func = RewardFunction(Capture(), columns=["solution"], rename={"solution": "answer"})
    func(prompts=["p"], completions=["a"], solution=["S"], noise=["n"])
    assert Capture.seen[0][1] == [{"answer": "S"}]


def test_grade_batch_is_called_once_per_batch():
    Capture.seen = []
    RewardFunction(Capture())(completions=["a", "b", "c"], answer=["1", "2", "3"])
    assert len(Capture.seen) == 1 and len(Capture.seen[0][0]) == 3


def test_functions_called_with_the_same_batch_share_its_samples_and_items():
    Capture.seen = []
    first, second = RewardFunction(Capture()), RewardFunction(Capture(), name="again")
    kwargs = {"prompts": ["p1", "p2"], "completions": ["a", "b"], "answer": ["A", "B"]}
    first(**kwargs)
    second(**kwargs)  # TRL passes every function the same lists
    (samples_1, items_1), (samples_2, items_2) = Capture.seen
    assert samples_1[0] is samples_2[0] and items_1[0] is items_2[0]


def test_a_batch_changed_in_place_is_graded_again():
    (func,) = reward_funcs(QUIZ)
    completions, answer = ["Answer: Paris"], ["Paris"]
    assert func(completions=completions, answer=answer) == [pytest.approx(1.0)]
    completions[0] = "Paris"
    assert func(completions=completions, answer=answer) == [pytest.approx(0.8)]
    answer[0] = "Lyon"
    assert func(completions=completions, answer=answer) == [pytest.approx(0.0)]
    chat = [[{"role": "assistant", "content": "Answer: Lyon"}]]
    assert func(completions=chat, answer=answer) == [pytest.approx(1.0)]
    chat[0][0]["content"] = "Paris"  # a message edited in place: chat samples are never reused
    assert func(completions=chat, answer=answer) == [pytest.approx(0.0)]


def test_a_missing_column_names_the_columns_there_are():
    func = RewardFunction(Capture(), columns=["solution"])
    with pytest.raises(RftError) as raised:
        func(prompts=["p"], completions=["a"], answer=["A"])
    assert str(raised.value) == (
        "reward function 'capture': dataset column(s) ['solution'] not found; the batch has columns ['answer', 'prompt']"
    )


def test_a_chosen_column_of_the_wrong_length_is_refused():
    with pytest.raises(RftError) as raised:
        RewardFunction(Capture(), columns=["answer"])(completions=["a", "b"], answer=["A"])
    assert str(raised.value) == "reward function 'capture': column 'answer' must hold one value per completion (2), got 1 values"


def test_tool_calls_reach_output_tools():
    completion = [
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"type": "function", "function": {"name": "lookup", "arguments": {"city": "Paris"}}}],
        },
        {"role": "tool", "name": "lookup", "content": "France"},
        {"role": "assistant", "content": "Answer: France"},
    ]
    sample = to_sample(completion)
    assert sample.output_text == "Answer: France"  # the last assistant message
    assert sample.output_tools == [{"type": "function", "function": {"name": "lookup", "arguments": '{"city": "Paris"}'}}]
    # ... and a spec can read them.
    spec = {"type": "string_check", "input": "{{ sample.output_tools[0].function.name }}", "reference": "lookup"}
    (func,) = reward_funcs(spec)
    assert func(completions=[completion, [{"role": "assistant", "content": "no tools"}]]) == [1.0, 0.0]


def test_string_arguments_are_kept():
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}
    assert to_sample([{"role": "assistant", "content": None, "tool_calls": [call]}]).output_tools == [call]


# --- statuses, None and logging -----------------------------------------------------------------

MULTI_TASK = {
    "name": "tasks",
    "type": "multi",
    "weights": {"capital": 1, "arithmetic": 1},
    "graders": {"capital": {"type": "only_for", "task": "capital"}, "arithmetic": {"type": "only_for", "task": "arithmetic"}},
}


def test_not_applicable_becomes_none(test_registry):
    capital, arithmetic = reward_funcs(MULTI_TASK, split=True, registry=test_registry)
    kwargs = {"completions": ["Paris", "4", "5"], "task": ["capital", "arithmetic", "poetry"], "answer": ["Paris", "4", "x"]}
    assert capital(**kwargs) == [1.0, None, None]
    assert arithmetic(**kwargs) == [None, 1.0, None]
    # The composite applies wherever one component does; a row no grader applies to is None.
    (composite,) = reward_funcs(MULTI_TASK, registry=test_registry)
    assert composite(**kwargs) == [1.0, 1.0, None]


def test_failures_give_zero_and_are_logged(test_registry):
    metrics: dict[str, list[float]] = {}
    extra: dict[str, list[Any]] = {}
    (func,) = reward_funcs({"type": "broken"}, registry=test_registry)
    rewards = func(
        completions=["unparseable", "slow", "other", "other"],
        log_metric=lambda name, value: metrics.setdefault(name, []).append(value),
        log_extra=lambda column, values: extra.setdefault(column, []).extend(values),
    )
    assert rewards == [0.0, 0.0, 0.0, 0.0]
    assert metrics == {
        "rewards/broken/frac_parse_error": [0.25],
        "rewards/broken/frac_timeout": [0.25],
        "rewards/broken/frac_error": [0.5],
        "rewards/broken/frac_not_applicable": [0.0],
    }
    assert extra == {"broken/status": ["parse_error", "timeout", "error", "error"]}


def test_sub_rewards_are_logged_by_path(test_registry):
    spec = {
        "name": "outer",
        "type": "multi",
        "graders": {"quiz": QUIZ, "capital": {"type": "only_for", "task": "capital"}},
    }
    metrics: dict[str, float] = {}
    extra: dict[str, list[Any]] = {}
    (func,) = reward_funcs(spec, registry=test_registry)
    func(
        completions=["Answer: Paris", "Paris"],
        answer=["Paris", "Paris"],
        task=["capital", "poetry"],
        log_metric=metrics.__setitem__,
        log_extra=extra.__setitem__,
    )
    assert metrics["rewards/outer/quiz/mean"] == pytest.approx(0.9)
    assert metrics["rewards/outer/quiz.format/mean"] == 0.5
    assert metrics["rewards/outer/quiz.exact/mean"] == 1.0
    assert metrics["rewards/outer/capital/mean"] == 1.0  # the not-applicable row is left out
    assert extra["outer/capital"] == [1.0, None]
    assert extra["outer/quiz.format"] == [1.0, 0.0]
    assert extra["outer/status"] == ["ok", "ok"]


def test_logging_can_be_turned_off():
    calls = []
    (func,) = reward_funcs(QUIZ, log=False)
    func(completions=["x"], answer=["x"], log_metric=lambda *a: calls.append(a), log_extra=lambda *a: calls.append(a))
    assert calls == []


# --- async graders ------------------------------------------------------------------------------


def test_async_graders_give_async_functions(test_registry):
    spec = {"type": "multi", "graders": {"judge": {"type": "judge"}, "exact": QUIZ["graders"]["exact"]}}
    judge, exact = reward_funcs(spec, split=True, registry=test_registry)
    assert isinstance(judge, AsyncRewardFunction) and inspect.iscoroutinefunction(judge.__call__)
    assert type(exact) is RewardFunction and not inspect.iscoroutinefunction(exact.__call__)
    (composite,) = reward_funcs(spec, registry=test_registry)
    assert isinstance(composite, AsyncRewardFunction)  # a multi with an async component is async


def test_trl_detects_the_async_functions(test_registry):
    trl_utils = pytest.importorskip("trl.trainer.utils")
    spec = {"type": "multi", "graders": {"judge": {"type": "judge"}, "exact": QUIZ["graders"]["exact"]}}
    assert [trl_utils.is_async_callable(f) for f in reward_funcs(spec, split=True, registry=test_registry)] == [True, False]


def test_async_function_grades_concurrently_and_never_raises(test_registry):
    (judge,) = reward_funcs({"type": "judge"}, registry=test_registry)
    Judge.most_in_flight = 0
    rewards = asyncio.run(judge(completions=["Paris", "Lyon", "boom", "Paris"]))
    assert rewards == [0.5, 0.0, 0.0, 0.5]
    assert Judge.most_in_flight == 4


def test_async_concurrency_limit(test_registry):
    (judge,) = reward_funcs({"type": "judge"}, registry=test_registry, max_concurrency=2)
    Judge.most_in_flight = 0
    assert asyncio.run(judge(completions=["Paris"] * 6)) == [0.5] * 6
    assert Judge.most_in_flight == 2


# --- pickling and dependencies ------------------------------------------------------------------


def test_reward_functions_pickle(test_registry):
    spec = {**MULTI_TASK, "graders": {**MULTI_TASK["graders"], "quiz": QUIZ}}
    funcs = reward_funcs(spec, split=True, registry=test_registry) + reward_funcs(QUIZ)
    kwargs = {"completions": ["Answer: Paris"], "answer": ["Paris"], "task": ["capital"]}
    for func in funcs:
        copy = pickle.loads(pickle.dumps(func))
        assert copy.__name__ == func.__name__
        assert copy(**kwargs) == func(**kwargs)


def test_the_module_imports_without_trl_and_train_says_what_to_install(monkeypatch):
    for name in ("trl", "datasets"):
        monkeypatch.setitem(sys.modules, name, None)  # `import trl` now raises ImportError
    with pytest.raises(MissingDependencyError) as raised:
        train(QUIZ, "some-model", [{"prompt": "q", "answer": "a"}])
    assert str(raised.value) == (
        "rft_core.integrations.training.train needs the 'trl' package, which is not installed: pip install 'rft-graders[trl]'"
    )
    assert reward_funcs(QUIZ)[0](completions=["Answer: a"], answer=["a"]) == [pytest.approx(1.0)]


def test_rft_core_trl_does_not_import_torch_or_trl():
    import subprocess

    code = "import sys, rft_core.integrations.trl; print(sorted(m for m in ('torch', 'trl', 'datasets') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- datasets -------------------------------------------------------------------------------------


def test_load_dataset_reads_jsonl_and_openai_messages(tmp_path):
    pytest.importorskip("datasets")
    path = tmp_path / "train.jsonl"
    rows = [
        {"prompt": [{"role": "user", "content": "2+2?"}], "answer": "4"},
        {"messages": [{"role": "user", "content": "Capital?"}, {"role": "assistant", "content": "Paris"}], "answer": "Paris"},
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n\n")
    dataset = load_dataset(path)
    assert dataset.column_names == ["prompt", "answer"]
    assert dataset[1]["prompt"] == [{"role": "user", "content": "Capital?"}]


def test_load_dataset_refuses_mixed_prompt_kinds():
    pytest.importorskip("datasets")
    with pytest.raises(RftError) as raised:
        load_dataset([{"prompt": "2+2?"}, {"prompt": [{"role": "user", "content": "3+3?"}]}], "train_data")
    assert str(raised.value) == (
        "train_data: some prompts are text and some chat messages; use one kind for the whole dataset"
    )


def test_load_dataset_errors_name_the_row(tmp_path):
    pytest.importorskip("datasets")
    path = tmp_path / "train.jsonl"
    path.write_text('{"prompt": "x"}\n{"answer": "y"}\n')
    with pytest.raises(RftError) as raised:
        load_dataset(path)
    assert str(raised.value) == f"{path}: line 2: a training row needs a 'prompt' (text or chat messages) or 'messages'"


# --- real training runs (tiny model, CPU) ---------------------------------------------------------

WORDS = ["Answer:", "4", "5", "Paris", "Lyon", "is", "the", "capital"]
TRAIN_ROWS = [
    {"prompt": "What is 2+2?", "answer": "4", "task": "arithmetic"},
    {"prompt": "Capital of France?", "answer": "Paris", "task": "capital"},
    {"prompt": "What is 2+3?", "answer": "5", "task": "arithmetic"},
    {"prompt": "Capital of Italy?", "answer": "Rome", "task": "capital"},
]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A random 2-layer Llama with a word-level tokenizer over a handful of answer words, saved to disk.

    The vocabulary is so small that random completions often contain the answers, so rewards vary.
    """
    pytest.importorskip("trl")
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(0)
    tokenizer = word_tokenizer(
        WORDS,
        "{% for m in messages %}{{ m['role'] }} {{ m['content'] }} {% endfor %}"
        "{% if add_generation_prompt %}assistant {% endif %}",
    )
    config = llama_config(tokenizer, max_position_embeddings=128)
    path = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


class Recorder:
    """Wraps a reward function, keeping every call's arguments and rewards (TRL sees the same name)."""

    def __init__(self, func):
        self.func = func
        self.__name__ = func.__name__
        self.calls: list[tuple[dict[str, Any], list]] = []

    def __call__(self, **kwargs):
        rewards = self.func(**kwargs)
        self.calls.append((kwargs, rewards))
        return rewards


class AsyncRecorder(Recorder):
    async def __call__(self, **kwargs):  # type: ignore[override]
        rewards = await self.func(**kwargs)
        self.calls.append((kwargs, rewards))
        return rewards


def _recorded(funcs):
    return [AsyncRecorder(f) if isinstance(f, AsyncRewardFunction) else Recorder(f) for f in funcs]


def _training_spec(registry: Registry) -> tuple[str, list[str]]:
    """The YAML spec of the training tests, with the optional math / ranked_list components when registered."""
    optional = [name for name in ("math", "ranked_list") if registry.get(name) is not None]  # issues 3 and 4
    weights = ", ".join(f"{name}: 1" for name in optional)
    spec = textwrap.dedent(
        """\
        name: tiny
        type: multi
        weights: {format: 1, answer: 2, capital: 1, style: 1, %s}
        graders:
          format: {type: string_check, operation: startswith, reference: "Answer:"}
          answer: {type: string_check, operation: like, reference: "{{ item.answer }}"}
          capital: {type: only_for, task: capital}
          style:
            type: multi
            calculate_output: 0.5 * short + 0.5 * polite
            graders:
              short: {type: string_check, operation: regex, reference: "^\\\\S+( \\\\S+){0,3}$"}
              polite: {type: string_check, operation: ne, reference: "Lyon Lyon"}
        """
    ) % weights
    if "math" in optional:
        spec += '  math: {type: math, reference: "{{ item.answer }}", timeout: 10}\n'
    if "ranked_list" in optional:
        spec += '  ranked_list: {type: ranked_list, reference: "{{ item.answer }}"}\n'
    return spec, optional


def _check_calls(recorders, registry: Registry) -> None:
    """Every call got the dataset columns, and returned what grading its completions directly gives."""
    rows = {row["prompt"]: row for row in TRAIN_ROWS}
    grader_of = load_spec(yaml_spec(registry), registry).children()
    for recorder in recorders:
        assert recorder.calls, f"TRL never called {recorder.__name__}"
        for kwargs, rewards in recorder.calls:
            assert {"trainer_state", "log_metric", "log_extra", "answer", "task"} <= set(kwargs)
            assert len(rewards) == len(kwargs["completions"])
            for prompt, completion, answer, task, reward in zip(
                kwargs["prompts"], kwargs["completions"], kwargs["answer"], kwargs["task"], rewards
            ):
                text = prompt if isinstance(prompt, str) else prompt[-1]["content"]
                assert (answer, task) == (rows[text]["answer"], rows[text]["task"])  # the row's own columns
                expected = grader_of[recorder.__name__].grade(to_sample(completion), {**rows[text], "prompt": prompt})
                assert reward == (None if expected.status is Status.NOT_APPLICABLE else pytest.approx(expected.reward))


def yaml_spec(registry: Registry) -> dict:
    import yaml

    return yaml.safe_load(_training_spec(registry)[0])


def _logged_means(log_history: list[dict], name: str) -> list[float]:
    return [entry[f"rewards/{name}/mean"] for entry in log_history if f"rewards/{name}/mean" in entry]


def _nanmean(values: list) -> float:
    present = [value for value in values if value is not None]
    return sum(present) / len(present) if present else math.nan


@pytest.mark.integration
@pytest.mark.parametrize("trainer_name", ["grpo", "rloo"])
@pytest.mark.parametrize("chat", [False, True], ids=["text", "chat"])
def test_real_training_run_logs_every_component(trainer_name, chat, tiny_model, test_registry, tmp_path):
    import trl

    spec_path = tmp_path / "spec.yaml"
    spec_text, optional = _training_spec(test_registry)
    spec_path.write_text(spec_text)
    rows = [
        {**row, "prompt": [{"role": "user", "content": row["prompt"]}]} if chat else dict(row) for row in TRAIN_ROWS
    ]
    funcs = reward_funcs(spec_path, split=True, registry=test_registry)
    recorders = _recorded(funcs)
    trainer_class, config_class = {"grpo": (trl.GRPOTrainer, trl.GRPOConfig), "rloo": (trl.RLOOTrainer, trl.RLOOConfig)}[
        trainer_name
    ]
    args = config_class(
        output_dir=str(tmp_path / "out"),
        max_steps=2,
        per_device_train_batch_size=4,
        num_generations=2,
        max_completion_length=6,
        learning_rate=1e-3,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        use_cpu=True,
        reward_weights=reward_weights(spec_path, registry=test_registry),
    )
    trainer = trainer_class(
        model=str(tiny_model), reward_funcs=recorders, args=args, train_dataset=load_dataset(rows)
    )
    trainer.train()

    names = ["format", "answer", "capital", "style", *optional]
    assert [r.__name__ for r in recorders] == names
    _check_calls(recorders, test_registry)
    steps = [entry for entry in trainer.state.log_history if "reward" in entry]
    assert len(steps) == 2
    for name, recorder in zip(names, recorders):
        logged = _logged_means(steps, name)
        expected = [_nanmean(rewards) for _, rewards in recorder.calls]
        assert len(logged) == 2
        for got, want in zip(logged, expected):  # TRL's mean of what we returned (NaN when no row applied)
            assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want, rel=1e-5)
    # Our own metrics, through log_metric: status fractions, and the nested multi's sub-rewards.
    assert all(steps[0][f"rewards/{name}/frac_error"] == 0.0 for name in names[:4])
    assert "rewards/style/short/mean" in steps[0] and "rewards/style/polite/mean" in steps[0]
    assert "rewards/capital/frac_not_applicable" in steps[0]


@pytest.mark.integration
def test_train_with_eval_data_logs_validation_rewards(tiny_model, test_registry, tmp_path):
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(_training_spec(test_registry)[0])
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in TRAIN_ROWS))
    trainer = train(
        spec_path,
        str(tiny_model),
        data,
        eval_data=TRAIN_ROWS[:2],
        output_dir=tmp_path / "out",
        max_steps=2,
        eval_steps=2,
        learning_rate=1e-3,
        num_generations=2,
        per_device_train_batch_size=4,
        max_completion_length=6,
        registry=test_registry,
    )
    history = trainer.state.log_history
    evals = [entry for entry in history if "eval_reward" in entry]
    assert len(evals) == 1 and evals[0]["step"] == 2
    assert {"eval_rewards/format/mean", "eval_rewards/answer/mean", "eval_rewards/style/mean"} <= set(evals[0])
    weights = [1, 2, 1, 1] + [1] * len(_training_spec(test_registry)[1])
    assert trainer.args.reward_weights == pytest.approx([w / sum(weights) for w in weights])


@pytest.mark.integration
def test_train_with_a_formula_that_cannot_split_uses_one_composite_function(tiny_model, tmp_path):
    spec = {**QUIZ, "calculate_output": "min(format, exact)"}
    trainer = train(
        spec,
        str(tiny_model),
        TRAIN_ROWS,
        trainer="rloo",
        output_dir=tmp_path / "out",
        max_steps=1,
        num_generations=2,
        per_device_train_batch_size=4,
        max_completion_length=4,
    )
    assert trainer.reward_func_names == ["quiz"]
    history = trainer.state.log_history
    assert "rewards/quiz/mean" in history[0] and "rewards/quiz/format/mean" in history[0]


# --- rft train --------------------------------------------------------------------------------------


def test_rft_train_refuses_a_missing_data_file(tmp_path, capsys):
    from rft_core.cli import main

    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps(QUIZ))
    assert main(["train", str(spec), "--model", "m", "--data", str(tmp_path / "nope.jsonl")]) == 1
    assert capsys.readouterr().err == f"error: {tmp_path / 'nope.jsonl'}: --data file not found\n"


def test_rft_train_reports_trl_config_errors(tmp_path, capsys):
    pytest.importorskip("trl")
    from rft_core.cli import main

    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps(QUIZ))
    data = tmp_path / "train.jsonl"
    data.write_text(json.dumps(TRAIN_ROWS[0]) + "\n")
    argv = ["train", str(spec), "--model", str(tmp_path / "no-model"), "--data", str(data)]
    assert main(argv + ["--num-generations", "3", "--per-device-train-batch-size", "4"]) == 1
    last_line = capsys.readouterr().err.splitlines()[-1]  # transformers may warn before
    # TRL's own wording, e.g. "generation_batch_size (4) must be divisible by num_generations (3)."
    assert last_line.startswith("error: rft train (grpo): ") and "num_generations (3)" in last_line


@pytest.mark.integration
def test_rft_train_command(tiny_model, tmp_path, capsys):
    from rft_core.cli import main

    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps(QUIZ))
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in TRAIN_ROWS))
    out = tmp_path / "trained"
    argv = ["train", str(spec), "--model", str(tiny_model), "--data", str(data), "--eval-data", str(data)]
    argv += ["--trainer", "rloo", "--max-steps", "2", "--num-generations", "2", "--per-device-train-batch-size", "4"]
    argv += ["--max-completion-length", "4", "--learning-rate", "1e-3", "--output-dir", str(out)]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["output_dir"] == str(out) and summary["steps"] == 2
    assert 0.0 <= summary["reward"] <= 1.0 and 0.0 <= summary["eval_reward"] <= 1.0
    assert (out / "config.json").is_file()


@pytest.mark.integration
def test_real_training_run_with_an_async_llm_judge(tiny_model, registry, tmp_path, monkeypatch):
    """A score_model judge (against a local scripted server) is an async reward function TRL awaits."""
    if registry.get("score_model") is None:
        pytest.skip("the score_model grader is not registered")
    import trl

    sys.path.insert(0, str(Path(__file__).parent))
    from judge_server import JudgeServer, completion

    monkeypatch.setenv("RFT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")

    def script(body, number):
        text = json.dumps(body["messages"][-1]["content"])
        return completion(json.dumps({"steps": [], "result": 1 if "Paris" in text else 0}), delay=0.05)

    with JudgeServer(script, lifetime=60) as server:
        spec = {
            "type": "multi",
            "weights": {"judge": 1, "exact": 1},
            "graders": {
                "judge": {
                    "type": "score_model",
                    "model": "judge-model",
                    "input": [{"role": "user", "content": "Is '{{ sample.output_text }}' the answer to {{ item.prompt }}?"}],
                    "base_url": server.base_url,
                    "timeout": 5.0,
                    "cache": False,
                },
                "exact": {"type": "string_check", "operation": "like", "reference": "{{ item.answer }}"},
            },
        }
        funcs = reward_funcs(spec, split=True, registry=registry)
        assert [type(f) for f in funcs] == [AsyncRewardFunction, RewardFunction]
        recorders = _recorded(funcs)
        args = trl.GRPOConfig(
            output_dir=str(tmp_path / "out"), max_steps=2, per_device_train_batch_size=4, num_generations=2,
            max_completion_length=6, logging_steps=1, report_to="none", save_strategy="no", use_cpu=True,
            reward_weights=reward_weights(spec, registry=registry),
        )
        trainer = trl.GRPOTrainer(model=str(tiny_model), reward_funcs=recorders, args=args, train_dataset=load_dataset(TRAIN_ROWS))
        trainer.train()
        judged = [reward for _, rewards in recorders[0].calls for reward in rewards]
        completions = [c for kwargs, _ in recorders[0].calls for c in kwargs["completions"]]
        assert server.count == len(completions) == 8  # one request per completion
        assert server.max_in_flight > 1  # the batch's requests overlapped
        assert judged == [1.0 if "Paris" in c else 0.0 for c in completions]
    steps = [entry for entry in trainer.state.log_history if "reward" in entry]
    assert len(steps) == 2 and all("rewards/judge/mean" in entry and "rewards/exact/mean" in entry for entry in steps)
    assert all(entry["rewards/judge/frac_error"] == 0.0 for entry in steps)


@pytest.mark.integration
def test_the_example_script_trains(tiny_model, tmp_path):
    import subprocess

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_DATASETS_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, "examples/train_grpo.py", "--model", str(tiny_model), "--max-steps", "1"]
    completed = subprocess.run(
        [*command, "--output-dir", str(tmp_path / "out")], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "'rewards/exact/mean'" in completed.stdout + completed.stderr
    assert (tmp_path / "out" / "config.json").is_file()


def test_rft_train_passes_its_options_to_train(tmp_path, monkeypatch, capsys):
    """The command holds no training logic: every option lands in rft_core.integrations.training.train."""
    import rft_core.integrations.training as training_module
    from rft_core.cli import main

    seen = {}

    class FakeTrainer:
        class state:
            global_step = 3
            log_history = [{"reward": 0.5}, {"eval_reward": 0.25}]

        def save_model(self, path):
            seen["saved"] = path

    def fake_train(spec, model, data, **options):
        seen.update(spec=spec, model=model, data=data, **options)
        return FakeTrainer()

    monkeypatch.setattr(training_module, "train", fake_train)
    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps(QUIZ))
    data = tmp_path / "train.jsonl"
    data.write_text("{}\n")
    argv = ["train", str(spec), "--model", "m", "--data", str(data), "--trainer", "rloo", "--max-steps", "3"]
    argv += ["--column", "solution", "--column", "prompt", "--rename", "solution=answer", "--output-dir", str(tmp_path / "o")]
    assert main(argv) == 0
    assert seen["model"] == "m" and seen["data"] == data and seen["trainer"] == "rloo" and seen["max_steps"] == 3
    assert seen["columns"] == ["solution", "prompt"] and seen["rename"] == {"solution": "answer"}
    assert seen["spec"].name == "quiz" and seen["saved"] == str(tmp_path / "o")
    assert json.loads(capsys.readouterr().out) == {"output_dir": str(tmp_path / "o"), "steps": 3, "reward": 0.5, "eval_reward": 0.25}


def test_rft_train_refuses_a_malformed_rename(tmp_path, capsys):
    from rft_core.cli import main

    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps(QUIZ))
    data = tmp_path / "train.jsonl"
    data.write_text("{}\n")
    assert main(["train", str(spec), "--model", "m", "--data", str(data), "--rename", "solution"]) == 1
    assert capsys.readouterr().err == "error: --rename 'solution': write COLUMN=KEY, e.g. --rename solution=answer\n"
