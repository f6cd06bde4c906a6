"""batch_memo/shared: a value is made once per batch and key inside the block, every time outside it."""

from __future__ import annotations

import pytest

from rft_core.infra.batch_memo import batch_memo, shared


class Maker:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> list[int]:
        self.calls += 1
        return [self.calls]


def test_outside_a_block_every_call_makes_the_value():
    make, batch = Maker(), ([1], [2])
    assert shared(batch, "k", make) == [1]
    assert shared(batch, "k", make) == [2]


def test_inside_a_block_a_value_is_made_once_per_batch_and_key():
    make, batch = Maker(), ([1], [2])
    with batch_memo():
        first = shared(batch, "k", make)
        assert shared(batch, "k", make) is first  # the same batch objects and key: made once
        assert shared(batch, "other", make) == [2]  # another key
        assert shared(([1], [2]), "k", make) == [3]  # equal but different objects: another batch
    assert shared(batch, "k", make) == [4]  # the memo ends with the block


def test_a_nested_block_joins_the_outer_one():
    make, batch = Maker(), ([1], [2])
    with batch_memo():
        with batch_memo():
            made = shared(batch, "k", make)
        assert shared(batch, "k", make) is made


def test_a_failure_is_not_remembered():
    batch, calls = ([1], [2]), []

    def failing() -> None:
        calls.append(1)
        raise ValueError("bad row")

    with batch_memo():
        for _ in range(2):
            with pytest.raises(ValueError, match="bad row"):
                shared(batch, "k", failing)
    assert len(calls) == 2
