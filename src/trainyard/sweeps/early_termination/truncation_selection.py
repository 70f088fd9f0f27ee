"""``truncation_selection``: end the worst ``truncation_percentage`` % of the trials.

At interval ``n``, the trials that reached ``n`` are ranked by the best value each logged by
its interval ``n``; the ``floor(count * percentage / 100)`` worst ones end (ties go against the
later trial). Finished trials take part in the ranking, unless ``exclude_finished_jobs``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from trainyard.sweeps.early_termination._base import Policy, fmt


class TruncationSelection(Policy):
    """The truncation selection policy."""

    name = "truncation_selection"
    _running: frozenset[int] = frozenset()

    def evaluate(
        self, histories: Mapping[int, Sequence[float]], running: Collection[int]
    ) -> dict[int, str]:
        """As the base, knowing which trials still run (for ``exclude_finished_jobs``)."""
        self._running = frozenset(running)
        return super().evaluate(histories, running)

    def judge(self, number: int, interval: int, peers: dict[int, list[float]]) -> str | None:
        """End ``number`` if it ranks in the worst percentage at ``interval``."""
        if self.spec.exclude_finished_jobs:
            peers = {n: v for n, v in peers.items() if n in self._running}
        pct = self.spec.truncation_percentage
        cut = len(peers) * pct // 100
        if len(peers) < 2 or cut == 0:
            return None
        ranked = sorted(peers, key=lambda n: (self.loss(self.best(peers[n])), n))
        rank = ranked.index(number) + 1
        if rank <= len(ranked) - cut:
            return None
        return (
            f"truncation_selection: {fmt(self.best(peers[number]))} ranks {rank} of "
            f"{len(ranked)} at interval {interval}, in the worst {pct}%"
        )
