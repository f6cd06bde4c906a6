"""OpenAI fidelity: with openai_strict (and in rft run's OpenAI response) a judge sends OpenAI's
messages verbatim and only the sampling parameters the config sets; checked on the exact request
bodies a real local OpenAI-compatible server received."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from judge_server import JudgeServer, completion
from rft_core import SpecError, load_spec
from rft_core.cli import main as rft_main

INPUT = [
    {"role": "system", "content": "Grade the answer against the reference {{ item.answer }}."},
    {"role": "user", "content": "Answer: {{ sample.output_text }}"},
]
VERBATIM = [
    {"role": "system", "content": "Grade the answer against the reference Paris."},
    {"role": "user", "content": "Answer: Paris"},
]


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.setenv("RFT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with JudgeServer(lifetime=60) as running:
        running.script = lambda body, number: completion(json.dumps({"steps": [], "result": 1}))
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)  # strict specs name no base_url
        yield running


def _score_model(**fields):
    return {"type": "score_model", "name": "judge", "model": "judge-model", "input": INPUT, "range": [0, 1], **fields}


def _sent(body):
    """The request body without the verdict schema (asked for in every mode; tested elsewhere)."""
    return {key: value for key, value in body.items() if key != "response_format"}


@pytest.mark.parametrize(
    ("sampling_params", "model", "sent"),
    [
        (None, "judge-model", {}),
        ({"temperature": 0.3, "max_completions_tokens": 100}, "judge-model", {"temperature": 0.3, "max_tokens": 100}),
        (None, "o4-mini", {}),
        ({"reasoning_effort": "max", "max_completions_tokens": 50}, "o4-mini",
         {"reasoning_effort": "max", "max_completion_tokens": 50}),
    ],
    ids=["nothing_set", "temperature_and_tokens", "reasoning_model", "reasoning_effort_max"],
)
def test_strict_sends_the_prompt_verbatim_and_only_the_set_parameters(server, sampling_params, model, sent):
    spec = {"openai_strict": True, **_score_model(model=model)}
    if sampling_params is not None:
        spec["sampling_params"] = sampling_params
    assert load_spec(spec).grade("Paris", {"answer": "Paris"}).reward == 1.0
    assert _sent(server.requests[0]) == {"model": model, "messages": VERBATIM, **sent}
    assert server.requests[0]["response_format"]["type"] == "json_schema"


def test_a_label_model_in_a_strict_multi_is_verbatim_too(server):
    server.script = lambda body, number: completion(json.dumps({"steps": [], "result": "polite"}))
    spec = {"openai_strict": True, "type": "multi", "calculate_output": "tone", "graders": {"tone": {
        "type": "label_model", "model": "judge-model", "labels": ["polite", "rude"], "passing_labels": ["polite"],
        "input": [{"role": "user", "content": "Is this polite? {{ sample.output_text }}"}]}}}  # fmt: skip
    assert load_spec(spec).grade("Thanks!").reward == 1.0
    assert _sent(server.requests[0]) == {
        "model": "judge-model", "messages": [{"role": "user", "content": "Is this polite? Thanks!"}]
    }  # fmt: skip


def test_a_grader_that_sets_the_field_keeps_it_under_strict(server):
    spec = {"openai_strict": True, "defaults": {"sampling_defaults": True}, **_score_model()}
    load_spec(spec).grade("Paris", {"answer": "Paris"})
    assert (server.requests[0]["temperature"], server.requests[0]["seed"]) == (0, 42)
    assert server.requests[0]["messages"] == VERBATIM


def test_without_strict_the_hardened_defaults_stay(server):
    load_spec(_score_model()).grade("Paris", {"answer": "Paris"})
    body = server.requests[0]
    assert (body["temperature"], body["seed"]) == (0, 42)
    assert body["messages"][0]["content"].startswith("You are a grader.")
    assert body["messages"][1]["content"] == "Answer: <sample>Paris</sample>"


@pytest.mark.parametrize(("output_format", "verbatim"), [("openai", True), ("rft", False)])
def test_rft_run_sends_openai_requests_verbatim(server, tmp_path, capsys, output_format, verbatim):
    spec = tmp_path / "grader.json"
    spec.write_text(json.dumps(_score_model()))
    code = rft_main(["run", str(spec), "--sample", "Paris", "--item", '{"answer": "Paris"}', "--format", output_format])
    assert code == 0, capsys.readouterr().err
    body = server.requests[0]
    assert (_sent(body) == {"model": "judge-model", "messages": VERBATIM}) is verbatim


def test_reasoning_effort_outside_the_sdk_values_is_refused():
    with pytest.raises(SpecError) as caught:
        load_spec(_score_model(sampling_params={"reasoning_effort": "extreme"}))
    assert "reasoning_effort" in str(caught.value) and "'max'" in str(caught.value)


def test_reasoning_effort_takes_exactly_the_installed_sdks_values():
    from typing import get_args

    from openai.types.shared import ReasoningEffort

    from graders.judge.llm_judge import ScoreModel

    sdk = {value for literal in get_args(ReasoningEffort) for value in get_args(literal)}
    sampling_params = get_args(ScoreModel.Config.model_fields["sampling_params"].annotation)[0]  # SamplingParams | None
    ours = set(get_args(get_args(sampling_params.model_fields["reasoning_effort"].annotation)[0]))
    assert ours == sdk


# --- typed content blocks ------------------------------------------------------------------------


def test_typed_content_blocks_are_sent_as_content_parts(server):
    spec = {"openai_strict": True, **_score_model(input=[
        {"role": "system", "content": {"type": "input_text", "text": "Reference: {{ item.answer }}"}},
        {"role": "user", "content": [
            {"type": "input_text", "text": "Answer: {{ sample.output_text }}"},
            {"type": "input_image", "image_url": "{{ item.picture }}", "detail": "low"}]}])}  # fmt: skip
    item = {"answer": "Paris", "picture": "data:image/png;base64,iVBORw0KGgo="}
    assert load_spec(spec).grade("Paris", item).reward == 1.0
    assert server.requests[0]["messages"] == [
        {"role": "system", "content": [{"type": "text", "text": "Reference: Paris"}]},
        {"role": "user", "content": [
            {"type": "text", "text": "Answer: Paris"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}}]},
    ]  # fmt: skip


def test_typed_text_blocks_are_delimited_outside_strict(server):
    spec = _score_model(input=[{"role": "user", "content": [{"type": "input_text", "text": "{{ sample.output_text }}"}]}])
    load_spec(spec).grade("Paris", {})
    messages = server.requests[0]["messages"]
    assert messages[0]["role"] == "system" and messages[0]["content"].startswith("You are a grader.")
    assert messages[1]["content"] == [{"type": "text", "text": "<sample>Paris</sample>"}]


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        ({"type": "input_text"}, "a input_text block needs `text`"),
        ({"type": "input_image", "text": "x"}, "a input_image block needs `image_url`"),
        ({"type": "input_text", "text": "x", "detail": "low"}, "a input_text block takes `text`"),
        ({"type": "input_audio", "text": "x"}, "type: Input should be 'input_text', 'output_text' or 'input_image'"),
        ({"type": "input_image", "image_url": "x", "file_id": "file-1"}, "`file_id` names a file in OpenAI's file store"),
    ],
    ids=["text_missing", "image_url_missing", "detail_on_text", "unknown_type", "file_id"],
)
def test_a_malformed_block_is_a_spec_error_at_its_path(block, problem):
    with pytest.raises(SpecError) as caught:
        load_spec(_score_model(input=[{"role": "user", "content": [block]}]))
    assert any(problem in str(issue) and "input.0.content" in str(issue) for issue in caught.value.issues), [
        str(issue) for issue in caught.value.issues]


# --- the /graders/run response -------------------------------------------------------------------


def test_rft_run_reports_the_judge_model_and_its_cached_tokens(server, tmp_path, capsys):
    server.script = lambda body, number: completion(
        json.dumps({"steps": [], "result": 1}), model="judge-model-2025", prompt_tokens=30, cached_tokens=12
    )
    spec = tmp_path / "grader.json"
    spec.write_text(json.dumps(_score_model()))
    assert rft_main(["run", str(spec), "--sample", "Paris", "--item", '{"answer": "Paris"}']) == 0
    response = json.loads(capsys.readouterr().out)
    assert response["metadata"]["sampled_model_name"] == "judge-model-2025"
    assert response["metadata"]["token_usage"] == 35
    assert response["model_grader_token_usage_per_model"] == {
        "judge-model-2025": {"prompt_tokens": 30, "completion_tokens": 5, "total_tokens": 35, "cached_tokens": 12}
    }


def _bad_formula(tmp_path, **extra):
    spec = tmp_path / "bad.json"
    spec.write_text(json.dumps({"type": "multi", "name": "m", "calculate_output": "a +* (",
                                "graders": {"a": {"type": "string_check", "reference": "x"}}, **extra}))  # fmt: skip
    return spec


def test_rft_run_answers_an_unparseable_formula_with_the_flag(tmp_path, capsys):
    assert rft_main(["run", str(_bad_formula(tmp_path)), "--sample", "x"]) == 0
    response = json.loads(capsys.readouterr().out)
    assert response["reward"] == 0.0
    assert (response["metadata"]["name"], response["metadata"]["type"]) == ("m", "multi")
    assert [flag for flag, value in response["metadata"]["errors"].items() if value is True] == ["formula_parse_error"]


@pytest.mark.parametrize(
    ("argv", "extra"),
    [(["--format", "rft"], {}), ([], {"nfkc": 1})],
    ids=["rft_format_refuses_at_load", "another_problem_is_a_load_error"],
)
def test_other_cases_stay_spec_errors(tmp_path, capsys, argv, extra):
    assert rft_main(["run", str(_bad_formula(tmp_path, **extra)), "--sample", "x", *argv]) == 1
    assert "calculate_output (line 1): formula_parse_error at position 3" in capsys.readouterr().err
