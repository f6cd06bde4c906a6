"""Dependencies point one way: graders and plugins use only rft_core's public API (``__all__``),
and each family of built-in graders (graders/<family>/) imports no other family."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import rft_core
from rft_core.kernel.plugins import DEFAULT_PLUGINS

ROOT = Path(__file__).resolve().parents[1]
GRADERS = ROOT / "graders"
PLUGIN = ROOT / "plugins" / "rft-jsonschema"


def public_api() -> dict[str, set[str]]:
    """Module -> the names graders and plugins may import from it: ``rft_core.__all__``, and the
    ``__all__`` of ``rft_core.infra`` (the public machinery: OpenAI-compatible client, cache, torch helpers)."""
    return {"rft_core": set(rft_core.__all__), "rft_core.infra": set(importlib.import_module("rft_core.infra").__all__)}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, package: str | None = None) -> list[tuple[int, str, list[str]]]:
    """(line, absolute module, names) of every import in the file, relative ones resolved
    against ``package`` (default: the file's own)."""
    if package is None:
        package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            found.append((node.lineno, module, [alias.name for alias in node.names]))
    return found


def private_uses(paths: list[Path], package: str | None = None) -> list[str]:
    """Each import of rft_core that is not a public name (``public_api``), as ``file:line: what``."""
    public = public_api()
    problems = []
    for path in paths:
        where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
        for line, module, names in imports(path, package):
            if module in public and names:
                problems += [f"{where}:{line}: {module}.{name}" for name in names if name not in public[module]]
            elif module == "rft_core" or module.startswith("rft_core."):
                problems.append(f"{where}:{line}: {module} (import from rft_core's top level instead)")
    return problems


def grader_files() -> list[Path]:
    return [path for path in sorted(GRADERS.rglob("*.py"))]


def test_every_public_name_is_importable():
    for name in rft_core.__all__:
        assert getattr(rft_core, name) is not None, name


def test_the_jsonschema_plugin_imports_only_rft_cores_public_api():
    files = sorted((PLUGIN / "rft_jsonschema").rglob("*.py"))
    assert files and all(imports(path) for path in files)  # the walk reads the plugin's own files
    assert private_uses(files) == []


def test_graders_import_only_rft_cores_public_api():
    assert private_uses(grader_files()) == []


def test_the_check_sees_a_private_import(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from rft_core import Result, registry\nfrom rft_core.kernel.types import Item\nfrom .. import _x\n")
    assert private_uses([probe], package="graders.text") == [
        "probe.py:1: rft_core.registry",
        "probe.py:2: rft_core.kernel.types (import from rft_core's top level instead)",
    ]
    assert imports(probe, package="graders.text")[2] == (3, "graders", ["_x"])


def families() -> list[Path]:
    return sorted(path.parent for path in GRADERS.glob("*/__init__.py"))


def crossings(paths: list[Path], own: str, package: str | None = None) -> list[str]:
    """Each import of another family's module (or of ``graders`` itself) from the family ``own``."""
    found = []
    for path in paths:
        for line, module, names in imports(path, package):
            targets = [f"{module}.{name}" for name in names] if module == "graders" else [module]
            found += [
                f"{path.name}:{line}: {target}"
                for target in targets
                if target.startswith("graders.") and target.split(".")[:2] != own.split(".")
            ]
    return found


@pytest.mark.parametrize("family", families(), ids=lambda path: path.name)
def test_a_family_imports_no_other_family(family):
    assert crossings(sorted(family.rglob("*.py")), module_name(family)) == []


def test_the_family_check_sees_a_crossing(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from graders.judge.llm_judge import JudgeBase\nfrom .. import math\n"
        "from ._limits import check_reference\nfrom graders.text import _compare\n"
    )
    assert crossings([probe], "graders.text", package="graders.text") == [
        "probe.py:1: graders.judge.llm_judge",
        "probe.py:2: graders.math",
    ]


def test_every_built_in_plugin_is_a_module_of_a_family():
    family_names = {module_name(path) for path in families()}
    assert all(name in family_names or name.rpartition(".")[0] in family_names for name in DEFAULT_PLUGINS)


# --- tests talk to the graders' public behaviour ------------------------------------------------

TESTS = ROOT / "tests"


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def graders_privates(path: Path) -> list[str]:
    """Each use of a graders private in a test file, as ``file:line: what``: an import of a private module
    (``graders.math._pool``) or of a private name (``from graders.x import _y``), and an attribute
    ``_y`` read (or patched) through a name imported from ``graders``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found, bound = [], set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module = node.module or "" if isinstance(node, ast.ImportFrom) else ""
            for alias in node.names:
                target = f"{module}.{alias.name}" if isinstance(node, ast.ImportFrom) else alias.name
                if target.split(".")[0] != "graders":
                    continue
                bound.add(alias.asname or alias.name.split(".")[0])
                if any(_is_private(part) for part in target.split(".")):
                    found.append(f"{path.name}:{node.lineno}: {target}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in bound:
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith("setattr") and len(node.args) >= 2:
            target, name = node.args[0], node.args[1]
            root = target
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in bound and isinstance(name, ast.Constant) and _is_private(str(name.value)):
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(target)}.{name.value} (patched)")
    return sorted(found, key=lambda problem: int(problem.split(":")[1]))


def test_tests_use_no_graders_private():
    """A test that needs a grader's private is a sign the design lacks a seam: make the seam public
    (the family's ``__all__``) or test through the grader."""
    assert [problem for path in sorted(TESTS.glob("*.py")) for problem in graders_privates(path)] == []


def test_the_test_check_sees_graders_privates(tmp_path):
    probe = tmp_path / "test_probe.py"
    probe.write_text(
        "import graders.text._meteor as meteor\nfrom graders.math import _pool, MathGrader\n"
        "from graders.python import python_grader\nfrom rft_core import _x\n"
        "def test(monkeypatch):\n"
        "    monkeypatch.setattr(python_grader, '_GRACE', 1)\n"
        "    MathGrader._private(meteor.public)\n"
        "    python_grader.sandbox.run()\n"
    )
    assert graders_privates(probe) == [
        "test_probe.py:1: graders.text._meteor",
        "test_probe.py:2: graders.math._pool",
        "test_probe.py:6: python_grader._GRACE (patched)",
        "test_probe.py:7: MathGrader._private",
    ]
