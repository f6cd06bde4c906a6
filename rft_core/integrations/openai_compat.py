"""OpenAI compatibility: OpenAI's /graders/run response shape, and specs checked against OpenAI's graders.

:func:`run_response` turns one :class:`~rft_core.kernel.types.Result` into the JSON that
OpenAI's ``/fine_tuning/alpha/graders/run`` returns, so tools written against that endpoint
read ``rft run``'s output unchanged. Our error codes (``Result.error_codes()``) become
OpenAI's error flags through :data:`ERROR_FLAGS`.

:func:`openai_issues` lists why a spec would not run on OpenAI with the same meaning
(``rft validate --openai``); :func:`export_openai` writes OpenAI grader JSON for a spec
that would (``rft export-openai``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..kernel.declarations import OPENAI_TYPES
from ..kernel.errors import SpecError, SpecIssue
from ..kernel.grader import Grader, child_fields
from ..kernel.portability import TARGETS, PortabilityCheck
from ..kernel.registry import Registry, default_registry
from ..kernel.spec import load_spec, portability_check, read_spec_file
from ..kernel.types import Result, Status

__all__ = [
    "ERROR_FLAGS", "OPENAI_TYPES", "TARGETS", "export_openai", "formula_error_response", "not_portable",
    "openai_issues", "run_response"
]

# OpenAI's metadata.errors: every flag false and every detail null unless an error sets it.
BOOLEAN_FLAGS = (
    "formula_parse_error",
    "sample_parse_error",
    "truncated_observation_error",
    "unresponsive_reward_error",
    "invalid_variable_error",
    "other_error",
    "python_grader_server_error",
    "python_grader_runtime_error",
    "model_grader_server_error",
    "model_grader_refusal_error",
    "model_grader_parse_error",
)
DETAILS = {
    "python_grader_server_error": "python_grader_server_error_type",
    "python_grader_runtime_error": "python_grader_runtime_error_details",
    "model_grader_server_error": "model_grader_server_error_details",
}

ERROR_FLAGS: dict[str, str] = {flag: flag for flag in BOOLEAN_FLAGS} | {
    # a regex or grader that ran past its deadline: the reward did not come back in time
    "timeout_error": "unresponsive_reward_error",
    # calculate_output parsed but could not be evaluated (e.g. log of 0): OpenAI has no such flag
    "formula_error": "other_error",
    # the python grader's source did not load (a top-level exception, no callable grade)
    "python_grader_parse_error": "python_grader_runtime_error",
}
"""Our error code -> OpenAI's flag. A code not listed here is ``other_error``."""

# a failed result whose tree carries no error code at all still raises a flag
STATUS_FLAGS = {
    Status.PARSE_ERROR: "sample_parse_error",
    Status.TIMEOUT: "unresponsive_reward_error",
    Status.ERROR: "other_error",
}


def formula_error_response(document: Mapping[str, Any], error: SpecError) -> dict[str, Any] | None:
    """What OpenAI's /graders/run answers for a grader whose only problems are in ``calculate_output``
    (a formula that does not parse): reward 0 with ``formula_parse_error`` set; None for other problems."""
    if not error.issues or any(issue.path[-1:] != ("calculate_output",) for issue in error.issues):
        return None
    reason = "; ".join(f"{'.'.join(map(str, issue.path))}: {issue.message}" for issue in error.issues)
    name = document.get("name") if isinstance(document.get("name"), str) else str(document.get("type"))
    result = Result.failure(Status.ERROR, reason, "formula_parse_error")
    return _response(name, str(document.get("type")), result, 0.0)


def run_response(grader: Grader, result: Result, execution_time: float) -> dict[str, Any]:
    """``result`` as OpenAI's /graders/run response.

    ``{"reward", "metadata": {"name", "type", "errors", "execution_time", "scores",
    "token_usage", "sampled_model_name"}, "sub_rewards", "model_grader_token_usage_per_model"}``.
    ``scores`` and ``sub_rewards`` map each sub-grader's key to its reward (nested
    composites, which OpenAI lacks, as dotted paths); ``token_usage`` is the total tokens
    the model graders in the tree used (``None`` when none did); ``sampled_model_name``
    is the model the first model grader's server answered as (``None`` without one);
    ``model_grader_token_usage_per_model`` gives each model's ``prompt_tokens``,
    ``completion_tokens``, ``total_tokens`` and ``cached_tokens``.
    """
    return _response(grader.name, grader.type, result, execution_time)


def _response(name: str, type_name: str, result: Result, execution_time: float) -> dict[str, Any]:
    rewards = _sub_rewards(result, "")
    per_model = _token_usage_per_model(result)
    total = sum(usage.get("total_tokens", 0) for usage in per_model.values())
    return {
        "reward": result.reward,
        "metadata": {
            "name": name,
            "type": type_name,
            "errors": _errors(result),
            "execution_time": execution_time,
            "scores": rewards,
            "token_usage": total if per_model else None,
            "sampled_model_name": next(iter(per_model), None),
        },
        "sub_rewards": dict(rewards),
        "model_grader_token_usage_per_model": per_model,
    }


