"""rft-graders: open, local graders for reinforcement fine-tuning."""

from .declarations import OpenAIMapping, ReportMetric
from .errors import GradeError, RftError, SpecError, TemplateError
from .grader import Grader, GraderConfig, SubGraders
from .hookspecs import hookimpl
from .runner import score
from .spec import load_spec
from .template import Template, TemplateField
from .types import Result, Sample, Status

__all__ = [
    "GradeError",
    "Grader",
    "GraderConfig",
    "OpenAIMapping",
    "ReportMetric",
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
