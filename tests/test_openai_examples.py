"""OpenAI's own grader examples (graders guide, RFT guide, RFT cookbook) as fixtures, run unchanged.

Each tests/fixtures/openai/*.json holds an OpenAI grader config verbatim (``grader``), where it
comes from, optional rft spec-level keys it needs (``rft``, with ``rft_why``) and cases: a
sample (``model_sample``, the text OpenAI's /graders/run takes, or a full ``sample``), an item,
the judge's reply when the config has a model grader (served by tests/judge_server.py), and the
expected reward, sub-rewards and OpenAI error flags.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from judge_server import JudgeServer, completion

from rft_core import SpecError, Status, load_spec
from rft_core.cli import main as rft_main
from rft_core.integrations.openai_compat import export_openai, openai_issues, run_response

FIXTURES = Path(__file__).parent / "fixtures" / "openai"
EXAMPLES = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(FIXTURES.glob("*.json"))}
CASES = [(name, index) for name, example in EXAMPLES.items() for index in range(len(example["cases"]))]
MODEL_TYPES = ("score_model", "label_model")
RUN_KEYS = {"reward", "metadata", "sub_rewards", "model_grader_token_usage_per_model"}
METADATA_KEYS = {"name", "type", "errors", "execution_time", "scores", "token_usage", "sampled_model_name"}


def uses_a_judge(grader: dict[str, Any]) -> bool:
    return grader["type"] in MODEL_TYPES or any(uses_a_judge(child) for child in grader.get("graders", {}).values())


def spec_of(example: dict[str, Any]) -> dict[str, Any]:
    """The grader JSON unchanged, with the spec-level keys rft needs beside it."""
    return {**example.get("rft", {}), **example["grader"]}


@pytest.fixture
def judge(tmp_path, monkeypatch):
    """A judge server the unchanged configs reach through $OPENAI_BASE_URL; ``judge.reply`` is its answer."""
    monkeypatch.setenv("RFT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with JudgeServer(lifetime=60) as server:
        server.reply = '{"steps": [], "result": 1}'
        server.script = lambda body, number: completion(server.reply, model=body["model"])  # echoes the model asked
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        yield server


def sample_of(case: dict[str, Any]) -> Any:
    return case["model_sample"] if "model_sample" in case else case["sample"]


def raised_flags(response: dict[str, Any]) -> list[str]:
    return sorted(flag for flag, value in response["metadata"]["errors"].items() if value is True)


@pytest.mark.parametrize(("name", "index"), CASES, ids=[f"{name}-{index}" for name, index in CASES])
def test_example_gives_its_expected_reward(judge, name, index):
    example = EXAMPLES[name]
    case = example["cases"][index]
    judge.reply = case.get("judge", judge.reply)
    grader = load_spec(spec_of(example))
    result = grader.grade(sample_of(case), case["item"])
    response = run_response(grader, result, 0.0)
    assert response["reward"] == pytest.approx(case["reward"]), (case["comment"], result)
    for key, reward in case.get("sub_rewards", {}).items():
        assert response["sub_rewards"][key] == pytest.approx(reward), (case["comment"], key)
    assert raised_flags(response) == sorted(case.get("errors", [])), (case["comment"], result)


def test_every_example_with_a_judge_has_judged_cases():
    for name, example in EXAMPLES.items():
        if uses_a_judge(example["grader"]):
            assert all("judge" in case for case in example["cases"]), name


# one rft run per example whose cases have a text sample (all that /graders/run takes)
RUNNABLE = list({
    name: (name, index) for name, index in reversed(CASES) if "model_sample" in EXAMPLES[name]["cases"][index]
}.values())


@pytest.mark.parametrize(("name", "index"), RUNNABLE, ids=[f"{name}-{index}" for name, index in RUNNABLE])
def test_rft_run_prints_openais_response(judge, tmp_path, capsys, name, index):
    example = EXAMPLES[name]
    case = example["cases"][index]
    judge.reply = case.get("judge", judge.reply)
    spec = tmp_path / f"{name}.json"
    spec.write_text(json.dumps(spec_of(example)), encoding="utf-8")
    assert rft_main(["run", str(spec), "--sample", case["model_sample"], "--item", json.dumps(case["item"])]) == 0
    response = json.loads(capsys.readouterr().out)
    assert set(response) == RUN_KEYS
    assert set(response["metadata"]) == METADATA_KEYS
    assert response["metadata"]["type"] == example["grader"]["type"]
    assert response["metadata"]["name"] == example["grader"].get("name", example["grader"]["type"])
    assert response["reward"] == pytest.approx(case["reward"])
    assert set(response["sub_rewards"]) == set(example["grader"].get("graders", {}))
    assert raised_flags(response) == sorted(case.get("errors", []))
    if uses_a_judge(example["grader"]) and "invalid_variable_error" not in case.get("errors", []):
        assert response["metadata"]["token_usage"] == 25  # the judge server's 20 prompt + 5 completion tokens


# --- validate --openai, export, openai_strict --------------------------------------------------


def contained(part: Any, whole: Any) -> bool:
    """Every key and value of ``part`` is in ``whole`` (lists element by element)."""
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(key in whole and contained(part[key], whole[key]) for key in part)
    if isinstance(part, list):
        return isinstance(whole, list) and len(part) == len(whole) and all(map(contained, part, whole))
    return part == whole


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_examples_are_portable_and_export_unchanged(name):
    example = EXAMPLES[name]
    spec = spec_of(example)
    target = example.get("target", "fine-tuning")  # where OpenAI runs it: a fine-tuning job, or evals
    assert openai_issues(spec, target=target) == []
    exported = export_openai(spec, target=target)
    assert contained(example["grader"], exported)  # nothing dropped or changed, only required fields written out
    assert export_openai(exported, target=target) == exported
    if target == "fine-tuning":
        load_spec({**spec, "openai_strict": True})  # the strict mode accepts every fine-tuning example
    else:  # openai_strict holds a spec to a fine-tuning job's placement
        with pytest.raises(SpecError):
            load_spec({**spec, "openai_strict": True})


REQUESTS = [(name, index) for name, index in CASES if "request" in EXAMPLES[name]["cases"][index]]
ASKED_FOR = {"model", "messages", "response_format"}  # the rest of a request body: sampling parameters


@pytest.mark.parametrize(("name", "index"), REQUESTS, ids=[f"{name}-{index}" for name, index in REQUESTS])
def test_the_judge_receives_what_openai_would_send(judge, tmp_path, capsys, name, index):
    example = EXAMPLES[name]
    case = example["cases"][index]
    judge.reply = case["judge"]
    spec = tmp_path / f"{name}.json"
    spec.write_text(json.dumps(spec_of(example)), encoding="utf-8")
    assert rft_main(["run", str(spec), "--sample", case["model_sample"], "--item", json.dumps(case["item"])]) == 0
    assert json.loads(capsys.readouterr().out)["reward"] == pytest.approx(case["reward"])
    [body] = judge.requests
    assert body["model"] == case["request"]["model"]
    assert body["messages"] == case["request"]["messages"]  # the prompt verbatim, templates filled
    sampling = {key: value for key, value in body.items() if key not in ASKED_FOR}
    assert sampling == {key: value for key, value in case["request"].items() if key not in ASKED_FOR}


def test_export_writes_out_what_openai_requires():
    exported = export_openai(spec_of(EXAMPLES["name_email_multi"]))
    assert exported["name"] == "multi"  # OpenAI requires a name; the guide's example leaves it out
    assert exported["graders"]["email"]["name"] == "email_grader"


def test_cli_validate_openai_and_export_round_trip(tmp_path, capsys):
    example = EXAMPLES["tool_call_multi"]
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(example["grader"]), encoding="utf-8")
    assert rft_main(["validate", "--openai", str(spec)]) == 0
    out = tmp_path / "grader.json"
    assert rft_main(["export-openai", str(spec), "-o", str(out)]) == 0
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert contained(example["grader"], exported)
    case = example["cases"][0]
    assert load_spec(exported).grade(case["sample"], case["item"]).reward == case["reward"]
    capsys.readouterr()


# --- where rft needs more than OpenAI's JSON ------------------------------------------------------


def test_python_example_without_site_packages_reports_the_missing_import():
    # OpenAI's image has rapidfuzz; with site_packages: false only the standard library imports
    example = EXAMPLES["python_rapidfuzz"]
    case = example["cases"][0]
    grader = load_spec({**example["grader"], "site_packages": False})
    response = run_response(grader, grader.grade(case["model_sample"], case["item"]), 0.0)
    assert response["reward"] == 0.0
    assert raised_flags(response) == ["python_grader_runtime_error"]
    assert "No module named 'rapidfuzz'" in response["metadata"]["errors"]["python_grader_runtime_error_details"]


# --- label_model inside multi -------------------------------------------------------------------


def test_label_model_in_multi_grades_a_batch_with_its_0_1_reward(judge):
    example = EXAMPLES["label_model_multi"]
    labels = {"Order A-17 is late, sorry!": "polite", "Order A-17. Whatever.": "rude", "No idea.": "neutral"}

    def script(body, number):
        reply = next(text for text in labels if text in body["messages"][-1]["content"])
        return completion(json.dumps({"steps": [], "result": labels[reply]}))

    judge.script = script
    grader = load_spec(example["grader"])
    results = grader.grade_batch(list(labels), [{"order_id": "A-17"}] * len(labels))
    # 0.6 * tone (1 for polite or neutral, else 0) + 0.4 * order (the id occurs in the reply)
    assert [result.reward for result in results] == pytest.approx([1.0, 0.4, 0.6])
    assert [result.sub_rewards["tone"].metadata["label"] for result in results] == ["polite", "rude", "neutral"]
    assert all(result.status is Status.OK for result in results)
    assert judge.count == 3


def test_label_model_prompt_reaches_the_judge_rendered(judge):
    example = EXAMPLES["label_model_multi"]
    load_spec(example["grader"]).grade("Order A-17 ships today.", {"order_id": "A-17"})
    [request] = judge.requests
    assert request["model"] == "gpt-4o-mini-2024-07-18"
    assert "Reply: <sample>Order A-17 ships today.</sample>" in request["messages"][-1]["content"]


# --- the real CLI, in a subprocess ----------------------------------------------------------------


@pytest.mark.integration
def test_security_review_through_the_rft_command(judge, tmp_path):
    example = EXAMPLES["security_review_multi"]
    case = example["cases"][0]
    judge.reply = case["judge"]
    spec = tmp_path / "security.json"
    spec.write_text(json.dumps(example["grader"]), encoding="utf-8")
    rft = Path(sys.executable).with_name("rft")
    completed = subprocess.run(
        [str(rft), "run", str(spec), "--sample", case["model_sample"], "--item", json.dumps(case["item"])],
        capture_output=True, text=True, timeout=120, env=os.environ.copy(),
    )
    assert completed.returncode == 0, completed.stderr
    response = json.loads(completed.stdout)
    assert response["reward"] == pytest.approx(case["reward"])
    assert response["sub_rewards"] == pytest.approx(case["sub_rewards"])
    assert response["model_grader_token_usage_per_model"] == {
        "gpt-4o-2024-08-06": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25, "cached_tokens": 0}
    }
    assert response["metadata"]["sampled_model_name"] == "gpt-4o-2024-08-06"
    # the judge saw the reference and the model's explanation filled in
    prompt = judge.requests[0]["messages"][-1]["content"]
    assert f"Reference Answer: {case['item']['explanation']}" in prompt
    # rft run answers as OpenAI would: the prompt is sent verbatim (see test_openai_fidelity.py)
    assert "Model Answer: Yes: a dedicated security team handles incidents." in prompt


@pytest.mark.parametrize("effort", ["none", "minimal", "low", "medium", "high", "xhigh"])
def test_every_openai_reasoning_effort_reaches_the_judge(judge, effort):
    grader = dict(EXAMPLES["score_model"]["grader"])
    grader["sampling_params"] = {**grader["sampling_params"], "reasoning_effort": effort}
    assert load_spec(grader).grade("0.9", {"reference_answer": 1.0}).status is Status.OK
    assert judge.requests[0]["reasoning_effort"] == effort
