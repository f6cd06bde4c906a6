"""rft-graders: open, local graders for reinforcement fine-tuning.

``__all__`` is the whole public API: what users, third-party plugins and the built-in graders
in ``graders/`` import (tests/test_architecture.py checks that graders and plugins import
nothing else of ``rft_core`` but ``rft_core.infra``, the public machinery: OpenAI-compatible
client, cache, torch helpers). Everything else in the package is internal and may move.
"""

from .infra import sandbox
from .infra.batch_memo import batch_memo, shared
from .infra.imports import missing_imports
from .kernel.cpus import available_cpus
from .kernel.declarations import OpenAIMapping, ReportMetric
from .kernel.errors import FormulaError, GradeError, MissingDependencyError, RftError, SpecError, TemplateError
from .kernel.fields import RegexField, check_input, compile_pattern, finditer_with_timeout, search_with_timeout
from .kernel.formula import Formula
from .kernel.grader import Grader, GraderConfig, SubGraders, run_sync
from .kernel.hookspecs import hookimpl
from .kernel.runtime import Runtime
from .kernel.paths import SpecPath, read_named_file, spec_path
from .kernel.spec import load_spec
from .kernel.template import Template, TemplateField
from .kernel.types import Item, Result, Sample, SharedComposite, SharedResult, Status, Usage
from .integrations.trl import reward_funcs, reward_weights
from .run.runner import score

__all__ = [
    # using graders: load a spec, grade, score a dataset
    "load_spec",  # a spec file or dict -> the Grader it describes
    "score",  # grade many rows -> Results
    "reward_funcs",  # a spec -> TRL reward functions (one composite, or one per component)
    "reward_weights",  # the weights of the split reward functions, for GRPOConfig(reward_weights=...)
    "Grader",  # the contract: grade/agrade/grade_batch; subclasses implement evaluate
    "GraderConfig",  # base of a grader's pydantic Config
    "SubGraders",  # config field type of a composite's children, built from the spec
    "hookimpl",  # marks a plugin's register_graders hook
    "Runtime",  # what a run's graders share (caches, pools, settings); closed at the end of the run
    "OpenAIMapping",  # a grader's declaration of how it maps to an OpenAI grader
    "ReportMetric",  # a grader's declaration of a table the report computes from its results
    # the data a grader reads and returns
    "Sample",  # the model output being graded
    "Item",  # the dataset row it answers
    "Result",  # reward, status, reason, sub_rewards, metadata
    "Status",  # ok, not_applicable, parse_error, timeout, error
    "Usage",  # tokens and dollars a model-based grade spent (Result.usage)
    "SharedResult",  # a read-only Result a grader returns for many samples (made once)
    "SharedComposite",  # the same with read-only sub-rewards
    # errors
    "RftError",  # base of every error rft raises
    "GradeError",  # a grade failed: raise it from evaluate with a status and a code
    "TemplateError",  # a template could not render (invalid_variable)
    "SpecError",  # a spec is invalid: every problem with its path and line
    "FormulaError",  # a calculate_output formula does not parse
    "MissingDependencyError",  # an optional package is missing: names the extra to install
    # config fields and checks graders share
    "Template",  # a {{ item.x }} / {{ sample.output_text }} template
    "TemplateField",  # config field type holding a template
    "RegexField",  # config field type holding a regex that must compile
    "compile_pattern",  # compile a regex, raising the given error type with the reason
    "search_with_timeout",  # regex search/fullmatch whose timeout is the sample's timeout status
    "finditer_with_timeout",  # regex finditer, likewise
    "check_input",  # an input over max_input_chars is the sample's parse_error
    "Formula",  # OpenAI's calculate_output grammar, parsed without eval (multi's formula)
    "SpecPath",  # config field type of a path a spec names: absolute, a relative one from the spec's folder
    "spec_path",  # in a validator: a path a spec names, resolved against the spec's folder (ValidationInfo)
    "read_named_file",  # in a validator: read a text file a spec names -> (text, a phrase naming it for messages)
    # running graders
    "run_sync",  # run a coroutine to completion from sync code, inside a running loop too
    "batch_memo",  # context in which sibling graders share work on one batch (a composite opens it)
    "shared",  # inside batch_memo: make a value once per batch and settings, for every sibling
    "available_cpus",  # cores this process should use for a worker pool of its own
    "missing_imports",  # the imports a Python source cannot make in this environment, with why
    "sandbox",  # the OS sandbox (bubblewrap) that runs untrusted code: sandboxed, Limits, unavailable_reason
]