def _errors(result: Result) -> dict[str, Any]:
    errors: dict[str, Any] = {flag: False for flag in BOOLEAN_FLAGS}
    errors.update({detail: None for detail in DETAILS.values()})
    codes = result.error_codes()
    if not codes and result.status in STATUS_FLAGS:
        codes = {".": STATUS_FLAGS[result.status]}
    for path, code in codes.items():
        flag = ERROR_FLAGS.get(code, "other_error")
        errors[flag] = True
        detail = DETAILS.get(flag)
        if detail is not None and errors[detail] is None:
            errors[detail] = _find(result, path).reason
    return errors


def _find(result: Result, path: str) -> Result:
    found = result
    for key in path.split(".") if path != "." else ():
        if key not in found.sub_rewards:  # a key holding a dot: the detail falls back to the root's reason
            return result
        found = found.sub_rewards[key]
    return found


def _sub_rewards(result: Result, prefix: str) -> dict[str, float]:
    rewards: dict[str, float] = {}
    for key, sub in result.sub_rewards.items():
        path = f"{prefix}{key}"
        rewards[path] = sub.reward
        rewards.update(_sub_rewards(sub, f"{path}."))
    return rewards


USAGE_COUNTS = ("prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens")


def _token_usage_per_model(result: Result) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = {}
    stack = [result]
    while stack:
        current = stack.pop(0)  # breadth first: the first model found is the root-most, leftmost
        usage, model = current.usage, current.metadata.get("model")
        if usage is not None and isinstance(model, str):
            counts = totals.setdefault(model, dict.fromkeys(USAGE_COUNTS, 0))
            for name, value in usage.to_dict().items():
                counts[name] += value
        stack.extend(current.sub_rewards.values())
    return totals


# --- specs: what OpenAI's graders accept ------------------------------------------------------


def openai_issues(
    source: str | Path | Mapping[str, Any], registry: Registry | None = None, target: str = "fine-tuning"
) -> list[SpecIssue]:
    """Every reason the spec cannot run on OpenAI's graders as it means here, with path and line.

    The spec must first be valid for rft (``load_spec`` raises SpecError otherwise). A grader is
    portable when its type is one of OpenAI's and every field OpenAI lacks is at its default
    (or only says how to reach a model: retries, caching, rate limits); a ``multi`` may not
    hold another ``multi``, and for ``target="fine-tuning"`` a ``label_model`` must be inside a
    ``multi`` (``"evals"`` takes one at the top level). Spec-level ``defaults`` count as set on
    every grader they reach.
    """
    return _checked(source, registry, target)[0].issues


def export_openai(
    source: str | Path | Mapping[str, Any], registry: Registry | None = None, target: str = "fine-tuning"
) -> dict[str, Any]:
    """OpenAI grader JSON for a spec portable to ``target`` (as :func:`openai_issues`); SpecError
    naming every non-portable grader otherwise.

    Fields OpenAI lacks are left out (each is at its default or operational, or the spec
    would not be portable); fields OpenAI requires and the spec leaves to our defaults
    (``name``, ``input``, ``operation``, ``evaluation_metric``) are written out.

    >>> export_openai({"type": "string_check", "reference": "{{ item.answer }}", "casefold": False})
    {'type': 'string_check', 'name': 'string_check', 'input': '{{ sample.output_text }}', 'reference': '{{ item.answer }}', 'operation': 'eq'}
    """
    check, source_name = _checked(source, registry, target)
    if check.issues:
        raise SpecError(check.issues, not_portable(source_name))
    return _export(check, check.root, None)


def not_portable(source: str | None) -> str:
    """How a SpecError of OpenAI issues names its spec."""
    return f"{source or 'spec'} (not portable to OpenAI)"


def _checked(
    source: str | Path | Mapping[str, Any], registry: Registry | None, target: str
) -> tuple[PortabilityCheck, str | None]:
    """The finished check of a spec file or mapping for ``target``, after rft's own errors (SpecError)
    are ruled out, and the name of the spec's file (None for a mapping)."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    registry = registry or default_registry()
    load_spec(source, registry=registry)
    if isinstance(source, Mapping):
        document, lines, name = source, {}, None
    else:
        document, lines = read_spec_file(source)
        name = str(source)
    # an eval's testing criteria take any OpenAI grader at the top level
    check = portability_check(document, lines, registry, any_root=target == "evals")
    check.check()
    return check, name


def _export(check: PortabilityCheck, node: dict[str, Any], key: str | None) -> dict[str, Any]:
    """OpenAI's JSON of a checked grader object (``key``: the key its composite holds it under)."""
    type_name = node["type"]
    grader_class = check.grader_class(type_name)
    mapping = grader_class.openai
    assert mapping is not None  # the check refused the spec otherwise
    config_fields = grader_class.Config.model_fields
    children = child_fields(grader_class.Config)
    values = {name: value for name, (value, _) in check.fields(node).items()}
    out: dict[str, Any] = {"type": mapping.type}
    for name in mapping.fields:
        if name == "name":
            out["name"] = values.get("name") or key or type_name
        elif name in children:
            out[name] = {k: _export(check, child, k) for k, child in values[name].items()}
        elif name in values:
            out[name] = values[name]
        elif name in mapping.filled:
            out[name] = config_fields[name].default
    return out | dict(mapping.fixed)
