"""The `rft` command never loses data and never hides a failure (issue 15), and reading rows never
crashes it (issue 14, item 4): each reproduction a new user found is a test here."""

from __future__ import annotations

import gzip
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rft_core.cli import specs as cli_specs
from rft_core.kernel import registry as registry_module
from rft_core.cli import main
from rft_core.run.output import resume_record_path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
RFT = [sys.executable, "-m", "rft_core.cli"]

SPEC = """\
type: multi
calculate_output: 0.5 * exact + 0.5 * close
graders:
  exact: {type: string_check, extract: "Answer:\\\\s*(.+)", reference: "{{ item.answer }}"}
  close: {type: fuzzy_match, extract: "Answer:\\\\s*(.+)", reference: "{{ item.answer }}"}
"""
ROWS = [
    {"id": "fr", "question": "Capital of France?", "answer": "Paris", "completions": ["Answer: Paris", "Answer: Lyon"]},
    {"id": "it", "question": "Capital of Italy?", "answer": "Rome", "completions": ["Answer: Rome", "no idea"]},
]


@pytest.fixture(autouse=True)
def default_registry(monkeypatch, registry):
    monkeypatch.setattr(registry_module, "_default", registry)
    return registry


@pytest.fixture
def files(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in ROWS), encoding="utf-8")
    return spec, data


def _rft(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "RFT_LOAD_PLUGINS": "", **env}
    return subprocess.run([*RFT, *args], capture_output=True, text=True, timeout=120, env=environment, cwd=cwd)


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- an output never overwrites an input or another output -----------------------------------


def _link(tmp_path: Path, target: Path, kind: str) -> Path:
    link = tmp_path / f"{kind}-link"
    if kind == "symlink":
        link.symlink_to(target)
    else:
        os.link(target, link)
    return link


