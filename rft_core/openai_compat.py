"""OpenAI compatibility: results in the shape of OpenAI's ``/fine_tuning/alpha/graders/run`` response.

:func:`run_response` turns one :class:`~rft_core.types.Result` into the JSON that
OpenAI's endpoint returns, so tools written against that endpoint read ``rft run``'s
output unchanged. Our error codes (``Result.error_codes()``) become OpenAI's error flags
through :data:`ERROR_FLAGS`.
"""

from __future__ import annotations

from typing import Any

from .grader import Grader
from .types import Result, Status

__all__ = ["ERROR_FLAGS", "run_response"]

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
    # calculate_output parsed but could not be evaluated (e.g. division by zero): OpenAI has no such flag
    "formula_error": "other_error",
}
"""Our error code -> OpenAI's flag. A code not listed here is ``other_error``."""

# a failed result whose tree carries no error code at all still raises a flag
STATUS_FLAGS = {
    Status.PARSE_ERROR: "sample_parse_error",
    Status.TIMEOUT: "unresponsive_reward_error",
    Status.ERROR: "other_error",
}


def run_response(grader: Grader, result: Result, execution_time: float) -> dict[str, Any]:
    """``result`` as OpenAI's /graders/run response.

    ``{"reward", "metadata": {"name", "type", "errors", "execution_time", "scores",
    "token_usage", "sampled_model_name"}, "sub_rewards", "model_grader_token_usage_per_model"}``.
    ``scores`` and ``sub_rewards`` map each sub-grader's key to its reward (nested
    composites, which OpenAI lacks, as dotted paths); ``token_usage`` is the total tokens
    the model graders in the tree used (``None`` when none did); ``sampled_model_name``
    is ``None``: rft grades the sample it is given and never samples a model.
    """
    rewards = _sub_rewards(result, "")
    per_model = _token_usage_per_model(result)
    total = sum(usage.get("total_tokens", 0) for usage in per_model.values())
    return {
        "reward": result.reward,
        "metadata": {
            "name": grader.name,
            "type": grader.type,
            "errors": _errors(result),
            "execution_time": execution_time,
            "scores": rewards,
            "token_usage": total if per_model else None,
            "sampled_model_name": None,
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


def _token_usage_per_model(result: Result) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = {}
    stack = [result]
    while stack:
        current = stack.pop()
        usage, model = current.metadata.get("usage"), current.metadata.get("model")
        if isinstance(usage, dict) and usage and isinstance(model, str):
            counts = totals.setdefault(model, {})
            for name, value in usage.items():
                counts[name] = counts.get(name, 0) + value
        stack.extend(current.sub_rewards.values())
    return totals
