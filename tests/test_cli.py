"""rft_core.cli.app: the `rft` command. It translates arguments and errors; the grading is tested elsewhere."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from rft_core.kernel import registry as registry_module
from rft_core.cli import main
from rft_core.kernel.plugins import DEFAULT_PLUGINS

SPEC = """\
type: multi
graders:
  exact:
    type: string_check
    reference: "{{ item.answer }}"
  close:
    type: fuzzy_match
    reference: "{{ item.answer }}"
calculate_output: 0.5 * exact + 0.5 * close
"""

BAD_SPEC = """\
type: multi
graders:
  exact:
    type: string_chek
    reference: "{{ item.answer }}"
  close:
    type: fuzzy_match
    refrence: "{{ item.answer }}"
"""


@pytest.fixture(autouse=True)
def default_registry(monkeypatch, registry):
    """The CLI builds specs with the process-wide registry: make it a fresh one of the built-ins."""
    monkeypatch.setattr(registry_module, "_default", registry)
    return registry


@pytest.fixture
def spec(tmp_path) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


@pytest.fixture
def bad_spec(tmp_path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_SPEC, encoding="utf-8")
    return path


def _jsonl(tmp_path, *lines: str) -> Path:
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- rft (no command), graders, plugins, schema -------------------------------------


def test_no_command_prints_help(capsys):
    assert main([]) == 1  # a usage error
    assert "usage: rft" in capsys.readouterr().out


def test_graders_lists_types_with_their_plugins(capsys, registry):
    assert main(["graders"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["type", "plugin", "description"]
    rows = {line.split()[0]: line.split()[1] for line in lines[1:]}
    assert rows == {name: entry.plugin for name, entry in registry}
    assert rows["string_check"] == "graders.text.string_check"
    assert rows["multi"] == "graders.multi.multi"
    # each row ends with the grader's one-line description
    for line in lines[1:]:
        name = line.split()[0]
        assert line.endswith(registry.get(name).cls.summary())


def test_plugins_prints_json(capsys):
    assert main(["plugins"]) == 0
    plugins = json.loads(capsys.readouterr().out)
    assert [plugin["name"] for plugin in plugins] == sorted(DEFAULT_PLUGINS)
    assert all(set(plugin) == {"name", "hooks", "version"} for plugin in plugins)


def test_schema_prints_a_valid_json_schema(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    Draft202012Validator.check_schema(schema)
    assert "grader_string_check" in schema["$defs"]


# --- validate ---------------------------------------------------------------------


def test_validate_ok(capsys, spec):
    assert main(["validate", str(spec)]) == 0
    assert capsys.readouterr().out == f"{spec}: ok (multi with 2 sub-graders: exact, close)\n"


def test_validate_ok_leaf(capsys, tmp_path):
    path = tmp_path / "leaf.json"
    path.write_text(json.dumps({"type": "string_check", "reference": "x"}))
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: ok (string_check)\n"


def test_validate_reports_every_error_with_lines(capsys, bad_spec, registry):
    assert main(["validate", str(bad_spec)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0] == f"error: {bad_spec}: 3 problems"
    assert sorted(line.strip().split(": ", 1)[0] for line in lines[1:]) == [
        "graders.close.reference (line 6)",
        "graders.close.refrence (line 8)",
        "graders.exact.type (line 4)",
    ]
    assert (
        f"  graders.exact.type (line 4): unknown grader type 'string_chek' (did you mean 'string_check'?); "
        f"known types: {', '.join(registry.names())}"
    ) in lines


def test_validate_a_missing_file(capsys, tmp_path):
    path = tmp_path / "nope.yaml"
    assert main(["validate", str(path)]) == 1
    assert capsys.readouterr().err == f"error: {path}: 1 problem\n  (root): file not found\n"


# --- validate --openai, export-openai ----------------------------------------------

OPENAI_SPEC = """\
type: multi
graders:
  exact:
    type: string_check
    reference: "{{ item.answer }}"
  close:
    type: text_similarity
    reference: "{{ item.answer }}"
