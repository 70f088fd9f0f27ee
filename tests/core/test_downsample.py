"""Min/max bucketing of a metric history for charts."""

from __future__ import annotations

import doctest
import math
import random

import pytest

from trainyard.core import downsample as module
from trainyard.core.downsample import MIN_POINTS, downsample, minmax_indices
from trainyard.errors import InvalidArgument


def test_the_docstring_example_holds() -> None:
    assert doctest.testmod(module).failed == 0


def test_a_series_that_fits_is_kept_whole() -> None:
    assert minmax_indices([], 10) == []
    assert minmax_indices([1.0], 10) == [0]
    assert minmax_indices([float(i) for i in range(10)], 10) == list(range(10))


@pytest.mark.parametrize("n", [11, 101, 1000, 100_000])
@pytest.mark.parametrize("points", [MIN_POINTS, 5, 10, 1000])
def test_the_budget_holds_and_indices_ascend(n: int, points: int) -> None:
    rng = random.Random(n * points)
    values = [rng.gauss(0, 1) for _ in range(n)]
    idx = minmax_indices(values, points)
    assert len(idx) <= points
    assert idx == sorted(set(idx))
    assert idx[0] == 0 and idx[-1] == n - 1


def test_every_spike_and_dip_survives() -> None:
    values = [0.0] * 100_000
    spikes = {1234: 50.0, 40_000: -75.0, 77_777: 1e9, 99_998: -1e9}
    for i, v in spikes.items():
        values[i] = v
    idx = minmax_indices(values, 100)
    assert set(spikes) <= set(idx)
    kept = [values[i] for i in idx]
    assert max(kept) == max(values) and min(kept) == min(values)


def test_each_bucket_keeps_its_own_extremes() -> None:
    rng = random.Random(3)
    values = [rng.uniform(-1, 1) for _ in range(10_002)]
    idx = set(minmax_indices(values, 202))  # 100 buckets of 100 inner points
    for b in range(100):
        bucket = range(1 + b * 100, 1 + (b + 1) * 100)
        lo = min(bucket, key=values.__getitem__)
        hi = max(bucket, key=values.__getitem__)
        assert lo in idx and hi in idx


def test_a_flat_bucket_keeps_one_point() -> None:
    idx = minmax_indices([1.0] * 1000, 10)
    assert len(idx) == 2 + 4  # first, last, and one per bucket


def test_nan_is_skipped_but_an_all_nan_bucket_shows_its_gap() -> None:
    values = [0.0] + [math.nan] * 50 + [1.0, 2.0, math.nan, -2.0] + [0.0] * 45
    idx = minmax_indices(values, 6)  # two buckets of 49 inner points each
    kept = [values[i] for i in idx]
    assert 1 in idx  # first bucket is all NaN: its first point marks the gap
    assert 2.0 in kept and -2.0 in kept


def test_too_small_a_budget_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="at least 4"):
        minmax_indices([1.0] * 10, 3)


def test_downsample_pairs_xs_with_ys() -> None:
    xs = [float(i) for i in range(1000)]
    ys = [math.sin(i / 10) for i in range(1000)]
    dx, dy = downsample(xs, ys, 50)
    assert len(dx) == len(dy) <= 50
    assert all(ys[int(x)] == y for x, y in zip(dx, dy, strict=True))
    with pytest.raises(InvalidArgument):
        downsample([1.0], [1.0, 2.0], 10)
