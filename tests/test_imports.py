"""rft_core.infra.imports and rft validate naming a python grader's imports that cannot run here."""

from __future__ import annotations

import json

import pytest

from rft_core.cli import main
from rft_core.infra.imports import imported_modules, missing_imports

SOURCE = """
import json, os.path
from collections import Counter
from yaml import safe_load
import no_such_module_rft
from . import sibling
try:
    import optional_module_rft
except ImportError:
    optional_module_rft = None

def grade(sample, item):
    import pydantic.fields
    return 1.0
"""


def test_imported_modules_are_the_top_level_names_of_unconditional_imports():
    assert imported_modules(SOURCE) == ["json", "os", "collections", "yaml", "no_such_module_rft", "pydantic"]


@pytest.mark.parametrize(
    ("site_packages", "missing"),
    [
        (True, {"no_such_module_rft": "not installed"}),
        (False, {"yaml": "installed, but the grader may import only the standard library",
                 "no_such_module_rft": "not installed",
                 "pydantic": "installed, but the grader may import only the standard library"}),
    ],
    ids=["site_packages", "standard_library_only"],
)
def test_missing_imports(site_packages, missing):
    assert missing_imports(SOURCE, site_packages=site_packages) == missing


def test_validate_names_the_imports_a_python_grader_cannot_make(tmp_path, capsys):
    source = "import yaml\nimport no_such_module_rft\ndef grade(sample, item):\n    return 1.0\n"
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"type": "multi", "calculate_output": "code", "graders": {
        "code": {"type": "python", "site_packages": False, "source": source}}}))  # fmt: skip
    assert main(["validate", str(spec)]) == 1
    assert capsys.readouterr().err == (
        f"error: {spec}: 2 problems in this environment\n"
        "  graders.code: the source imports 'yaml', installed, but the grader may import only the standard "
        "library: set site_packages: true\n"
        "  graders.code: the source imports 'no_such_module_rft', not installed: install it "
        "(pip install no_such_module_rft)\n"
    )
    # unset: a grader in the OS sandbox may import installed packages
    spec.write_text(json.dumps({"type": "python",
                                "source": "import yaml\ndef grade(sample, item):\n    return 1.0\n"}))  # fmt: skip
    assert main(["validate", str(spec)]) == 0
