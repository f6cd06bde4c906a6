"""``rft new-plugin NAME``: write a complete plugin distribution that passes its own tests.

The plugin ``demo`` is the distribution ``rft-demo`` with the package ``rft_demo``, the grader type
``demo`` and the ``rft`` entry point; it has a grader, the ``register_graders`` hook, tests (using
``rft_core.testing``), a docs page and a README.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

from ..kernel.errors import RftError

__all__ = ["plugin_files", "write_plugin"]

NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")

_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "$distribution"
version = "0.1.0"
description = "The $type grader for rft-graders."
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["rft-graders"]

[project.optional-dependencies]
test = ["pytest>=8"]

[project.entry-points.rft]
$type = "$package"

[tool.setuptools]
packages = ["$package"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

_README = """\
# $distribution

A plugin for [rft-graders](https://github.com/rft-graders/rft-graders) that adds the `$type`
grader: reward 1.0 when the output's length in words is within `min_words`..`max_words`.

```console
$$ pip install -e .
$$ pytest
$$ rft graders | grep $type
```

See [docs/$type.md](docs/$type.md) for its fields. Edit `$package/grader.py` to make it yours.
"""

_INIT = '''\
"""$distribution: the `$type` grader for rft-graders."""

from rft_core import hookimpl

from .grader import $cls

__all__ = ["$cls", "register_graders"]


@hookimpl
def register_graders(register):
    """Register the `$type` grader type."""
    register($cls)
'''

_GRADER = '''\
"""The `$type` grader."""

from pydantic import Field, model_validator

from rft_core import GradeError, Grader, GraderConfig, Result, Status, TemplateField

__all__ = ["$cls", "${cls}Config"]


class ${cls}Config(GraderConfig):
    """The fields of a `$type` spec."""

    input: TemplateField = Field(
        default="{{ sample.output_text }}", description="Template for the text whose words are counted."
    )
    min_words: int = Field(default=1, ge=0, description="Fewest words that pass.")
    max_words: int = Field(default=100, ge=0, description="Most words that pass.")

    @model_validator(mode="after")
    def _bounds_in_order(self):
        if self.min_words > self.max_words:
            raise ValueError(f"min_words ({self.min_words}) is above max_words ({self.max_words})")
        return self


class $cls(Grader):
    """Reward 1.0 when the output has between min_words and max_words words, else 0.0."""

    type = "$type"
    Config = ${cls}Config
    config: ${cls}Config

    def evaluate(self, sample, item):
        text = self.config.input.render(sample, item)
        if not text.strip():
            raise GradeError("the output is empty", status=Status.PARSE_ERROR, code="sample_parse_error")
        words = len(text.split())
        passed = self.config.min_words <= words <= self.config.max_words
        return Result(1.0 if passed else 0.0, reason=f"{words} word{'s' if words != 1 else ''}")
'''

_CONFTEST = '''\
"""The rft_registry fixture (the built-in graders only) comes from rft-graders."""

pytest_plugins = ["rft_core.pytest_plugin"]
'''

_TEST = '''\
"""Tests of the `$type` grader: through load_spec, as users' specs are checked, and as TRL calls it."""

import pytest

import $package
from rft_core import SpecError, Status, load_spec
from rft_core.testing import call_like_trl, make_registry


@pytest.fixture
def registry():
    return make_registry(("$distribution", $package))


def test_the_hook_registers_the_type_under_the_distribution_name(registry):
    assert registry.get("$type").plugin == "$distribution"


@pytest.mark.parametrize(
    ("text", "reward", "status"),
    [
        ("Paris.", 1.0, Status.OK),
        ("The capital of France is Paris.", 0.0, Status.OK),
        ("   ", 0.0, Status.PARSE_ERROR),
    ],
    ids=["within", "too_long", "empty"],
)
def test_grades(registry, text, reward, status):
    result = load_spec({"type": "$type", "max_words": 5}, registry=registry).grade(text)
    assert (result.reward, result.status) == (reward, status)


def test_bounds_out_of_order_is_a_spec_error(registry):
    with pytest.raises(SpecError) as caught:
        load_spec({"type": "$type", "min_words": 9, "max_words": 5}, registry=registry)
    assert [str(issue) for issue in caught.value.issues] == ["min_words: min_words (9) is above max_words (5)"]


def test_in_a_multi_through_trl(registry):
    spec = {"type": "multi", "calculate_output": "0.5 * short + 0.5 * exact", "graders": {
        "short": {"type": "$type", "max_words": 1},
        "exact": {"type": "string_check", "reference": "{{ item.answer }}"}}}
    call = call_like_trl(spec, ["Paris", "Paris is it"], columns={"answer": ["Paris", "Paris"]}, registry=registry)
    assert call.rewards == {"multi": [1.0, 0.0]}


def test_the_fixture_holds_the_built_in_graders(rft_registry):
    assert rft_registry.get("$type") is None
    rft_registry.register($package.$cls, plugin="$distribution")
    assert load_spec({"type": "$type"}, registry=rft_registry).grade("two words").reward == 1.0
'''

_DOC = """\
# $type

Reward 1.0 when the output has between `min_words` and `max_words` words (split on whitespace),
else 0.0; an empty output is a `parse_error`. Installed with `pip install $distribution`.

```yaml
requires: [$distribution]
type: $type
max_words: 5
```

| field | default | meaning |
|---|---|---|
| `input` | `{{ sample.output_text }}` | template for the text whose words are counted |
| `min_words` | 1 | fewest words that pass |
| `max_words` | 100 | most words that pass (not below `min_words`) |
"""


def plugin_files(name: str) -> dict[str, str]:
    """The files of plugin ``name`` (relative path -> text). Raises RftError for a name that is not
    lowercase letters and digits, optionally joined by ``-`` or ``_``."""
    if not NAME_PATTERN.fullmatch(name):
        raise RftError(
            f"plugin name {name!r} is not usable: use lowercase letters and digits, optionally joined by - or _ "
            "(e.g. word-count)"
        )
    type_name = name.replace("-", "_")
    names = {
        "type": type_name,
        "distribution": "rft-" + name.replace("_", "-"),
        "package": "rft_" + type_name,
        "cls": "".join(part.capitalize() for part in type_name.split("_")) + "Grader",
    }
    package = names["package"]
    templates = {
        "pyproject.toml": _PYPROJECT,
        "README.md": _README,
        f"{package}/__init__.py": _INIT,
        f"{package}/grader.py": _GRADER,
        "conftest.py": _CONFTEST,
        f"tests/test_{type_name}.py": _TEST,
        f"docs/{type_name}.md": _DOC,
    }
    return {path: Template(text).substitute(names) for path, text in templates.items()}


def write_plugin(name: str, directory: Path) -> list[Path]:
    """Write plugin ``name`` into ``directory``, which must not exist or be empty; returns the files."""
    files = plugin_files(name)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise RftError(f"{directory} already exists and is not an empty folder; nothing was written: "
                       "choose another name or folder (--directory)")
    written = []
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
