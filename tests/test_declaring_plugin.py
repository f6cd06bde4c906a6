"""A third-party plugin (tests/plugins/declaring_plugin), pip-installed, takes part in OpenAI export,
TRL split weights, the pass rate and the report through its graders' declarations alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from plugin_install import pip_install

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_DIR = Path(__file__).resolve().parent / "plugins" / "declaring_plugin"
RUN_TIMEOUT = 120

LEAF = "requires: [rft-declaring]\ntype: answer_match\nname: exact\nreference: '{{ item.answer }}'\n"
COMPOSITE = """\
requires: [rft-declaring]
type: weighted_sum
weights: {exact: 0.75, loose: 0.25}
parts:
  exact: {type: answer_match, reference: "{{ item.answer }}"}
  loose: {type: answer_match, reference: "{{ item.answer }}", strip: true}
"""
ROWS = [
    {"output_text": "4", "answer": "4"},  # both parts: 1.0
    {"output_text": " 4 ", "answer": "4"},  # only the stripped part: 0.25
    {"output_text": "", "answer": "4"},  # neither, and an empty answer
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The plugin pip-installed (a copy of its directory) into a site dir of its own."""
    return pip_install(PLUGIN_DIR, tmp_path_factory.mktemp("rft-declaring"))


@pytest.fixture
def project(tmp_path):
    (tmp_path / "leaf.yaml").write_text(LEAF)
    (tmp_path / "composite.yaml").write_text(COMPOSITE)
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    return tmp_path


def run(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python ARGS`` seeing the installed plugin (and only it) and this checkout's rft_core."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), "RFT_LOAD_PLUGINS": "rft-declaring"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT)  # fmt: skip


def rft(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run(site, "-m", "rft_core.cli", *args, cwd=cwd)


@pytest.mark.integration
def test_the_plugin_is_imported_from_its_site_dir(site, tmp_path):
    completed = run(site, "-c", "import rft_declaring; print(rft_declaring.__file__)", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert Path(completed.stdout.strip()).is_relative_to(site)


@pytest.mark.integration
def test_a_declared_mapping_validates_and_exports_as_openai_json(site, project):
    validated = rft(site, "validate", "--openai", "leaf.yaml", cwd=project)
    assert validated.returncode == 0, validated.stderr
    exported = rft(site, "export-openai", "leaf.yaml", cwd=project)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout) == {
        "type": "string_check", "name": "exact", "input": "{{ sample.output_text }}", "reference": "{{ item.answer }}",
        "operation": "eq",
    }  # fmt: skip


@pytest.mark.integration
def test_a_field_openai_lacks_and_a_type_without_mapping_are_refused_with_the_plugins_hint(site, project):
    completed = rft(site, "validate", "--openai", "composite.yaml", cwd=project)
    assert completed.returncode != 0
    assert "'weighted_sum' is not an OpenAI grader type" in completed.stderr
    assert "OpenAI has no weighted_sum: write a multi whose calculate_output is the sum" in completed.stderr
    (project / "strip.yaml").write_text(LEAF + "strip: true\n")
    completed = rft(site, "validate", "--openai", "strip.yaml", cwd=project)
    assert completed.returncode != 0
    assert "strip (line 5): OpenAI's string_check has no field 'strip': leave it out or at its default (false)" in (
        completed.stderr
    )


SPLIT = """\
import json
from rft_core.integrations.trl import reward_funcs, reward_weights
parts = reward_funcs("composite.yaml", split=True)
whole = reward_funcs("composite.yaml")[0]
completions, answers = ["4", " 4 ", ""], ["4", "4", "4"]
print(json.dumps({
    "names": [f.__name__ for f in parts],
    "weights": reward_weights("composite.yaml"),
    "parts": [f(completions=completions, answer=answers) for f in parts],
    "whole": whole(completions=completions, answer=answers),
}))
"""


@pytest.mark.integration
def test_declared_weights_split_the_reward_for_trl(site, project):
    completed = run(site, "-c", SPLIT, cwd=project)
    assert completed.returncode == 0, completed.stderr
    got = json.loads(completed.stdout)
    assert got["names"] == ["exact", "loose"]
    assert got["weights"] == [0.75, 0.25]
    assert got["parts"] == [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]
    # TRL's weighted sum of the parts is the composite's reward
    weighted = [sum(w * part[i] for w, part in zip(got["weights"], got["parts"])) for i in range(len(ROWS))]
    assert weighted == got["whole"] == [1.0, 0.25, 0.0]


@pytest.mark.integration
def test_the_declared_pass_threshold_and_report_metric_reach_score_and_report(site, project):
    scored = rft(site, "score", "composite.yaml", "data.jsonl", "-o", "out.jsonl", "--no-progress", cwd=project)
    assert scored.returncode == 0, scored.stderr
    # the composite's pass_threshold (0.5): one of three samples passes
    assert "pass rate   33.3% (ok and reward >= 0.5)" in scored.stderr
    reported = rft(site, "report", "out.jsonl", "--json", "--html", "report.html", cwd=project)
    assert reported.returncode == 0, reported.stderr
    report = json.loads(reported.stdout)
    # both parts' answers: 1, 3 and 0 characters ("4", " 4 ", ""), then 1, 1, 0 once stripped
    assert report["answer_lengths"] == {
        "exact": {"samples": 3, "mean": pytest.approx(4 / 3), "empty": pytest.approx(1 / 3)},
        "loose": {"samples": 3, "mean": pytest.approx(2 / 3), "empty": pytest.approx(1 / 3)},
    }
    assert report["metric_tables"]["answer_lengths"] == {
        "title": "Answer lengths", "columns": {"mean": "mean chars", "empty": "empty"}
    }  # fmt: skip
    html = (project / "report.html").read_text()
    assert '<section id="answer_lengths"><h2>Answer lengths</h2>' in html
    text = rft(site, "report", "out.jsonl", cwd=project)
    assert text.returncode == 0, text.stderr
    table = text.stdout[text.stdout.index("answer_lengths"):].splitlines()
    assert table[0].split() == ["answer_lengths", "samples", "mean", "chars", "empty"]
    assert table[1].split() == ["exact", "3", "1.3333", "0.3333"]
    assert table[2].split() == ["loose", "3", "0.6667", "0.3333"]
