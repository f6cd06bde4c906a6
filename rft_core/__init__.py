"""rft-graders: open, local graders for reinforcement fine-tuning."""

from .kernel.declarations import OpenAIMapping, ReportMetric
from .kernel.errors import GradeError, RftError, SpecError, TemplateError
from .kernel.grader import Grader, GraderConfig, SubGraders
from .kernel.hookspecs import hookimpl
from .run.runner import score
from .kernel.runtime import Runtime
from .kernel.spec import load_spec
from .kernel.template import Template, TemplateField
from .kernel.types import Result, Sample, Status, Usage

__all__ = [
    "GradeError",
    "Grader",
    "GraderConfig",
    "OpenAIMapping",
    "ReportMetric",
    "Result",
    "RftError",
    "Runtime",
    "Sample",
    "SpecError",
    "Status",
    "SubGraders",
    "Template",
    "TemplateError",
    "TemplateField",
    "Usage",
    "hookimpl",
    "load_spec",
    "score",
]
