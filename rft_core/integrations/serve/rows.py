"""``/score``'s rows: a request's rows read into the samples and items to grade, and the results
written back as ``rft score``'s output rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...kernel.types import Result, Sample, SharedResult
from ...run.data import Task, plain_text_row, tasks_from_row
from ...run.runner import output_row, pair_results, to_rows

__all__ = ["ScoreRows", "output_rows", "read_rows"]


class ScoreRows:
    """A request's rows: the samples and items to grade, in order, and, when some row is not a
    plain-text row (completions, messages, an unreadable row), the task of every sample."""

    __slots__ = ("samples", "items", "tasks")

    def __init__(self, samples: list[Sample], items: list[Any], tasks: list[Task] | None) -> None:
        self.samples = samples
        self.items = items
        self.tasks = tasks


def read_rows(rows: list[Any]) -> ScoreRows:
    """The rows as ``rft score`` reads them (any row format).

    A plain-text row (``plain_text_row``, the usual one) becomes its sample and, the decoded request
    being the server's own, itself less ``output_text`` as the item: no copy, no Task. From the
    first other row on, rows are read by ``tasks_from_row``."""
    samples: list[Sample] = []
    items: list[Any] = []
    for index, row in enumerate(rows):
        if not plain_text_row(row):
            return _read_tasks(rows, index, samples, items)
        samples.append(Sample(row.pop("output_text")))
        items.append(row)
    return ScoreRows(samples, items, None)


def _read_tasks(rows: list[Any], start: int, samples: list[Sample], items: list[Any]) -> ScoreRows:
    tasks = [Task(index, sample, item, id=item.get("id")) for index, (sample, item) in enumerate(zip(samples, items))]
    for index in range(start, len(rows)):
        tasks.extend(tasks_from_row(rows[index], index))
    readable = [task for task in tasks if task.error is None]  # an unreadable row's task has no sample
    return ScoreRows([task.sample for task in readable if task.sample is not None], [task.item for task in readable], tasks)


def output_rows(read: ScoreRows, results: Sequence[Result], seconds: float) -> list[dict[str, Any]]:
    """The output rows of the graded samples (``seconds`` each) and of the unreadable rows, in row order.

    A plain result (no error code, usage or metadata; sub-results, if any, each a bare reward, status
    and reason) has its row built here in one dict display, the row ``output_row`` would build; any
    other result goes through ``output_row``."""
    if read.tasks is not None:
        return to_rows(pair_results(read.tasks, results, seconds))
    shared: dict[int, dict[str, Any]] = {}  # a read-only sub-result's dict, made once (see runner.to_rows)
    plain: dict[int, dict[str, Any]] = {}  # the same for plain read-only sub-results, for the plain rows
    rows: list[dict[str, Any]] = []
    append = rows.append
    for index, (result, item) in enumerate(zip(results, read.items)):
        row_id = item.get("id")
        subs = _plain_views(result, plain) if result.error_code is None and result.usage is None \
            and not result.metadata else None
        if subs is None:
            append(output_row(result, seconds, index, shared, row_id=row_id))
        elif row_id is None:
            append({"index": index, "reward": result.reward, "status": result.status._value_, "reason": result.reason,
                    "sub_rewards": subs, "errors": {}, "execution_time": seconds})
        else:
            append({"index": index, "id": row_id, "reward": result.reward, "status": result.status._value_,
                    "reason": result.reason, "sub_rewards": subs, "errors": {}, "execution_time": seconds})
    return rows


def _plain_views(result: Result, plain: dict[int, dict[str, Any]]) -> dict[str, Any] | None:
    """The ``sub_rewards`` of ``result``'s row when every sub-result is plain (else None); a plain
    SharedResult's view is kept in ``plain`` for the rows after it."""
    subs: dict[str, Any] = {}
    for name, sub in result.sub_rewards.items():
        view = plain.get(id(sub))
        if view is None:
            if sub.error_code is not None or sub.sub_rewards or sub.metadata or sub.usage is not None:
                return None
            view = {"reward": sub.reward, "status": sub.status._value_, "reason": sub.reason}
            if type(sub) is SharedResult:  # it lives as long as its grader: its id stays its own
                plain[id(sub)] = view
        subs[name] = view
    return subs
