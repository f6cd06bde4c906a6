"""rft-graders: open, local graders for reinforcement fine-tuning."""

from .declarations import OpenAIMapping, ReportMetric
from .errors import GradeError, RftError, SpecError, TemplateError
from .grader import Grader, GraderConfig, SubGraders
from .hookspecs import hookimpl
from .runner import score
from .runtime import Runtime
from .spec import load_spec
from .template import Template, TemplateField
from .types import Result, Sample, Status, Usage

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
