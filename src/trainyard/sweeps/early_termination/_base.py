"""The early-termination seam: which running trials a policy ends, from their metric histories.

Contract of a :class:`Policy`:

- ``histories`` maps a trial's number to the values of the primary metric it logged, in order
  (by step, then time). Each logged value is one *interval*: interval ``n`` is ``values[n-1]``.
- A policy applies at the intervals ``n`` that are multiples of ``evaluation_interval`` and at
  least ``delay_evaluation``. At interval ``n`` a trial is compared only with what the other
  trials had logged by *their* interval ``n`` (a young trial is not judged against the late
  values of older ones). Each (trial, interval) is judged once.
- ``evaluate`` returns ``{number: reason}`` for the running trials to end; the reason is
  recorded on the trial. It is pure (no I/O); the controller reads histories and cancels.
- Values that are not finite count as the worst possible.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any


class Policy(abc.ABC):
    """One early-termination policy of one sweep (it remembers what it judged)."""

    name = "policy"

    def __init__(self, spec: Any, goal: str) -> None:
        self.spec = spec
        self.goal = goal
        self._judged: dict[int, int] = {}

    # ------------------------------------------------------------------ helpers
    def loss(self, value: float) -> float:
        """Lower is better, whatever the goal; not finite is the worst."""
        if not math.isfinite(value):
            return math.inf
        return value if self.goal == "minimize" else -value

    def best(self, values: Sequence[float]) -> float:
        """The best of ``values`` by the goal."""
        return min(values, key=self.loss)

    def due(self, interval: int) -> bool:
        """Whether the policy applies at ``interval``."""
        return interval % self.spec.evaluation_interval == 0 and (
            interval >= self.spec.delay_evaluation
        )

    @staticmethod
    def peers(histories: Mapping[int, Sequence[float]], interval: int) -> dict[int, list[float]]:
        """The trials that reached ``interval``, with their values up to it."""
        return {n: list(h[:interval]) for n, h in histories.items() if len(h) >= interval}

    # ------------------------------------------------------------------ contract
    @abc.abstractmethod
    def judge(self, number: int, interval: int, peers: dict[int, list[float]]) -> str | None:
        """Why trial ``number`` should end at ``interval`` (None: it goes on)."""

    def evaluate(
        self, histories: Mapping[int, Sequence[float]], running: Collection[int]
    ) -> dict[int, str]:
        """The running trials to end, with the reason of each."""
        ended: dict[int, str] = {}
        for number in sorted(running):
            history = histories.get(number, ())
            start = self._judged.get(number, 0) + 1
            for interval in range(start, len(history) + 1):
                self._judged[number] = interval
                if not self.due(interval):
                    continue
                reason = self.judge(number, interval, self.peers(histories, interval))
                if reason is not None:
                    ended[number] = reason
                    break
        return ended


def fmt(value: float) -> str:
    """A metric value in a reason: four significant digits."""
    return f"{value:.4g}"
