"""veRL adapter: a spec as veRL's ``custom_reward_function``.

veRL's reward managers call ``compute_score(data_source=..., solution_str=..., ground_truth=...,
extra_info=...)`` once per sample (``naive``; awaited when it is a coroutine function in the
reward loop) or ``compute_score(data_sources=..., solution_strs=..., ground_truths=...,
extra_infos=...)`` once per batch (``batch``), with ``custom_reward_function.reward_kwargs``
merged into the keyword arguments: ``spec`` there names the spec (else ``$RFT_SPEC``).

Each call returns ``{"score": reward, <component path>: reward, ..., "ungradable": 0.0 | 1.0}``:
veRL trains on ``score`` and logs every other key as reward extra info. The keys are the same for
every sample of a spec (veRL appends them column by column). A sample that could not be graded
keeps its result's reward (0.0) and has ``ungradable`` 1.0.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from ..kernel.grader import Grader
from ..kernel.types import Result, Sample
from .components import UNGRADABLE, component_paths, component_rewards, label_item, spec_grader, ungradable

__all__ = ["compute_score", "compute_score_async", "compute_score_batch"]

RESERVED = ("score", UNGRADABLE)


def compute_score(
    data_source: Any, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None = None,
    *, spec: Any = None, **kwargs: Any,
) -> dict[str, float]:
    """One sample's score and components, as veRL's ``naive`` reward manager expects.

    Args:
        data_source: the row's ``data_source`` (the item's ``data_source``).
        solution_str: the decoded response (the sample's text).
        ground_truth: ``reward_model.ground_truth``: a mapping or JSON-object string is the item,
            anything else is ``item.answer``.
        extra_info: the row's ``extra_info`` (the item's ``extra_info``).
        spec: the spec path (veRL passes ``reward_kwargs``), default ``$RFT_SPEC``.

    >>> spec = {"type": "string_check", "reference": "{{ item.answer }}"}
    >>> compute_score("gsm8k", "4", "4", spec=spec)
    {'score': 1.0, 'ungradable': 0.0}
    """
    grader = spec_grader(spec, "rft_core.integrations.verl.compute_score")
    result = grader.grade(Sample(solution_str), verl_item(data_source, ground_truth, extra_info))
    return score_dict(result, grader)


async def compute_score_async(
    data_source: Any, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None = None,
    *, spec: Any = None, **kwargs: Any,
) -> dict[str, float]:
    """``compute_score`` for veRL's async reward loop: I/O graders (judges) are awaited, CPU graders
    run in a thread so the loop keeps serving other samples."""
    grader = spec_grader(spec, "rft_core.integrations.verl.compute_score_async")
    sample, item = Sample(solution_str), verl_item(data_source, ground_truth, extra_info)
    if grader.is_async():
        result = await grader.agrade(sample, item)
    else:
        result = await asyncio.to_thread(grader.grade, sample, item)
    return score_dict(result, grader)


def compute_score_batch(
    data_sources: Sequence[Any], solution_strs: Sequence[str], ground_truths: Sequence[Any],
    extra_infos: Sequence[Mapping[str, Any] | None] | None = None, *, spec: Any = None, **kwargs: Any,
) -> list[dict[str, float]]:
    """Every sample of a batch in one ``grade_batch`` call, as veRL's ``batch`` reward manager expects."""
    grader = spec_grader(spec, "rft_core.integrations.verl.compute_score_batch")
    size = len(solution_strs)
    if extra_infos is None:
        extra_infos = [None] * size
    if not len(data_sources) == len(ground_truths) == len(extra_infos) == size:
        raise ValueError(
            f"compute_score_batch: {len(data_sources)} data_sources, {size} solution_strs, "
            f"{len(ground_truths)} ground_truths and {len(extra_infos)} extra_infos: give one of each per sample"
        )
    items = list(map(verl_item, data_sources, ground_truths, extra_infos))
    results = grader.grade_batch(list(map(Sample, solution_strs)), items)
    return [score_dict(result, grader) for result in results]


def verl_item(data_source: Any, ground_truth: Any, extra_info: Mapping[str, Any] | None) -> dict[str, Any]:
    """The item: the ground truth's (see ``label_item``), plus ``data_source`` and ``extra_info``."""
    item = label_item(ground_truth)
    item.setdefault("data_source", data_source)
    item.setdefault("extra_info", dict(extra_info or {}))
    return item


def score_dict(result: Result, grader: Grader) -> dict[str, float]:
    """``{"score", <components>, "ungradable"}``; a component named like a reserved key is logged as
    ``component.<key>``."""
    out = {"score": float(result.reward)}
    for path, reward in component_rewards(result, component_paths(grader)).items():
        out[f"component.{path}" if path in RESERVED else path] = reward
    out[UNGRADABLE] = ungradable(result)
    return out

