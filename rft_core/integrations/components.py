"""What the trainer adapters share: a spec's component paths, a result's component rewards,
a dataset label as the item, and specs loaded once per process.

Trainers other than TRL need a number for every sample and the same log keys in every batch,
so an adapter reports every component of the spec (from the grader tree, not from the result,
which lacks them when the whole grade failed) and flags a sample that could not be graded
instead of passing its reward off as a real 0.
"""

from __future__ import annotations

import functools
import json
import os
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..kernel.errors import RftError
from ..kernel.grader import Grader
from ..kernel.spec import load_spec
from ..kernel.types import Result, Status

__all__ = [
    "SPEC_VARIABLE",
    "UNGRADABLE",
    "component_columns",
    "component_paths",
    "component_rewards",
    "label_item",
    "spec_grader",
    "ungradable",
]

UNGRADABLE = "ungradable"
"""The log key that is 1.0 for a sample the reward did not judge (see ``ungradable``), else 0.0;
the sample's reward is then still the result's (failures count 0.0, OpenAI's convention)."""

SPEC_VARIABLE = "RFT_SPEC"
"""The environment variable naming the spec when the trainer passes none."""

Path_ = tuple[str, ...]


_PATHS: weakref.WeakKeyDictionary[Grader, tuple[Path_, ...]] = weakref.WeakKeyDictionary()


def component_paths(grader: Grader) -> tuple[Path_, ...]:
    """Every sub-grader of the tree, depth first, as a path of keys (none for a leaf grader).
    Worked out once per grader: adapters ask for every batch."""
    paths = _PATHS.get(grader)
    if paths is None:
        paths = _PATHS[grader] = tuple(_walk(grader))
    return paths


def _walk(grader: Grader) -> list[Path_]:
    paths: list[Path_] = []
    for key, child in grader.children().items():
        paths.append((key,))
        paths.extend((key, *rest) for rest in _walk(child))
    return paths


def component_rewards(result: Result, paths: Sequence[Path_]) -> dict[str, float]:
    """``{"a.b": reward}`` for every path; a component the result lacks (its parent failed) gives 0.0."""
    rewards: dict[str, float] = {}
    for path in paths:
        found: Result | None = result
        for key in path:
            found = found.sub_rewards.get(key) if found is not None else None
        rewards[".".join(path)] = float(found.reward) if found is not None else 0.0
    return rewards


def component_columns(results: Sequence[Result], paths: Sequence[Path_]) -> dict[str, list[float]]:
    """``component_rewards`` of a batch, one list per path (built a column at a time)."""
    columns: dict[str, list[float]] = {}
    for path in paths:
        found: list[Result | None] = list(results)
        for key in path:
            found = [None if node is None else node.sub_rewards.get(key) for node in found]
        columns[".".join(path)] = [0.0 if node is None else float(node.reward) for node in found]
    return columns


def ungradable(result: Result) -> float:
    """1.0 when the reward did not judge the sample, else 0.0: the result's status is not ``ok``, or a
    component in its tree failed to grade (``timeout``, ``error``: the grader, not the sample, failed) and
    was counted as 0. A component's ``parse_error`` (the sample is not in the expected form) is a real 0."""
    if result.status is not _OK or (result.sub_rewards and _grader_failed_below(result)):
        return 1.0
    return 0.0


def _grader_failed_below(result: Result) -> bool:
    for sub in result.sub_rewards.values():
        if sub.status is not _OK and sub.status in _GRADER_FAILED:
            return True
        if sub.sub_rewards and _grader_failed_below(sub):
            return True
    return False


_OK = Status.OK
_GRADER_FAILED = (Status.TIMEOUT, Status.ERROR)


def label_item(label: Any) -> dict[str, Any]:
    """A trainer's label (OpenRLHF) or ground truth (veRL) as the item.

    A mapping, or a string holding a JSON object, is the item itself; any other value is
    ``{"answer": label}``, so a spec reads ``{{ item.answer }}``; ``None`` is the empty item.
    """
    if type(label) is str and not label.lstrip().startswith("{"):  # the usual label, decided first
        return {"answer": label}
    if hasattr(label, "tolist"):  # numpy values from a trainer's batch
        label = label.tolist()
    if label is None:
        return {}
    if isinstance(label, Mapping):
        return dict(label)
    if isinstance(label, str) and label.lstrip().startswith("{"):
        try:
            parsed = json.loads(label)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    return {"answer": label}


def spec_grader(spec: str | Path | Mapping[str, Any] | Grader | None, caller: str) -> Grader:
    """The grader of ``spec`` (a path, a mapping or a Grader), else of ``$RFT_SPEC``; a spec file
    is loaded once per process (trainers call the reward function for every sample)."""
    if isinstance(spec, Grader):
        return spec
    if isinstance(spec, Mapping):
        return load_spec(spec)
    if spec is None:
        spec = os.environ.get(SPEC_VARIABLE) or None
        if spec is None:
            raise RftError(f"{caller}: no spec: pass spec='path/to/spec.yaml' or set {SPEC_VARIABLE}=path/to/spec.yaml")
    return _load_file(str(Path(spec).resolve()))


@functools.lru_cache(maxsize=16)
def _load_file(path: str) -> Grader:
    return load_spec(path)
