"""``/score``'s output rows: the plain-result fast path builds exactly the rows ``output_row`` builds."""

from __future__ import annotations

from types import MappingProxyType

from rft_core import Result, Sample
from rft_core.integrations.serve.rows import ScoreRows, output_rows
from rft_core.kernel.types import SharedResult, Status, Usage
from rft_core.run.runner import output_row

HIT = SharedResult(1.0)
MISS = SharedResult(0.0, reason="no match")
FLAGGED = SharedResult(0.0, metadata={"why": "flagged"})


def mixed_results() -> list[Result]:
    """Every kind of result a batch can mix: plain ones (with and without sub-results) and the rest."""
    return [
        Result(0.5),
        Result(0.75, sub_rewards={"exact": HIT, "close": Result(0.5)}),
        Result(0.25, sub_rewards={"exact": MISS, "close": Result(0.5, reason="far")}),
        Result(0.0, Status.ERROR, "boom", error_code="grader_error"),
        Result(0.0, Status.PARSE_ERROR, "not JSON", error_code="model_grader_parse_error"),
        Result(0.4, metadata=MappingProxyType({"matched": "Paris"})),
        Result(0.3, usage=Usage(input_tokens=7, output_tokens=3, cost_usd=0.01)),
        Result(0.6, sub_rewards={"exact": FLAGGED, "close": Result(0.6)}),
        Result(0.2, sub_rewards={"judge": Result(0.0, Status.ERROR, "down", error_code="judge_error")}),
        Result(0.9, sub_rewards={"outer": Result(0.9, sub_rewards={"inner": HIT})}),
        Result(0.8, sub_rewards={"exact": HIT, "close": Result(0.8, metadata={"ratio": 0.8})}),
        Result(1.0, sub_rewards={"exact": HIT, "close": HIT}),
        Result(float("nan"), Status.TIMEOUT, "slow"),
    ]


def general_rows(items: list[dict], results: list[Result], seconds: float) -> list[dict]:
    shared: dict = {}
    return [output_row(result, seconds, index, shared, row_id=item.get("id"))
            for index, (result, item) in enumerate(zip(results, items))]


def test_fast_path_rows_equal_the_general_rows_on_a_mixed_batch():
    results = mixed_results() * 2  # the second round meets the plain SharedResults' kept views
    items = [{"answer": "x", "id": f"row-{index}"} if index % 3 else {"answer": "x"} for index in range(len(results))]
    read = ScoreRows([Sample("text")] * len(results), items, None)
    fast = output_rows(read, results, 0.125)
    general = general_rows(items, results, 0.125)
    assert [list(row) for row in fast] == [list(row) for row in general]  # key order too: it is the JSON's order
    assert repr(fast) == repr(general)  # NaN rewards compare unequal as values, equal as text


def test_a_plain_row_has_the_rft_score_row_format():
    read = ScoreRows([Sample("a")], [{"answer": "a", "id": 7}], None)
    [row] = output_rows(read, [Result(0.75, sub_rewards={"exact": HIT, "close": Result(0.5)})], 0.5)
    assert row == {
        "index": 0, "id": 7, "reward": 0.75, "status": "ok", "reason": None,
        "sub_rewards": {"exact": {"reward": 1.0, "status": "ok", "reason": None},
                        "close": {"reward": 0.5, "status": "ok", "reason": None}},
        "errors": {}, "execution_time": 0.5,
    }
    assert list(row) == ["index", "id", "reward", "status", "reason", "sub_rewards", "errors", "execution_time"]
