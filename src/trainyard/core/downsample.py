"""Downsampling a metric history for a chart, keeping every peak and trough.

A browser charts a few thousand points smoothly and freezes on hundreds of thousands, while a
plain "every k-th point" thinning hides exactly what a user looks for (a loss spike, a dip in
accuracy). ``minmax_indices`` splits the series into equal-count buckets by position and keeps,
in each bucket, the point with the smallest and the point with the largest value, plus the first
and the last point of the whole series. Drawn as a line, the result has the same envelope as the
full series: every local extreme at the bucket's resolution is still there.

Buckets are by position, not by x value, so the function needs no assumption about the spacing
of steps or timestamps; it is O(n) with no allocation beyond the answer. NaN values are skipped
when looking for extremes; a bucket with nothing but NaN keeps its first point so that the chart
shows the gap.

Example::

    >>> values = [0.0, 5.0, 1.0, 1.0, -3.0, 1.0, 1.0, 2.0]
    >>> minmax_indices(values, 6)
    [0, 1, 2, 4, 5, 7]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from trainyard.errors import InvalidArgument

MIN_POINTS = 4
"""The smallest budget: the first and last point and one bucket's min and max."""


def minmax_indices(values: Sequence[float], points: int) -> list[int]:
    """Indices (ascending) of at most ``points`` values that keep the series' envelope.

    Args:
        values: the series in x order (a metric history by step, then time).
        points: the budget, at least ``MIN_POINTS``; a series that fits is kept whole.

    Returns:
        Ascending indices into ``values``: the first and last index, and the minimum and
        maximum of each of ``(points - 2) // 2`` equal-count buckets in between.

    Raises:
        InvalidArgument: ``points`` is below ``MIN_POINTS``.
    """
    if points < MIN_POINTS:
        raise InvalidArgument(f"points must be at least {MIN_POINTS}, got {points}")
    n = len(values)
    if n <= points:
        return list(range(n))
    inner = n - 2
    buckets = (points - 2) // 2
    keep = [0]
    for b in range(buckets):
        start = 1 + b * inner // buckets
        end = 1 + (b + 1) * inner // buckets
        lo_i = hi_i = -1
        lo = math.inf
        hi = -math.inf
        for i in range(start, end):
            v = values[i]
            if v != v:  # NaN
                continue
            if v < lo:
                lo, lo_i = v, i
            if v > hi:
                hi, hi_i = v, i
        if lo_i < 0:  # only NaN here: keep one point so that the gap shows
            keep.append(start)
        elif lo_i == hi_i:
            keep.append(lo_i)
        else:
            keep.extend((lo_i, hi_i) if lo_i < hi_i else (hi_i, lo_i))
    keep.append(n - 1)
    return keep


def downsample(
    xs: Sequence[float], ys: Sequence[float], points: int
) -> tuple[list[float], list[float]]:
    """``(xs, ys)`` thinned to at most ``points`` pairs by ``minmax_indices`` on ``ys``."""
    if len(xs) != len(ys):
        raise InvalidArgument(f"xs and ys differ in length: {len(xs)} and {len(ys)}")
    idx = minmax_indices(ys, points)
    return [xs[i] for i in idx], [ys[i] for i in idx]
