"""verifiers / prime-rl adapter: a spec as a ``verifiers`` Rubric.

``rubric(spec)`` returns ``vf.Rubric(funcs=..., weights=...)`` built from ``reward_functions(spec)``.
Each function is a verifiers *group* reward function (its parameters are plural: ``completions``,
``answers``, ...), so the Rubric hands it a whole group at once and the spec grades the group in one
``grade_batch``; the first function grades, the others read the results it left in each state.

- A spec whose root is a weighted sum of its components (see ``rft_core.integrations.trl.reward_weights``)
  gives one function per component with its weight: their weighted sum is the spec's reward.
- Any other spec gives one function for the root (weight 1) and one per component with weight 0
  (verifiers logs every function's score as a metric).
- ``ungradable`` (weight 0) is 1.0 for a sample the reward did not judge (``components.ungradable``).

The item is the row's ``info`` with the ``answer`` over it (``components.label_item``; verifiers'
default empty answer leaves ``info`` alone) and the prompt as ``item.prompt``; a completion may be text or chat messages (the last assistant message is graded).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..kernel.errors import RftError
from ..kernel.grader import Grader
from .trl import reward_weights
from .completions import to_sample
from ..kernel.types import Result
from .components import UNGRADABLE, component_paths, label_item, spec_grader, ungradable

__all__ = ["GroupReward", "reward_functions", "rubric"]

STATE_KEY = "rft_result"
"""Where a state keeps its result: (the completion graded, the Result)."""


class GroupReward:
    """One column of the spec's results as a verifiers group reward function (picklable, named).

    Args:
        grader: the spec's root grader (every function of a rubric shares it).
        name: the function's ``__name__``: what verifiers logs.
        pick: ``"reward"`` (the root's), ``"ungradable"``, or a component key.
    """

    def __init__(self, grader: Grader, name: str, pick: str) -> None:
        self.grader = grader
        self.__name__ = name
        self.pick = pick

    def __call__(
        self, completions: Sequence[Any], prompts: Sequence[Any], answers: Sequence[Any],
        infos: Sequence[Mapping[str, Any]], states: Sequence[dict[str, Any]],
    ) -> list[float]:
        results = self.results(completions, prompts, answers, infos, states)
        if self.pick == "reward":
            return [float(result.reward) for result in results]
        if self.pick == UNGRADABLE:
            return list(map(ungradable, results))
        subs = [result.sub_rewards.get(self.pick) for result in results]
        return [0.0 if sub is None else float(sub.reward) for sub in subs]

    def results(
        self, completions: Sequence[Any], prompts: Sequence[Any], answers: Sequence[Any],
        infos: Sequence[Mapping[str, Any]], states: Sequence[dict[str, Any]],
    ) -> list[Result]:
        """The group's results: graded now, or left in the states by the rubric's first function."""
        kept = [state.get(STATE_KEY) for state in states]
        if all(entry is not None and entry[0] is completion for entry, completion in zip(kept, completions)):
            return [entry[1] for entry in kept]
        items = [_item(prompt, answer, info) for prompt, answer, info in zip(prompts, answers, infos)]
        results = self.grader.grade_batch([to_sample(completion) for completion in completions], items)
        for state, completion, result in zip(states, completions, results):
            state[STATE_KEY] = (completion, result)
        return results

    def __repr__(self) -> str:
        return f"<GroupReward {self.__name__!r} of {self.grader!r}>"


def reward_functions(spec: str | Path | Mapping[str, Any] | Grader) -> tuple[list[GroupReward], list[float]]:
    """The rubric's functions and weights (see the module's docstring)."""
    grader = spec_grader(spec, "rft_core.integrations.verifiers")
    keys = [path[0] for path in component_paths(grader) if len(path) == 1]
    try:
        weights = reward_weights(grader) if keys else None
    except RftError:  # not a weighted sum: the root gives the reward, the components are logged
        weights = None
    if weights is not None:
        funcs = [GroupReward(grader, key, key) for key in keys]
    else:
        funcs = [GroupReward(grader, grader.name, "reward")] + [GroupReward(grader, key, key) for key in keys]
        weights = [1.0] + [0.0] * len(keys)
    return [*funcs, GroupReward(grader, UNGRADABLE, UNGRADABLE)], [*weights, 0.0]


def rubric(spec: str | Path | Mapping[str, Any] | Grader) -> Any:
    """``verifiers.Rubric(funcs=..., weights=...)`` for the spec; needs ``verifiers`` installed."""
    try:
        import verifiers
    except ImportError:
        raise RftError("rft_core.integrations.verifiers.rubric needs the 'verifiers' package, which is not "
                       "installed: pip install verifiers (or build the Rubric from reward_functions(spec))") from None
    rubric_class = getattr(verifiers, "Rubric", None)
    if rubric_class is None:
        version = getattr(verifiers, "__version__", "?")
        raise RftError(f"verifiers {version} has no Rubric (0.4 replaced rubrics with tasks' @reward methods): "
                       "pip install 'verifiers<0.4', or call reward_functions(spec) from your own rewards")
    funcs, weights = reward_functions(spec)
    return rubric_class(funcs=funcs, weights=weights)


def _item(prompt: Any, answer: Any, info: Mapping[str, Any] | None) -> dict[str, Any]:
    """The row's info, the answer over it (verifiers' default empty answer leaves info's), the prompt."""
    item = dict(info or {})
    if answer is not None and answer != "":
        item.update(label_item(answer))
    item.setdefault("prompt", prompt)
    return item
