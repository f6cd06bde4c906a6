"""Which modules a piece of Python source imports that this interpreter cannot import.

A static scan of the source's ``import`` statements with ``ast`` (the code is never run): meant
for a spec's own code, such as a python grader's ``source``. An import inside a ``try`` whose
handlers catch ``ImportError`` (or ``ModuleNotFoundError``, or everything) is optional and left out.
"""

from __future__ import annotations

import ast
import importlib.util
import sys

__all__ = ["imported_modules", "missing_imports"]

_OPTIONAL_GUARDS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def imported_modules(source: str) -> list[str]:
    """The top-level modules ``source`` imports unconditionally, in order of first appearance."""
    tree = ast.parse(source)
    optional: set[int] = set()
    found: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(_guards_imports(handler) for handler in node.handlers):
            optional.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            found.update(dict.fromkeys(alias.name.split(".")[0] for alias in node.names))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.setdefault(node.module.split(".")[0])
    return list(found)


def missing_imports(source: str, *, site_packages: bool) -> dict[str, str]:
    """Module -> why it cannot be imported where the code runs: not installed, or installed but
    outside the standard library while the code may import only that (``site_packages`` false)."""
    missing = {}
    for module in imported_modules(source):
        if module in sys.stdlib_module_names or module in sys.builtin_module_names:
            continue
        if importlib.util.find_spec(module) is None:
            missing[module] = "not installed"
        elif not site_packages:
            missing[module] = "installed, but the grader may import only the standard library"
    return missing


def _guards_imports(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(name, ast.Name) and name.id in _OPTIONAL_GUARDS for name in names)
