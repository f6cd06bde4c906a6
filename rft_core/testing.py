"""Helpers for testing graders and plugins without depending on what happens to be installed.

``make_registry(plugin_module)`` gives the built-in graders plus the plugins you name, registered
through their ``register_graders`` hook exactly as an installed plugin is; ``call_like_trl`` calls
a spec's reward functions the way TRL's ``GRPOTrainer`` does (the same keyword arguments, async
functions awaited), offline and without a model.

For pytest, ``rft_core.pytest_plugin`` provides the fixture ``rft_registry``: add
``pytest_plugins = ["rft_core.pytest_plugin"]`` to your ``conftest.py``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from .kernel.plugins import make_plugin_manager
from .kernel.registry import Registry
from .integrations.trl import Spec, reward_funcs

__all__ = ["TrlCall", "call_like_trl", "make_registry"]


def make_registry(*plugins: ModuleType | tuple[str, ModuleType]) -> Registry:
    """The built-in graders plus ``plugins``, each a hook module or a ``(distribution name, module)``
    pair; installed plugins never load. A module alone is named after itself."""
    manager = make_plugin_manager(load_entry_points=False)
    for plugin in plugins:
        name, module = plugin if isinstance(plugin, tuple) else (plugin.__name__, plugin)
        manager.register(module, name=name)
    return Registry.from_plugin_manager(manager)


class TrlCall:
    """What one TRL-style call returned: ``rewards[name]`` per reward function, and what the
    functions logged through ``log_metric`` (``metrics``) and ``log_extra`` (``extra``)."""

    def __init__(self) -> None:
        self.rewards: dict[str, list[float | None]] = {}
        self.metrics: dict[str, float] = {}
        self.extra: dict[str, list[Any]] = {}


def call_like_trl(
    spec: Spec,
    completions: Sequence[Any],
    *,
    prompts: Sequence[Any] | None = None,
    columns: Mapping[str, Sequence[Any]] | None = None,
    registry: Registry | None = None,
    split: bool = False,
) -> TrlCall:
    """Call ``reward_funcs(spec, split=split)`` as ``GRPOTrainer`` does, with one value per
    completion in each column (``columns={"answer": ["4", "6"]}``) plus ``trainer_state``,
    ``log_extra`` and ``log_metric``.

    >>> call_like_trl({"type": "string_check", "name": "exact", "reference": "{{ item.answer }}"},
    ...               ["4", "5"], columns={"answer": ["4", "6"]}).rewards
    {'exact': [1.0, 0.0]}
    """
    call = TrlCall()
    prompts = list(prompts) if prompts is not None else [""] * len(completions)
    keywords: dict[str, Any] = {key: list(values) for key, values in (columns or {}).items()}
    for key, values in keywords.items():
        if len(values) != len(completions):
            raise ValueError(f"column {key!r} has {len(values)} values for {len(completions)} completions")
    keywords.update(trainer_state=None, log_metric=call.metrics.__setitem__, log_extra=call.extra.__setitem__)
    for function in reward_funcs(spec, split=split, registry=registry):
        rewards = function(prompts=prompts, completions=list(completions), completion_ids=None, **keywords)
        if inspect.isawaitable(rewards):
            rewards = asyncio.run(rewards)
        call.rewards[function.__name__] = list(rewards)
    return call