calculate_output: 0.5 * exact + 0.5 * close
"""


def test_validate_openai_ok(capsys, tmp_path):
    path = tmp_path / "openai.yaml"
    path.write_text(OPENAI_SPEC, encoding="utf-8")
    assert main(["validate", "--openai", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: ok (multi with 2 sub-graders: exact, close; valid for OpenAI)\n"


def test_validate_openai_reports_every_violation_with_lines(capsys, spec):
    # the spec is valid for rft, but fuzzy_match is not an OpenAI type
    assert main(["validate", str(spec)]) == 0
    capsys.readouterr()
    assert main(["validate", "--openai", str(spec)]) == 1
    assert capsys.readouterr().err == (
        f"error: {spec} (not portable to OpenAI): 1 problem\n"
        "  graders.close.type (line 7): 'fuzzy_match' is not an OpenAI grader type (OpenAI's: string_check, "
        "text_similarity, score_model, label_model, python, multi); the nearest OpenAI grader is text_similarity "
        "with evaluation_metric fuzzy_match\n"
    )


def test_validate_openai_reports_rft_errors_first(capsys, bad_spec):
    assert main(["validate", "--openai", str(bad_spec)]) == 1
    assert capsys.readouterr().err.startswith(f"error: {bad_spec}: 3 problems\n")


def test_export_openai_prints_openai_json(capsys, tmp_path):
    path = tmp_path / "openai.yaml"
    path.write_text(OPENAI_SPEC, encoding="utf-8")
    assert main(["export-openai", str(path)]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["graders"]["close"] == {
        "type": "text_similarity", "name": "close", "input": "{{ sample.output_text }}",
        "reference": "{{ item.answer }}", "evaluation_metric": "fuzzy_match",
    }
    assert main(["export-openai", str(path), "-o", str(tmp_path / "out.json")]) == 0
    assert json.loads((tmp_path / "out.json").read_text(encoding="utf-8")) == exported


def test_export_openai_refuses_a_non_portable_spec(capsys, spec, tmp_path):
    out = tmp_path / "out.json"
    assert main(["export-openai", str(spec), "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: {spec} (not portable to OpenAI): 1 problem\n  graders.close.type (line 7)")
    assert not out.exists()


# --- score ------------------------------------------------------------------------


def test_score_writes_one_row_per_sample_in_order(capsys, tmp_path, spec):
    data = _jsonl(
        tmp_path,
        json.dumps({"id": "a", "output_text": "Paris", "answer": "Paris"}),
        json.dumps({"id": "b", "completions": ["Paris", "Lyon"], "answer": "Paris"}),
        json.dumps({"id": "c", "item": {"answer": "Rome"}, "sample": "Rome"}),
    )
    out = tmp_path / "out.jsonl"
    assert main(["score", str(spec), str(data), "-o", str(out), "--no-progress"]) == 0
    rows = _rows(out)
    assert [(row["index"], row.get("id"), row.get("sample_index"), row["status"]) for row in rows] == [
        (0, "a", None, "ok"),
        (1, "b", 0, "ok"),
        (1, "b", 1, "ok"),
        (2, "c", None, "ok"),
    ]
    assert [row["reward"] for row in rows][:2] == [1.0, 1.0]
    assert rows[2]["reward"] < 1.0
    assert set(rows[0]) == {"index", "id", "reward", "status", "reason", "sub_rewards", "errors", "execution_time"}
    assert set(rows[0]["sub_rewards"]) == {"exact", "close"}
    captured = capsys.readouterr()
    assert captured.out == ""  # the rows went to the file
    assert "mean reward" in captured.err
    assert "samples     4" in captured.err
    assert "statuses    ok 4" in captured.err


def test_score_to_stdout(capsys, tmp_path, spec):
    data = _jsonl(
        tmp_path, json.dumps({"output_text": "x", "answer": "x"}), json.dumps({"output_text": "y", "answer": "x"})
    )
    assert main(["score", str(spec), str(data), "--no-progress"]) == 0
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert [(row["index"], row["reward"]) for row in rows] == [(0, 1.0), (1, 0.0)]
    assert "mean reward 0.5000" in captured.err


def test_score_records_a_bad_line_and_goes_on(capsys, tmp_path, spec):
    data = _jsonl(
        tmp_path,
        json.dumps({"output_text": "Paris", "answer": "Paris"}),
        "{not json",
        json.dumps({"output_text": "Paris", "answer": "Paris"}),
    )
    out = tmp_path / "out.jsonl"
    assert main(["score", str(spec), str(data), "-o", str(out), "--no-progress"]) == 0
    rows = _rows(out)
    assert [row["status"] for row in rows] == ["ok", "error", "ok"]
    bad = rows[1]
    assert (bad["index"], bad["line"], bad["reward"], bad["errors"]) == (1, 2, 0.0, {".": "sample_parse_error"})
    assert bad["reason"].startswith("line 2: invalid JSON at column ")
    err = capsys.readouterr().err
    assert "statuses    error 1, ok 2" in err


def test_score_fail_fast(capsys, tmp_path, spec):
    data = _jsonl(tmp_path, json.dumps({"output_text": "a", "answer": "a"}), "[1]", json.dumps({"output_text": "b"}))
    out = tmp_path / "out.jsonl"
    assert main(["score", str(spec), str(data), "-o", str(out), "--fail-fast", "--no-progress"]) == 1
    assert capsys.readouterr().err == f"error: {data}: line 2: a row must be a JSON object, not list\n"
    # what was scored before the stop is kept
    assert [row["index"] for row in _rows(out)] == [0]


@pytest.mark.parametrize(
    ("threshold", "line"),
    [
        # the sample's reward is 0.5 * 0 + 0.5 * 0.909..., about 0.45
        ("0.45", "pass rate   100.0% (ok and reward >= 0.45)"),
        ("0.5", "pass rate   0.0% (ok and reward >= 0.5)"),
        # 0 is a threshold, not "unset"
        ("0", "pass rate   100.0% (ok and reward >= 0)"),
    ],
    ids=["below", "above", "zero"],
)
def test_score_pass_threshold(capsys, tmp_path, spec, threshold, line):
    data = _jsonl(tmp_path, json.dumps({"output_text": "Pariss", "answer": "Paris"}))
    out = str(tmp_path / "out.jsonl")
    assert main(["score", str(spec), str(data), "-o", out, "--pass-threshold", threshold, "--no-progress"]) == 0
    assert line in capsys.readouterr().err.splitlines()


def test_score_takes_the_spec_pass_threshold(capsys, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("type: text_similarity\nreference: '{{ item.answer }}'\npass_threshold: 0.8\n")
    data = _jsonl(tmp_path, json.dumps({"output_text": "Pariss", "answer": "Paris"}))
    assert main(["score", str(spec), str(data), "-o", str(tmp_path / "out.jsonl"), "--no-progress"]) == 0
    assert "pass rate   100.0% (ok and reward >= 0.8)" in capsys.readouterr().err.splitlines()


def test_score_a_missing_data_file(capsys, tmp_path, spec):
    data = tmp_path / "nope.jsonl"
    assert main(["score", str(spec), str(data), "--no-progress"]) == 1
    assert capsys.readouterr().err == f"error: {data}: data file not found\n"


def test_score_to_an_unwritable_place(capsys, tmp_path, spec):
    data = _jsonl(tmp_path, json.dumps({"output_text": "x", "answer": "x"}))
    out = tmp_path / "no" / "such" / "folder" / "out.jsonl"
    assert main(["score", str(spec), str(data), "-o", str(out), "--no-progress"]) == 1
    assert capsys.readouterr().err == f"error: {out}: cannot write the output: No such file or directory\n"


def test_score_with_an_invalid_spec(capsys, tmp_path, bad_spec):
    data = _jsonl(tmp_path, json.dumps({"output_text": "x"}))
    out = tmp_path / "out.jsonl"
    assert main(["score", str(bad_spec), str(data), "-o", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad_spec}: 3 problems\n")
    assert "graders.close.refrence (line 8): unknown field 'refrence' (did you mean 'reference'?)" in err
    assert not out.exists()  # nothing scored, nothing written


# --- run --------------------------------------------------------------------------


def test_run_prints_openai_run_response(capsys, spec):
    assert main(["run", str(spec), "--sample", "Paris", "--item", '{"answer": "Paris"}']) == 0
    response = json.loads(capsys.readouterr().out)
    assert set(response) == {"reward", "metadata", "sub_rewards", "model_grader_token_usage_per_model"}
    assert response["reward"] == 1.0
    assert response["sub_rewards"] == {"exact": 1.0, "close": 1.0}
    metadata = response["metadata"]
    assert (metadata["name"], metadata["type"], metadata["scores"]) == ("multi", "multi", {"exact": 1.0, "close": 1.0})
    assert not any(metadata["errors"].values())
    assert isinstance(metadata["execution_time"], float)
    assert (metadata["token_usage"], metadata["sampled_model_name"]) == (None, None)


def test_run_format_rft_prints_the_result(capsys, spec):
    assert main(["run", str(spec), "--sample", "Paris", "--item", '{"answer": "Paris"}', "--format", "rft"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["reward"], result["status"]) == (1.0, "ok")
    assert result["sub_rewards"]["exact"] == {"reward": 1.0, "status": "ok", "reason": None}


def test_run_without_an_item(capsys, spec):
    # the spec reads item.answer, which is missing: a graded error, not a crash
    assert main(["run", str(spec), "--sample", "Paris"]) == 0
    errors = json.loads(capsys.readouterr().out)["metadata"]["errors"]
    assert errors["invalid_variable_error"] is True
    assert errors["other_error"] is False
    assert main(["run", str(spec), "--sample", "Paris", "--format", "rft"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["sub_rewards"]["exact"]["status"] == "error"
    assert result["sub_rewards"]["exact"]["reason"].startswith("invalid_variable: item.answer")


@pytest.mark.parametrize(
    ("item", "message"),
    [
        # not JSON at all
        (
            "{answer: Paris}",
            "error: --item is not valid JSON: "
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)\n",
        ),
        # JSON, but not an object
        ('["Paris"]', 'error: --item must be a JSON object, e.g. \'{"answer": "paris"}\'\n'),
        ('"Paris"', 'error: --item must be a JSON object, e.g. \'{"answer": "paris"}\'\n'),
    ],
    ids=["not-json", "list", "string"],
)
def test_run_with_a_bad_item(capsys, spec, item, message):
    assert main(["run", str(spec), "--sample", "Paris", "--item", item]) == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", message)


def test_run_with_an_invalid_spec(capsys, bad_spec):
    assert main(["run", str(bad_spec), "--sample", "x"]) == 1
    assert capsys.readouterr().err.startswith(f"error: {bad_spec}: 3 problems\n")


# --- the console script -----------------------------------------------------------


def _rft_command() -> list[str]:
    """The installed console script: the one beside this Python first (an unrelated `rft` may be on PATH)."""
    beside_python = Path(sys.executable).with_name("rft")
    found = str(beside_python) if beside_python.exists() else shutil.which("rft")
    return [found] if found else [sys.executable, "-m", "rft_core.cli"]


@pytest.mark.integration
def test_the_rft_console_script_works(tmp_path, spec):
    env = {**os.environ, "RFT_LOAD_PLUGINS": ""}
    graders = subprocess.run([*_rft_command(), "graders"], capture_output=True, text=True, env=env, timeout=120)
    assert graders.returncode == 0, graders.stderr
    assert graders.stdout.splitlines()[0].split() == ["type", "plugin", "description"]
    assert "string_check" in graders.stdout

    item = json.dumps({"answer": "Paris"})
    ran = subprocess.run(
        [*_rft_command(), "run", str(spec), "--sample", "Paris", "--item", item],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["reward"] == 1.0

    failed = subprocess.run(
        [*_rft_command(), "validate", str(tmp_path / "nope.yaml")], capture_output=True, text=True, env=env, timeout=120
    )
    assert failed.returncode == 1
    assert failed.stderr == textwrap.dedent(
        f"""\
        error: {tmp_path / "nope.yaml"}: 1 problem
          (root): file not found
        """
    )
