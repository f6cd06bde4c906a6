"""OpenAI's python-grader environment: the `openai-python` extra, its packages inside the sandbox, and
rft validate naming a package from OpenAI's image that is not installed.

The packages are installed by `make test` (the `all` extra includes `openai-python`), so these tests
do not skip: a missing package fails them.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from graders.python.python_grader import OPENAI_IMAGE_PACKAGES
from rft_core import Status, load_spec
from rft_core.cli import main

if sys.version_info >= (3, 11):
    import tomllib
else:  # the dev extra installs tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def _extra(name: str) -> dict[str, str]:
    requirements = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"][name]
    return dict(re.fullmatch(r"([A-Za-z0-9_.-]+)>=(\S+)", requirement).groups() for requirement in requirements)


def test_the_extra_installs_at_least_the_documented_version_of_each_image_package():
    documented = dict(requirement.split("==") for requirement in OPENAI_IMAGE_PACKAGES.values())
    assert _extra("openai-python") == documented
    assert "openai-python" in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["all"][0]  # make test installs it


@pytest.mark.parametrize("module", list(OPENAI_IMAGE_PACKAGES))
def test_each_image_package_is_installed_here(module):
    assert importlib.util.find_spec(module) is not None, f"pip install 'rft-graders[openai-python]' ({module})"


# each image package as an OpenAI python grader would use it: (top-level import, an expression that must hold)
USES = {
    "numpy": ("import numpy", "int(numpy.array([1, 2, 3]).sum()) == 6"),
    "scipy": ("import scipy.stats", "abs(scipy.stats.norm.cdf(0) - 0.5) < 1e-12"),
    "sympy": ("import sympy", "sympy.simplify(sympy.sympify('(x**2 - 1)/(x - 1)') - sympy.sympify('x + 1')) == 0"),
    "pandas": ("import pandas", "int(pandas.DataFrame({'a': [1, 2]})['a'].sum()) == 3"),
    "rapidfuzz": ("from rapidfuzz import fuzz", "fuzz.ratio(text, reference) == 100"),
    "sklearn": ("from sklearn.metrics import accuracy_score", "accuracy_score([1, 0, 1], [1, 1, 1]) == 2 / 3"),
    "rouge_score": ("from rouge_score import rouge_scorer",
                    "rouge_scorer.RougeScorer(['rouge1']).score(text, reference)['rouge1'].fmeasure == 1.0"),
    "deepdiff": ("from deepdiff import DeepDiff", "DeepDiff({'a': 1}, {'a': 2}) != {}"),
    "jsonschema": ("import jsonschema", "jsonschema.Draft7Validator({'type': 'integer'}).is_valid(3)"),
    "pydantic": ("import pydantic", "pydantic.TypeAdapter(int).validate_json('4') == 4"),
    "yaml": ("import yaml", "yaml.safe_load('a: [1, 2]') == {'a': [1, 2]}"),
    "nltk": ("import nltk", "nltk.edit_distance('kitten', 'sitting') == 3"),
    "sqlparse": ("import sqlparse", "sqlparse.format('select 1', keyword_case='upper') == 'SELECT 1'"),
    "rdkit": ("from rdkit import Chem", "Chem.MolToSmiles(Chem.MolFromSmiles('OCC')) == 'CCO'"),
    "skbio": ("import skbio", "str(skbio.DNA('ACGT').reverse_complement()) == 'ACGT'"),
    "ast_grep_py": ("from ast_grep_py import SgRoot",
                    "SgRoot('x = 1', 'python').root().find(pattern='$A = 1') is not None"),
}


def test_every_image_package_has_a_use():
    assert set(USES) == set(OPENAI_IMAGE_PACKAGES)


@pytest.mark.integration
@pytest.mark.parametrize("module", list(USES))
def test_a_python_grader_uses_the_package_inside_the_sandbox(module):
    statement, check = USES[module]
    source = (f"{statement}\n\ndef grade(sample, item):\n    text, reference = sample['output_text'], item['reference']\n"
              f"    return 1.0 if {check} else 0.0\n")
    grader = load_spec({"type": "python", "source": source})  # site_packages unset: the sandbox's default
    assert grader.environment_problems() == []
    try:
        result = grader.grade("fuzzy wuzzy was a bear", {"reference": "fuzzy wuzzy was a bear"})
    finally:
        grader.close()
    assert result.status is Status.OK, result.reason
    assert result.reward == 1.0


def test_validate_points_a_missing_image_package_to_the_extra(tmp_path, capsys, monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",  # this environment without scikit-learn
                        lambda name, *args: None if name == "sklearn" else real_find_spec(name, *args))
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"type": "python", "source": (
        "from sklearn.metrics import f1_score\nimport numpy\ndef grade(sample, item):\n    return 1.0\n")}))
    assert main(["validate", str(spec)]) == 1
    assert capsys.readouterr().err == (
        f"error: {spec}: 1 problem in this environment\n"
        "  (root): the source imports 'sklearn', not installed: OpenAI's grader image has it (scikit-learn); "
        "install OpenAI's python-grader packages with pip install 'rft-graders[openai-python]'\n"
    )
