"""Paths a spec names (rft_core.SpecPath, spec_path, read_named_file): relative ones start from the
spec file's folder, carried in pydantic's validation context, never in a global."""

from __future__ import annotations

import ast
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationInfo, field_validator

import rft_core
from rft_core import Grader, GraderConfig, Result, Runtime, SpecPath, load_spec, read_named_file, spec_path
from rft_core.kernel.paths import spec_context

from plugin_install import pip_install

ROOT = Path(__file__).resolve().parent.parent
KERNEL = ROOT / "rft_core" / "kernel"
SEEN_DURING_LOAD: list[dict[str, object]] = []


class ReadsFile(Grader):
    """Reward 1.0 when the output is the text of the file its config names (read when graded)."""

    type = "reads_file"

    class Config(GraderConfig):
        file: SpecPath = "answer.txt"  # validated like a given value: GraderConfig validates defaults
        notes: str | None = None

        @field_validator("notes")
        @classmethod
        def _read(cls, notes: str | None, info: ValidationInfo) -> str | None:
            """A validator reading a file itself: ``read_named_file`` with the validation's info."""
            if notes is None:
                return None
            SEEN_DURING_LOAD.append(kernel_state())
            return read_named_file(notes, "notes", info)[0]

    def evaluate(self, sample, item):
        return Result(float(sample.output_text == self.config.file.read_text().strip()))


@pytest.fixture
def paths_registry(registry):
    registry.register(ReadsFile, plugin="test")
    return registry


@pytest.fixture
def project(tmp_path, monkeypatch):
    """specs/ holds the spec files and the files they name; the tests run from elsewhere/."""
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "answer.txt").write_text("42\n")
    (specs / "notes.txt").write_text("spec notes")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "answer.txt").write_text("cwd\n")
    monkeypatch.chdir(tmp_path / "elsewhere")
    return tmp_path


def test_a_relative_path_in_a_spec_file_starts_from_its_folder_whatever_the_cwd(project, paths_registry):
    (project / "specs" / "spec.yaml").write_text("type: reads_file\nfile: answer.txt\nnotes: notes.txt\n")
    grader = load_spec(Path("../specs/spec.yaml"), paths_registry)  # the spec named relative to the cwd
    assert grader.config.file == project / "specs" / "answer.txt"
    assert grader.config.file.is_absolute()
    assert grader.config.notes == "spec notes"
    assert grader.grade("42").reward == 1.0


def test_without_a_spec_file_relative_paths_start_from_the_cwd(project, paths_registry):
    assert load_spec({"type": "reads_file"}, paths_registry).config.file == project / "elsewhere" / "answer.txt"
    assert ReadsFile().config.file == project / "elsewhere" / "answer.txt"  # built in Python
    assert ReadsFile(file=project / "specs" / "answer.txt").grade("42").reward == 1.0  # absolute stays
    # a mapping loaded with a runtime starts from the runtime's base folder
    with Runtime(base_folder=project / "specs") as runtime:
        assert load_spec({"type": "reads_file"}, paths_registry, runtime=runtime).grade("42").reward == 1.0
    assert spec_path("x.txt", None) == project / "elsewhere" / "x.txt"


def test_nested_children_of_a_composite_start_from_the_spec_files_folder(project, paths_registry):
    (project / "specs" / "spec.yaml").write_text(
        "type: multi\ncalculate_output: inner\ngraders:\n"
        "  inner:\n    type: multi\n    calculate_output: leaf\n    graders:\n"
        "      leaf: {type: reads_file, file: answer.txt, notes: notes.txt}\n"
    )
    grader = load_spec(project / "specs" / "spec.yaml", paths_registry)
    leaf = grader.children()["inner"].children()["leaf"]
    assert (leaf.config.file, leaf.config.notes) == (project / "specs" / "answer.txt", "spec notes")
    assert grader.grade("42").reward == 1.0


def test_children_given_as_mappings_inherit_the_validation_context(project):
    """A composite's config validated with a spec folder builds its mapping children there too."""
    (project / "specs" / "aliases.tsv").write_text("symbol\taliases\nTP53\tp53\n")
    multi = load_spec({"type": "multi", "graders": {"r": {"type": "string_check", "reference": "x"}}})
    child = {"type": "ranked_list", "reference": "{{ item.gene }}", "aliases_file": "aliases.tsv"}
    config = type(multi).Config.model_validate(
        {"type": "multi", "graders": {"r": child}}, context=spec_context(project / "specs")
    )
    assert config.graders["r"].grade("p53", {"gene": "TP53"}).reward == 1.0
    with pytest.raises(Exception, match=r"alias file 'aliases.tsv' \(resolved to .*elsewhere/aliases.tsv\) not found"):
        type(multi).Config.model_validate({"type": "multi", "graders": {"r": child}})  # no context: the cwd


