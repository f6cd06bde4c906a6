"""Work the children of a composite share while they grade the same batch (e.g. the normalised texts)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

__all__ = ["batch_memo", "shared"]

T = TypeVar("T")

_memo: ContextVar[dict[Hashable, tuple[Any, ...]] | None] = ContextVar("rft_batch_memo", default=None)


@contextmanager
def batch_memo() -> Iterator[None]:
    """Within the block, ``shared`` makes each value once per batch (a nested block joins the outer one)."""
    if _memo.get() is not None:
        yield
        return
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def shared(batch: tuple[Any, ...], key: Hashable, make: Callable[[], T]) -> T:
    """``make()``, made once for this ``batch`` (the objects graded, compared by identity) and ``key``
    inside ``batch_memo``, every time outside it. The memo keeps ``batch`` alive, so an id is never reused
    within the block; the batch must not change within it."""
    memo = _memo.get()
    if memo is None:
        return make()
    slot = (*map(id, batch), key)
    if slot not in memo:
        memo[slot] = (batch, make())
    return memo[slot][1]
