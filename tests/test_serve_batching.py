"""serve.batching: concurrent requests for one grader are graded in one pass, each gets its own results."""

from __future__ import annotations

import asyncio

from rft_core import Grader, GraderConfig, Result, Sample
from rft_core.integrations.serve.batching import Batcher


class _Counting(Grader):
    """1.0 when the output equals item.answer; records the size of each batch it grades."""

    type = "counting_test"
    Config = GraderConfig

    def __init__(self) -> None:
        super().__init__()
        self.batch_sizes: list[int] = []

    def evaluate(self, sample, item):
        return self.evaluate_batch([sample], [item])[0]

    def evaluate_batch(self, samples, items):
        self.batch_sizes.append(len(samples))
        return [Result(float(sample.output_text == item["answer"])) for sample, item in zip(samples, items)]


def _request(answer: str, outputs: list[str]):
    return [Sample(output) for output in outputs], [{"answer": answer}] * len(outputs)


def test_requests_of_one_tick_share_one_pass_and_keep_their_own_rewards():
    grader = _Counting()
    batcher = Batcher(threads=2)

    async def clients():
        return await asyncio.gather(
            batcher.grade(grader, *_request("a", ["a", "b"])),
            batcher.grade(grader, *_request("b", ["b"])),
            batcher.grade(grader, *_request("c", ["x", "c", "c"])),
        )

    try:
        answers = asyncio.run(clients())
    finally:
        batcher.close()
    assert [[result.reward for result in results] for results, _ in answers] == [[1.0, 0.0], [1.0], [0.0, 1.0, 1.0]]
    assert grader.batch_sizes == [6]  # the three requests queued in one tick: one batch


def test_an_empty_request_is_answered_without_grading():
    grader = _Counting()
    batcher = Batcher(threads=1)
    try:
        assert asyncio.run(batcher.grade(grader, [], [])) == ([], 0.0)
    finally:
        batcher.close()
    assert grader.batch_sizes == []