def test_a_missing_file_is_a_spec_issue_naming_the_path_it_resolved_to(project, paths_registry):
    (project / "specs" / "spec.yaml").write_text("type: reads_file\nnotes: gone.txt\n")
    with pytest.raises(rft_core.SpecError) as caught:
        load_spec(project / "specs" / "spec.yaml", paths_registry)
    [issue] = caught.value.issues
    assert (issue.path, issue.line) == (("notes",), 2)
    assert issue.message == (
        f"notes 'gone.txt' (resolved to {(project / 'specs' / 'gone.txt').resolve()}) not found; "
        "relative paths start from the spec file's folder"
    )


def test_a_pickled_grader_keeps_its_absolute_paths(project, paths_registry, monkeypatch):
    (project / "specs" / "spec.yaml").write_text("type: reads_file\nfile: answer.txt\n")
    data = pickle.dumps(load_spec(project / "specs" / "spec.yaml", paths_registry))
    monkeypatch.chdir(project)  # another working directory (a worker's)
    copy = pickle.loads(data)
    assert copy.config.file == project / "specs" / "answer.txt"
    assert copy.grade("42").reward == 1.0


# --- no hidden global -----------------------------------------------------------------------------


def test_the_spec_folder_lives_in_no_kernel_module_state(project, paths_registry):
    """While a spec loads, no module of rft_core.kernel holds its folder (a ContextVar, a global)."""
    SEEN_DURING_LOAD.clear()
    (project / "specs" / "spec.yaml").write_text("type: reads_file\nnotes: notes.txt\n")
    load_spec(project / "specs" / "spec.yaml", paths_registry)
    [state] = SEEN_DURING_LOAD
    folder = str(project / "specs")
    assert [name for name, value in state.items() if folder in value] == []


def test_no_kernel_module_uses_a_context_variable():
    for path in sorted(KERNEL.glob("*.py")):
        names = {node.id for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Name)}
        names |= {node.attr for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Attribute)}
        assert "ContextVar" not in names, path.name


def kernel_state() -> dict[str, str]:
    """``module.name -> repr`` of every module-level value of rft_core.kernel that could hold a folder
    (strings, paths, containers, the value of a ContextVar)."""
    from contextvars import ContextVar

    state = {}
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("rft_core.kernel") and module is not None:
            for name, value in vars(module).items():
                if isinstance(value, ContextVar):
                    value = value.get(None)
                if isinstance(value, (str, Path, dict, list, set, tuple)):  # where a folder could be kept
                    state[f"{module_name}.{name}"] = repr(value)
    return state


# --- a pip-installed plugin, pickled into another process ------------------------------------------

PLUGIN_DIR = Path(__file__).resolve().parent / "plugins" / "paths_plugin"
NESTED = """\
requires: [rft-paths]
type: multi
calculate_output: inner
graders:
  inner:
    type: multi
    calculate_output: leaf
    graders:
      leaf: {type: file_answer, answer_file: answer.txt}
"""
LOAD_AND_PICKLE = """\
import pickle, sys
from rft_core import load_spec
grader = load_spec("../specs/spec.yaml")
print(grader.children()["inner"].children()["leaf"].config.answer_file)
sys.stdout.flush()
open(sys.argv[1], "wb").write(pickle.dumps(grader))
"""
UNPICKLE_AND_GRADE = """\
import pickle, sys
grader = pickle.loads(open(sys.argv[1], "rb").read())
print(grader.grade("42").reward, grader.grade("41").reward)
"""


@pytest.mark.integration
def test_an_installed_plugins_spec_path_survives_pickling_into_another_process(project, tmp_path_factory):
    """A plugin's SpecPath field, nested two composites deep in a spec named from another folder,
    is absolute once loaded: a process with yet another working directory unpickles and grades it."""
    site = pip_install(PLUGIN_DIR, tmp_path_factory.mktemp("rft-paths"))
    (project / "specs" / "spec.yaml").write_text(NESTED)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), "RFT_LOAD_PLUGINS": "rft-paths"}
    pickled = project / "grader.pkl"

    def python(source: str, cwd: Path) -> str:
        completed = subprocess.run([sys.executable, "-c", source, str(pickled)], cwd=cwd, env=env,
                                   capture_output=True, text=True, timeout=120)  # fmt: skip
        assert completed.returncode == 0, completed.stderr
        return completed.stdout.strip()

    assert python(LOAD_AND_PICKLE, project / "elsewhere") == str(project / "specs" / "answer.txt")
    (project / "worker").mkdir()
    (project / "worker" / "answer.txt").write_text("41\n")  # what a cwd-relative path would read
    assert python(UNPICKLE_AND_GRADE, project / "worker") == "1.0 0.0"