@pytest.mark.parametrize(
    "argv, victim, message",
    [
        # rft score spec.yaml data.jsonl -o data.jsonl truncated the data to 0 bytes and exited 0
        pytest.param(["score", "{spec}", "{data}", "-o", "{data}"], "data", "-o {data} is DATA, an input", id="-o data"),
        pytest.param(["score", "{spec}", "{data}", "-o", "{symlink}"], "data",
                     "-o {symlink} is DATA {data} (the same file), an input", id="-o a symlink to the data"),
        pytest.param(["score", "{spec}", "{data}", "-o", "{hardlink}"], "data",
                     "-o {hardlink} is DATA {data} (the same file), an input", id="-o a hard link to the data"),
        pytest.param(["score", "{spec}", "{data}", "-o", "{spec}"], "spec", "-o {spec} is SPEC, an input", id="-o spec"),
        pytest.param(["score", "{spec}", "{data}", "--html", "{data}"], "data", "--html {data} is DATA", id="--html data"),
        pytest.param(["score", "{spec}", "{data}", "-o", "{scores}", "--html", "{scores}"], "scores",
                     "--html {scores} is -o, another output", id="--html onto -o"),
        # rft report s.jsonl --html s.jsonl overwrote the scores with HTML
        pytest.param(["report", "{scores}", "--html", "{scores}"], "scores", "--html {scores} is SCORES, an input",
                     id="report --html scores"),
        pytest.param(["export-openai", "{spec}", "-o", "{spec}"], "spec", "-o {spec} is SPEC", id="export-openai -o spec"),
        pytest.param(["sample", "{data}", "-o", "{data}", "--model", "m"], "data", "-o {data} is DATA", id="sample -o data"),
        pytest.param(["train-rm", "{data}", "-o", "{data}", "--model", "m"], "data", "--output-dir {data} is DATA",
                     id="train-rm -o data"),
    ],
)
def test_an_output_onto_an_input_is_refused_before_anything_is_written(files, tmp_path, capsys, argv, victim, message):
    spec, data = files
    scores = tmp_path / "scores.jsonl"
    assert main(["score", str(spec), str(data), "-o", str(scores), "--no-progress"]) == 0
    paths = {"spec": spec, "data": data, "scores": scores, "symlink": _link(tmp_path, data, "symlink"),
             "hardlink": _link(tmp_path, data, "hardlink")}
    before = {name: path.read_bytes() for name, path in paths.items()}
    capsys.readouterr()
    assert main([part.format(**paths) for part in argv]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: " + message.format(**paths)), error
    assert "nothing was written: choose another output file" in error
    assert {name: path.read_bytes() for name, path in paths.items()} == before
    assert paths[victim].read_bytes()  # still whole, never truncated


def test_the_console_script_refuses_to_score_into_its_data(files):
    spec, data = files
    before = data.read_bytes()
    done = _rft("score", str(spec), str(data), "-o", str(data))
    assert done.returncode == 1
    assert done.stderr == f"error: -o {data} is DATA, an input of this command: writing it would destroy that; " \
                          "nothing was written: choose another output file\n"
    assert data.read_bytes() == before and not resume_record_path(data).exists()


def test_stdout_appended_to_the_data_is_refused(files):
    # `rft score spec data.jsonl >> data.jsonl` would read its own output rows, without end
    spec, data = files
    before = data.read_bytes()
    with open(data, "ab") as stdout:
        done = subprocess.run([*RFT, "score", str(spec), str(data), "--no-progress"], stdout=stdout,
                              stderr=subprocess.PIPE, text=True, timeout=60,
                              env={**os.environ, "PYTHONPATH": str(ROOT), "RFT_LOAD_PLUGINS": ""})
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: stdout /dev/stdout is DATA {data} (the same file), an input")
    assert data.read_bytes() == before


def test_export_openai_replaces_its_output_whole_or_not_at_all(tmp_path, capsys):
    out = tmp_path / "grader.json"
    out.write_text("old\n", encoding="utf-8")
    spec = EXAMPLES / "openai" / "spec.yaml"
    not_portable = tmp_path / "rft_only.yaml"
    not_portable.write_text('type: string_check\nextract: "Answer: (.+)"\nreference: "{{ item.answer }}"\n')
    assert main(["export-openai", str(not_portable), "-o", str(out)]) == 1
    assert out.read_text(encoding="utf-8") == "old\n"  # a failed export leaves the old file
    assert main(["export-openai", str(spec), "-o", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["type"] == "multi"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["grader.json", "rft_only.yaml"]  # no temporary left


# --- input formats -----------------------------------------------------------------------------


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


NOT_JSON_LINES = [
    pytest.param("rows.json", json.dumps(ROWS, indent=1).encode(), "is a JSON array, not JSON Lines",
                 "jq -c '.[]' {path} > {stem}.jsonl", id="a JSON array"),
    pytest.param("rows.json", json.dumps(ROWS).encode() + b"\n", "is a JSON array, not JSON Lines",
                 "jq -c '.[]' {path} > {stem}.jsonl", id="a JSON array on one line"),
    pytest.param("rows.json", json.dumps(ROWS[0], indent=2).encode(), "is one JSON document over several lines",
                 "jq -c . {path} > {stem}.jsonl", id="pretty-printed JSON"),
    pytest.param("rows.csv", b"id,answer,output_text\nfr,Paris,Answer: Paris\n", "is comma-separated (CSV)",
                 "pandas.read_csv('{path}')", id="CSV"),
    pytest.param("rows.tsv", b"id\tanswer\toutput_text\nfr\tParis\tAnswer: Paris\n", "is tab-separated (TSV)",
                 "pandas.read_csv('{path}', sep='\\t')", id="TSV"),
    pytest.param("rows.bin", bytes(range(256)) * 20, "is a binary file", "give the rows as UTF-8 text", id="binary"),
    pytest.param("rows.jsonl.gz", gzip.compress(b'{"answer": "a", "output_text": "a"}\n'), "is gzip-compressed",
                 "gunzip -k {path}", id="gzip"),
    pytest.param("rows.txt", b"Paris\nRome\n", "is not JSON Lines (one JSON object per line): none of its first lines "
                 "is an object (line 1: invalid JSON at column 1: Expecting value)", "", id="plain text"),
]


@pytest.mark.parametrize("name, content, kind, advice", NOT_JSON_LINES)
def test_a_file_that_is_not_json_lines_is_named_in_one_line(files, tmp_path, capsys, name, content, kind, advice):
    # a JSON array, a CSV, binary garbage: exit 0 with every line an error row blamed on the grader
    spec, _ = files
    data = _write(tmp_path / name, content)
    out = tmp_path / "out.jsonl"
    assert main(["score", str(spec), str(data), "-o", str(out), "--no-progress"]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"error: {data}: the data file {kind}")
    assert advice.format(path=data, stem=tmp_path / name.split(".")[0]) in error
    assert error.count("\n") == 1  # one line
    assert not out.exists()


@pytest.mark.parametrize("command", ["audit", "sample", "validate --data", "report"])
def test_every_command_reading_rows_names_a_json_array(files, tmp_path, capsys, command):
    spec, _ = files
    data = _write(tmp_path / "rows.json", json.dumps(ROWS).encode())
    argv = {
        "audit": ["audit", str(spec), str(data)],
        "sample": ["sample", str(data), "-o", str(tmp_path / "out.jsonl"), "--model", "m"],
        "validate --data": ["validate", str(spec), "--data", str(data)],
        "report": ["report", str(data)],
    }[command]
    assert main(argv) == 1
    assert " is a JSON array, not JSON Lines" in capsys.readouterr().err


def test_a_byte_order_mark_does_not_lose_the_first_row(files, tmp_path):
    spec, data = files
    with_bom = _write(tmp_path / "bom.jsonl", b"\xef\xbb\xbf" + data.read_bytes())
    out = tmp_path / "out.jsonl"
    assert main(["score", str(spec), str(with_bom), "-o", str(out), "--no-progress"]) == 0
    assert [(row["id"], row["status"]) for row in _rows(out)] == [("fr", "ok")] * 2 + [("it", "ok")] * 2


def test_an_empty_data_file_is_an_error_unless_allowed(files, tmp_path, capsys):
    spec, _ = files
    empty = _write(tmp_path / "empty.jsonl", b"\n  \n")
    out = tmp_path / "out.jsonl"
    assert main(["score", str(spec), str(empty), "-o", str(out), "--no-progress"]) == 1
    assert capsys.readouterr().err == (
        f"error: {empty}: the data file is empty (no rows): give it one JSON object per line, "
        "or pass --allow-empty to accept it\n"
    )
    assert main(["score", str(spec), str(empty), "-o", str(out), "--no-progress", "--allow-empty"]) == 0
    assert out.read_text() == "" and "no samples scored" in capsys.readouterr().err


# --- reading rows never crashes (issue 14, item 4) ---------------------------------------------

GOOD = b'{"answer": "Paris", "output_text": "Answer: Paris"}'
HOSTILE = [
    (b'{"answer": "Paris", "output_text": "Answer: Paris", "n": ' + b"7" * 5000 + b"}",
     "an integer of more than 4300 digits (more than Python reads as a number): write it as a string"),
    (b'{"answer": "Paris", "output_text": "Answer: Paris", "n": -' + b"9" * 4301 + b"}",
     "an integer of more than 4300 digits (more than Python reads as a number): write it as a string"),
    (b'{"answer": ' + b"[" * 100_000 + b"]" * 100_000 + b', "output_text": "x"}', "invalid JSON: nested too deeply"),
    (b'{"answer": "Paris\xff", "output_text": "Answer: Paris"}', "invalid UTF-8 at byte 17"),
    (b'{"answer": "Pa\x00ris", "output_text": "Answer: Paris"}', "invalid JSON at column 15: Invalid control character"),
    (b'{"answer": "Paris", "output_text": 5}', "sample.output_text must be a string, not int"),
    (b'{"answer": "x", "messages": [{"role": "assistant", "content": [{"text": 5}]}]}',
     "a message content part's 'text' must be a string"),
]


def test_every_line_becomes_a_row_or_an_error_row_and_no_traceback_escapes(files, tmp_path):
    # a 5,000-digit integer crashed rft score with a ValueError traceback and wrote 0 rows
    spec, _ = files
    lines = [GOOD]
    for line, _ in HOSTILE:
        lines += [line, GOOD]
    lines += [
        b'{"id": "\\ud800", "answer": "\\udc00", "output_text": "Answer: \\ud800"}',  # lone surrogates
        b'{"answer": ' + b"[" * 900 + b"1" + b"]" * 900 + b', "output_text": "Answer: 1"}',  # deep but readable
        b'{"answer": "Paris", "output_text": "Answer: ' + b"Paris " * 400_000 + b'"}',  # a 2.4 MB line
        GOOD,
    ]
    data = _write(tmp_path / "hostile.jsonl", b"\n".join(lines) + b"\n")
    out = tmp_path / "out.jsonl"
    done = _rft("score", str(spec), str(data), "-o", str(out), "--no-progress")
    assert "Traceback" not in done.stderr and "unexpected" not in done.stderr
    assert done.returncode == 0, done.stderr  # errors on a third of the rows: reported, under the default limit
    rows = _rows(out)
    assert [row["index"] for row in rows] == list(range(len(lines)))
    errors = {row["line"]: row["reason"] for row in rows if row["status"] == "error"}
    assert errors == {2 * number + 2: f"line {2 * number + 2}: {reason}" for number, (_, reason) in enumerate(HOSTILE)}
    good = [row for row in rows if row["index"] % 2 == 0 and row["index"] < 2 * len(HOSTILE) + 1]
    assert [row["reward"] for row in good] == [1.0] * (len(HOSTILE) + 1)  # the rows around each bad one
    assert rows[-4]["id"] == "\ud800" and rows[-4]["status"] == "ok"  # written as the escape, read back the same
    assert rows[-1]["reward"] == 1.0
    assert f"line 2: {HOSTILE[0][1]}" in done.stderr  # the console names the reasons


# --- exit codes ----------------------------------------------------------------------------------


def test_help_documents_the_exit_codes_and_the_positional_arguments(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for line in ("  0    every row graded", "  1    usage, spec or data error", "  2    rft score: samples could not "
                 "be graded", "  130  interrupted (Ctrl-C)"):
        assert line in text
    assert main(["score", "--help"]) == 0
    text = capsys.readouterr().out
    assert "the grader spec (YAML or JSON" in text and "model outputs to grade (JSON Lines" in text
    assert "exit codes:" in text and "--max-error-rate SHARE" in text
    documented = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert "## Exit codes" in documented and "| 130 | interrupted" in documented


def test_version(capsys):
    from importlib.metadata import version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"rft {version('rft-graders')}\n"


def test_a_usage_error_exits_1(capsys):
    assert main(["score", "only-a-spec.yaml"]) == 1
    assert "the following arguments are required: data" in capsys.readouterr().err
    assert main(["score", "s.yaml", "d.jsonl", "--max-error-rate", "5"]) == 1
    assert "must be a share from 0 to 1 (0.05 is 5%), not '5'" in capsys.readouterr().err


TYPO_SPEC = SPEC.replace('reference: "{{ item.answer }}"}', 'reference: "{{ item.anwser }}"}', 1)
TYPO_REASON = ("invalid_variable: item.anwser in template '{{ item.anwser }}': no key 'anwser' "
               "(keys: id, question, answer)")


def test_a_template_typo_exits_2_and_the_console_names_the_reason(files, tmp_path):
    # the root showed ok 100% and rft score exited 0; the reason was only in the output file
    _, data = files
    spec = tmp_path / "typo.yaml"
    spec.write_text(TYPO_SPEC, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    done = _rft("score", str(spec), str(data), "-o", str(out), "--no-progress")
    assert done.returncode == 2, done.stderr
    assert f"  exact: error x3: {TYPO_REASON}" in done.stderr.splitlines()
    assert done.stderr.endswith(
        "error: samples could not be graded (exit code 2; see the reasons above):\n"
        "  exact: none of its 4 samples could be graded (error 75.0%, parse_error 25.0%)\n"
    )
    assert len(_rows(out)) == 4  # the output is complete all the same


def test_a_missing_key_in_some_rows_only_is_a_spec_level_failure(files, tmp_path, capsys):
    spec, data = files
    rows = [*ROWS, {"id": "x", "question": "?", "completions": ["Answer: ?"]}]  # this row has no answer
    data.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    assert main(["score", str(spec), str(data), "-o", str(tmp_path / "out.jsonl"), "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert "  exact: 1 of its samples failed because a template names a key the data does not have" in error
    assert main(["score", str(spec), str(data), "-o", str(tmp_path / "out.jsonl"), "--no-progress",
                 "--max-error-rate", "0.5"]) == 0  # an explicit limit replaces the default rule


@pytest.mark.parametrize("rate, code", [("0.2", 2), ("0.25", 0), ("1", 0)])
def test_max_error_rate(files, tmp_path, rate, code, capsys):
    spec, data = files  # "no idea" has no answer line: exact and close are parse_error on 1 of 4 samples
    assert main(["score", str(spec), str(data), "-o", str(tmp_path / "o.jsonl"), "--no-progress",
                 "--max-error-rate", rate]) == code
    if code:
        assert "  exact: 25.0% of its samples could not be graded (parse_error 25.0%), more than --max-error-rate 0.2" \
            in capsys.readouterr().err


def test_an_unreachable_judge_exits_2_with_its_reason_on_the_console(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    spec = tmp_path / "judge.yaml"
    spec.write_text(json.dumps({
        "type": "score_model", "model": "judge", "base_url": f"http://127.0.0.1:{port}/v1", "api_key": "x",
        "max_retries": 0, "timeout": 5,
        "input": [{"role": "user", "content": "Is {{ sample.output_text }} right? Reference {{ item.answer }}"}],
    }), encoding="utf-8")
    data = _write(tmp_path / "data.jsonl", GOOD + b"\n" + GOOD + b"\n")
    done = _rft("score", str(spec), str(data), "-o", str(tmp_path / "out.jsonl"), "--no-progress",
                RFT_CACHE_DIR=str(tmp_path / "cache"))
    assert done.returncode == 2, done.stderr
    reasons = [line for line in done.stderr.splitlines() if line.startswith("  (root): error x2: ")]
    assert len(reasons) == 1 and "connect" in reasons[0].lower(), done.stderr
    assert "  (root): none of its 2 samples could be graded (error 100.0%)" in done.stderr


def test_ctrl_c_prints_the_exact_resume_command(files, tmp_path):
    spec, _ = files
    data = tmp_path / "big.jsonl"
    data.write_text("".join(json.dumps({"answer": "Paris", "output_text": f"Answer: Paris {n}"}) + "\n"
                            for n in range(200_000)), encoding="utf-8")
    out = tmp_path / "my scores.jsonl"  # a space: the command must quote it
    args = ["score", str(spec), str(data), "-o", str(out), "--no-progress"]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "RFT_LOAD_PLUGINS": ""}
    process = subprocess.Popen([*RFT, *args], stderr=subprocess.PIPE, text=True, env=environment)
    deadline = time.monotonic() + 60
    while not (out.exists() and out.stat().st_size > 0):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    command = shlex.join(["rft", *args, "--resume"])
    assert err.endswith(f"interrupted: the rows scored so far are in {out}; continue with:\n  {command}\n"), err
    assert resume_record_path(out).exists()
    resumed = _rft(*shlex.split(command)[1:])
    assert resumed.returncode == 0, resumed.stderr
    assert len(_rows(out)) == 200_000 and not resume_record_path(out).exists()  # finished: the record is gone


# --- rft sample exits 2 when its requests fail --------------------------------------------------


def test_rft_sample_exits_2_when_every_request_fails(tmp_path, capsys, monkeypatch):
    from judge_server import JudgeServer, error

    monkeypatch.setenv("RFT_CACHE_DIR", str(tmp_path / "cache"))
    data = _write(tmp_path / "prompts.jsonl", b'{"prompt": "capital of France?"}\n{"prompt": "of Italy?"}\n')
    out = tmp_path / "samples.jsonl"
    with JudgeServer(lambda body, number: error(500, "model not loaded"), lifetime=60) as server:
        argv = ["sample", str(data), "-o", str(out), "--model", "m", "-k", "2", "--base-url", server.base_url,
                "--api-key-env", "NO_SUCH_KEY_VARIABLE", "--max-retries", "0", "--no-progress"]
        monkeypatch.setenv("NO_SUCH_KEY_VARIABLE", "x")
        assert main(argv) == 2
    error_text = capsys.readouterr().err
    assert ("error: 4 of 4 samples failed (all); the first: the model server answered HTTP 500: model not loaded "
            f"(see completion_errors in {out})") in error_text
    assert [row["completions"] for row in _rows(out)] == [[None, None]] * 2  # the file says why, too


@pytest.mark.parametrize("failed, rate, expected", [(0, None, None), (3, None, None), (4, None, "4 of 4 samples failed (all)"),
                                                    (1, 0.2, "1 of 4 samples failed (more than --max-error-rate 0.2)"),
                                                    (1, 0.25, None)])
def test_sample_totals_failure(failed, rate, expected):
    from rft_core.integrations.sampling import ItemSamples, SampleTotals

    totals = SampleTotals()
    item = ItemSamples.empty(4)
    item.completions = ["x"] * (4 - failed) + [None] * failed
    item.errors = [None] * (4 - failed) + ["HTTP 500"] * failed
    totals.add(item)
    problem = totals.failure(rate)
    assert problem == (None if expected is None else f"{expected}; the first: HTTP 500")


# --- validate --data ------------------------------------------------------------------------------


def test_validate_with_data_catches_a_template_key_the_data_lacks(files, tmp_path, capsys):
    # `{{ item.anwser }}` passed rft validate
    _, data = files
    spec = tmp_path / "typo.yaml"
    spec.write_text(TYPO_SPEC, encoding="utf-8")
    assert main(["validate", str(spec)]) == 0
    capsys.readouterr()
    assert main(["validate", str(spec), "--data", str(data)]) == 1
    assert capsys.readouterr().err == (
        f"error: {spec}: 1 template problem against the first rows of {data}:\n"
        f"  graders.exact.reference: {TYPO_REASON} (first at data line 1)\n"
    )


def test_validate_with_data_passes_a_good_spec_and_ignores_sample_paths(files, tmp_path, capsys):
    spec, data = files
    assert main(["validate", str(spec), "--data", str(data)]) == 0
    assert capsys.readouterr().out == f"{spec}: ok (multi with 2 sub-graders: exact, close; 4 templates render on " \
                                      f"the first 2 rows of {data})\n"
    json_spec = tmp_path / "json.yaml"  # a sample.* path the outputs lack is a grade, not a spec error
    json_spec.write_text('type: string_check\ninput: "{{ sample.output_json.city }}"\nreference: "{{ item.answer }}"\n')
    assert main(["validate", str(json_spec), "--data", str(data)]) == 0


def test_validate_with_data_reports_an_unreadable_row(files, capsys):
    spec, data = files
    data.write_text(json.dumps(ROWS[0]) + "\n{oops\n", encoding="utf-8")
    assert main(["validate", str(spec), "--data", str(data)]) == 1
    assert "  data line 2: invalid JSON at column 2: Expecting property name enclosed in double quotes" in \
        capsys.readouterr().err


# --- the rest of the list ------------------------------------------------------------------------


def test_an_unexpected_exception_is_one_line_unless_debugging(files, monkeypatch, capsys):
    spec, data = files

    def broken(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli_specs, "_validate", broken)
    monkeypatch.delenv("RFT_DEBUG", raising=False)
    assert main(["validate", str(spec)]) == 1
    assert capsys.readouterr().err == (
        "error: unexpected ZeroDivisionError: division by zero\n"
        "(a bug in rft or a plugin: run again with --debug or RFT_DEBUG=1 for the traceback, and report it)\n"
    )
    for argv, variable in ((["--debug", "validate", str(spec)], None), (["validate", str(spec), "--debug"], None),
                           (["validate", str(spec)], "1")):
        if variable:
            monkeypatch.setenv("RFT_DEBUG", variable)
        assert main(argv) == 1
        error = capsys.readouterr().err
        assert error.startswith("Traceback (most recent call last):") and "ZeroDivisionError" in error


def test_reasons_print_the_pattern_as_written(files, tmp_path):
    # reasons printed 'Answer:\\s*(.+)' with doubled backslashes
    spec, data = files
    done = _rft("score", str(spec), str(data), "-o", str(tmp_path / "out.jsonl"), "--no-progress")
    assert "  exact: parse_error x1: extract pattern 'Answer:\\s*(.+)' found no answer in the input" in \
        done.stderr.splitlines()
    assert "\\\\" not in done.stderr
    row = _rows(tmp_path / "out.jsonl")[3]
    assert row["sub_rewards"]["exact"]["reason"] == r"extract pattern 'Answer:\s*(.+)' found no answer in the input"


def test_ray_auto_without_a_cluster_is_said_in_our_words():
    from rft_core.kernel.errors import RftError
    from rft_core.run.ray_backend import _connect

    class NoCluster:  # what ray.init(address="auto") raises when it finds no cluster
        @staticmethod
        def init(**options):
            raise ConnectionError("Could not find any running Ray instance. Please specify the one to connect to by "
                                  "setting `--address` flag or `RAY_ADDRESS` environment variable.")

    with pytest.raises(RftError) as caught:
        _connect(NoCluster, "auto")
    assert str(caught.value).startswith("--ray-address auto: no Ray cluster is running on this machine")
    assert "`--address`" not in str(caught.value)


def test_ray_address_auto_without_a_cluster_speaks_our_words(files, tmp_path):
    pytest.importorskip("ray")
    import psutil

    if any(process.info["name"] == "gcs_server" for process in psutil.process_iter(["name"])):
        pytest.skip("a Ray cluster runs on this machine (another test run's): `auto` would find it")
    spec, data = files
    done = _rft("score", str(spec), str(data), "--backend", "ray", "--ray-address", "auto", "--no-progress",
                RAY_ADDRESS="", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("error: --ray-address auto: no Ray cluster is running on this machine: start one "
                                  "(`ray start --head`)"), done.stderr
    assert "--address" not in done.stderr.replace("--ray-address", "")


def test_the_gene_ranking_alias_path_is_relative_to_the_spec(tmp_path):
    spec = EXAMPLES / "gene_ranking" / "spec.yaml"
    header = spec.read_text(encoding="utf-8").split("\nrft: 1", 1)[0]
    assert "relative\n# to this spec's folder, not to the working directory" in header
    assert "the spec's alias file path is relative to the spec's\nown folder" in \
        (ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8")
    done = _rft("validate", str(spec), cwd=tmp_path)  # from another folder: the alias file is found
    assert done.returncode == 0, done.stderr


def test_the_openai_example_goes_through_export_openai(tmp_path):
    spec, data = EXAMPLES / "openai" / "spec.yaml", EXAMPLES / "openai" / "data.jsonl"
    assert _rft("validate", "--openai", str(spec)).returncode == 0
    grader = tmp_path / "grader.json"
    done = _rft("export-openai", str(spec), "-o", str(grader))
    assert done.returncode == 0, done.stderr
    exported = json.loads(grader.read_text(encoding="utf-8"))
    assert exported["calculate_output"] == "0.8 * exact + 0.2 * close"
    assert {key: child["type"] for key, child in exported["graders"].items()} == {
        "exact": "string_check", "close": "text_similarity"}
    # the exported JSON scores the data as the spec does
    ours, theirs = tmp_path / "ours.jsonl", tmp_path / "theirs.jsonl"
    assert _rft("score", str(spec), str(data), "-o", str(ours), "--no-progress").returncode == 0
    assert _rft("score", str(grader), str(data), "-o", str(theirs), "--no-progress").returncode == 0
    assert [row["reward"] for row in _rows(ours)] == [row["reward"] for row in _rows(theirs)]
    assert {row["reward"] for row in _rows(ours)} >= {1.0, 0.0}  # right and wrong answers both present
