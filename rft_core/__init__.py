"""rft-graders: open, local graders for reinforcement fine-tuning."""

from .kernel.errors import GradeError, RftError, SpecError, TemplateError
from .kernel.grader import Grader, GraderConfig, SubGraders
from .kernel.hookspecs import hookimpl
from .run.runner import score
from .kernel.spec import load_spec
from .kernel.template import Template, TemplateField
from .kernel.types import Result, Sample, Status

__all__ = [
    "GradeError",
    "Grader",
    "GraderConfig",
    "Result",
    "RftError",
    "Sample",
    "SpecError",
    "Status",
    "SubGraders",
    "Template",
    "TemplateError",
    "TemplateField",
    "hookimpl",
    "load_spec",
    "score",
]
