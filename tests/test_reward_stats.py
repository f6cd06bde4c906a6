"""rft_core.report.stats: mean, std, quantiles, histograms and Spearman, against the statistics module."""

from __future__ import annotations

import random
import statistics

import pytest

from rft_core.report.stats import describe, histogram, sample_std, spearman


@pytest.mark.parametrize(
    "values",
    [
        [0.0, 1.0],  # two values: every quantile interpolates
        [0.3, 0.7, 0.7, 1.0, 0.0, 0.25],  # ties and unsorted input
        [5.0, -2.0, 3.5, 3.5, 10.0, 0.0, 1.0],  # outside [0, 1]
        [random.Random(7).random() for _ in range(1001)],  # many values
    ],
    ids=["two", "ties", "wide", "many"],
)
def test_describe_matches_the_statistics_module(values):
    stats = describe(values)
    # statistics.quantiles(method="inclusive") with n=20 gives the 5%, 10%, ... 95% cut points
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    expected = {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values),
        "min": min(values),
        "p10": cuts[1],
        "p25": cuts[4],
        "median": statistics.median(values),
        "p75": cuts[14],
        "p90": cuts[17],
        "max": max(values),
    }
    assert stats == {key: pytest.approx(value, abs=1e-12) for key, value in expected.items()}


def test_describe_edges():
    # no values: nothing is defined
    assert set(describe([]).values()) == {None}
    # one value: every quantile is it, the sample std is undefined
    one = describe([0.4])
    assert (one["mean"], one["std"], one["min"], one["median"], one["max"]) == (0.4, None, 0.4, 0.4, 0.4)


def test_sample_std_is_n_minus_1():
    assert sample_std([0.0, 1.0]) == pytest.approx(statistics.stdev([0.0, 1.0]))
    assert sample_std([1.0, 1.0, 1.0]) == 0.0
    assert sample_std([1.0]) is None


@pytest.mark.parametrize(
    ("values", "counts", "low", "high"),
    [
        # bin edges at tenths: 0.3 and 0.7 start their own bins, 1.0 falls in the last one
        ([0.0, 0.3, 0.7, 0.7, 1.0, 0.95, 0.29999], [1, 0, 1, 1, 0, 0, 0, 2, 0, 2], 0.0, 1.0),
        # a value outside [0, 1]: the bins span min..max
        ([-1.0, 0.0, 1.0, 3.0], [1, 0, 1, 0, 0, 1, 0, 0, 0, 1], -1.0, 3.0),
        # one repeated value outside [0, 1]: a range of width 1 from it
        ([2.0, 2.0], [2, 0, 0, 0, 0, 0, 0, 0, 0, 0], 2.0, 3.0),
        ([], [0] * 10, 0.0, 1.0),
    ],
    ids=["tenths", "wide", "constant-wide", "empty"],
)
def test_histogram(values, counts, low, high):
    assert histogram(values) == {"low": low, "high": high, "counts": counts}


def _pearson_of_ranks(xs, ys):
    """Independent reference: ranks by counting (ties averaged), then statistics.correlation."""
    def ranks(values):
        return [sum(other < value for other in values) + (sum(other == value for other in values) + 1) / 2
                for value in values]
    return statistics.correlation(ranks(xs), ranks(ys))


@pytest.mark.parametrize(
    ("xs", "ys", "expected"),
    [
        ([1, 2, 3, 4], [0.1, 0.2, 0.3, 0.9], 1.0),  # perfect: any increasing function
        ([1, 2, 3, 4], [4, 3, 2, 1], -1.0),  # inverse
        ([1, 1, 0, 0], [1.0, 0.5, 0.5, 0.0], 0.7071067811865475),  # ties on both sides: average ranks
        ([1, 2, 3], [0.1, 0.5, 0.2], 0.5),
    ],
    ids=["perfect", "inverse", "ties", "partial"],
)
def test_spearman(xs, ys, expected):
    assert spearman(xs, ys) == pytest.approx(expected)
    assert spearman(xs, ys) == pytest.approx(_pearson_of_ranks(xs, ys))


def test_spearman_on_random_data_with_ties():
    generator = random.Random(3)
    xs = [generator.randint(0, 4) for _ in range(200)]
    ys = [round(generator.random(), 1) for _ in range(200)]
    assert spearman(xs, ys) == pytest.approx(_pearson_of_ranks(xs, ys))


@pytest.mark.parametrize(
    ("xs", "ys"),
    [([1], [1]), ([], []), ([1, 1, 1], [0.1, 0.2, 0.3]), ([1, 2, 3], [0.5, 0.5, 0.5])],
    ids=["one-pair", "none", "constant-gold", "constant-reward"],
)
def test_spearman_undefined(xs, ys):
    assert spearman(xs, ys) is None


def test_spearman_needs_pairs():
    with pytest.raises(ValueError, match="spearman needs pairs: 2 values against 1"):
        spearman([1, 2], [1])
