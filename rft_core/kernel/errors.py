"""Exceptions that carry what a user needs to fix the problem."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .types import Result, Status

__all__ = [
    "FormulaError",
    "GradeError",
    "MissingDependencyError",
    "PluginError",
    "RftError",
    "SpecError",
    "SpecIssue",
    "TemplateError",
]


class RftError(Exception):
    """Base class of every error rft-graders raises on purpose."""


class GradeError(RftError):
    """The one way a grade fails: raised while grading one sample, it becomes that sample's
    non-ok Result (``status``, ``code``, the message as its reason, ``details`` in its metadata).

    ``code`` is an OpenAI-style error flag such as ``invalid_variable_error``.
    """

    status = Status.ERROR
    code = "other_error"

    def __init__(
        self, message: str, *, status: Status | None = None, code: str | None = None, **details: Any
    ) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.details = details

    def result(self) -> Result:
        """The Result of the sample this failed: reward 0.0, this status, code and message."""
        return Result.failure(self.status, str(self), self.code, **self.details)


class TemplateError(GradeError):
    """A template names a variable the sample or item does not have."""

    code = "invalid_variable_error"

    def __init__(self, template: str, path: str, problem: str) -> None:
        super().__init__(f"invalid_variable: {path} in template {template!r}: {problem}")
        self.template = template
        self.path = path


class FormulaError(RftError):
    """A ``calculate_output`` formula does not parse or names an unknown grader."""

    code = "formula_parse_error"

    def __init__(self, formula: str, position: int, problem: str) -> None:
        pointer = " " * position + "^"
        super().__init__(f"formula_parse_error at position {position}: {problem}\n  {formula}\n  {pointer}")
        self.formula = formula
        self.position = position
        self.problem = problem


class PluginError(RftError):
    """A plugin registered something the registry cannot accept."""


class MissingDependencyError(RftError):
    """An optional dependency is not installed; the message says which extra to install."""

    def __init__(self, package: str, extra: str, needed_for: str) -> None:
        super().__init__(
            f"{needed_for} needs the '{package}' package, which is not installed: "
            f"pip install 'rft-graders[{extra}]'"
        )
        self.package = package
        self.extra = extra


@dataclass(frozen=True, slots=True)
class SpecIssue:
    """One problem in a spec: where it is and what is wrong."""

    path: tuple[str | int, ...]
    message: str
    line: int | None = None

    def location(self) -> str:
        where = ".".join(str(part) for part in self.path) or "(root)"
        return f"{where} (line {self.line})" if self.line is not None else where

    def __str__(self) -> str:
        return f"{self.location()}: {self.message}"


class SpecError(RftError):
    """Every problem found in a spec, reported at once."""

    def __init__(self, issues: list[SpecIssue], source: str | None = None) -> None:
        self.issues = list(issues)
        self.source = source
        header = f"{source or 'spec'}: {len(self.issues)} problem{'s' if len(self.issues) != 1 else ''}"
        super().__init__("\n".join([header] + [f"  {issue}" for issue in self.issues]))
