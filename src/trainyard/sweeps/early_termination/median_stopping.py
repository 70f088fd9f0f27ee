"""``median_stopping``: end a trial whose best value is worse than the median of the others'
running averages.

At interval ``n``, each other trial that reached ``n`` contributes the average of its first
``n`` values; the trial ends when the best of its own first ``n`` values is worse than the
median of those averages (at least one other trial must have reached ``n``).
"""

from __future__ import annotations

import statistics

from trainyard.sweeps.early_termination._base import Policy, fmt


class MedianStopping(Policy):
    """The median stopping policy."""

    name = "median_stopping"

    def judge(self, number: int, interval: int, peers: dict[int, list[float]]) -> str | None:
        """End ``number`` if its best is worse than the median of the running averages."""
        averages = [statistics.fmean(v) for n, v in peers.items() if n != number]
        if not averages:
            return None
        median = statistics.median(averages)
        mine = self.best(peers[number])
        if self.loss(mine) <= self.loss(median):
            return None
        sign = ">" if self.goal == "minimize" else "<"
        return (
            f"median_stopping: best {fmt(mine)} {sign} median {fmt(median)} of "
            f"{len(averages)} running averages at interval {interval}"
        )
