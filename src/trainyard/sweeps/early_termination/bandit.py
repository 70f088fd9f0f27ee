"""``bandit``: end a trial that falls out of the slack allowed from the best trial.

At interval ``n``, with ``best`` the best value any trial logged by its interval ``n`` and
``mine`` the best this trial logged by then, the trial ends when ``mine`` is worse than:

- ``slack_factor`` f: ``best * (1 + f)`` when minimising, ``best / (1 + f)`` when maximising
  (for a negative ``best`` the same distance, ``|best| * f`` resp. ``|best| * f / (1 + f)``);
- ``slack_amount`` a: ``best + a`` when minimising, ``best - a`` when maximising.

E.g. maximising with f = 0.1 and a best of 0.8: trials below 0.8 / 1.1 = 0.727 end.
"""

from __future__ import annotations

from trainyard.sweeps.early_termination._base import Policy, fmt


class Bandit(Policy):
    """The bandit policy."""

    name = "bandit"

    def judge(self, number: int, interval: int, peers: dict[int, list[float]]) -> str | None:
        """End ``number`` if it is out of the slack at ``interval``."""
        if len(peers) < 2:
            return None
        best = self.best([self.best(v) for v in peers.values()])
        mine = self.best(peers[number])
        factor, amount = self.spec.slack_factor, self.spec.slack_amount
        minimize = self.goal == "minimize"
        if factor is not None:
            slack = abs(best) * factor if minimize else abs(best) * factor / (1 + factor)
            how = f"* (1 + {factor})" if minimize else f"/ (1 + {factor})"
        else:
            slack, how = amount, (f"+ {amount}" if minimize else f"- {amount}")
        limit = best + slack if minimize else best - slack
        if self.loss(mine) <= self.loss(limit):
            return None
        sign = ">" if minimize else "<"
        return f"bandit: {fmt(mine)} {sign} best {fmt(best)} {how} at interval {interval}"
