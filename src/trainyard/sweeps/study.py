"""An Optuna study driven by ask-and-tell, rebuilt from the recorded trials after a restart.

Our trial numbers are Optuna's: trial ``n`` is the ``n``-th ``ask``. A rebuilt study adds the
recorded trials in order (``study.add_trial(create_trial(...))``): finished ones with their
state and objective, unfinished ones as RUNNING (told when their job ends), so the next ``ask``
gets the next number and the sampler knows everything that was tried.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import optuna
from optuna.trial import TrialState, create_trial

from trainyard.core.jobs import JobStatus
from trainyard.core.sweeps import Trial
from trainyard.sweeps.samplers import SAMPLERS
from trainyard.sweeps.space import SearchSpace

optuna.logging.set_verbosity(optuna.logging.WARNING)

STATES = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED, "fail": TrialState.FAIL}


def outcome(trial: Trial) -> str:
    """How a final trial is told to Optuna: complete, pruned (ended by a policy) or fail."""
    if trial.status == JobStatus.COMPLETED and _finite(trial.objective):
        return "complete"
    if trial.status == JobStatus.CANCELED and trial.reason:
        return "pruned"
    return "fail"


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


class SweepStudy:
    """The sampling side of one sweep.

    Args:
        space: the search space.
        algorithm: ``random``, ``grid`` or ``bayesian``.
        seed: the sampling seed, or None.
        goal: ``minimize`` or ``maximize``.
        trials: the trials recorded so far (a restart), by number.
    """

    def __init__(
        self,
        space: SearchSpace,
        algorithm: str,
        seed: int | None,
        goal: str,
        trials: Sequence[Trial] = (),
    ) -> None:
        self.space = space
        self._factory = SAMPLERS[algorithm]
        self._dists = space.distributions()
        sampler = self._factory.build(space, seed, len(trials))
        direction: Literal["minimize", "maximize"] = (
            "maximize" if goal == "maximize" else "minimize"
        )
        self.study = optuna.create_study(direction=direction, sampler=sampler)
        for t in sorted(trials, key=lambda t: t.number):
            self._add(t)

    @property
    def capacity(self) -> int | None:
        """How many distinct trials the sampler can propose (None: no bound)."""
        return self._factory.capacity(self.space)

    def _add(self, trial: Trial) -> None:
        while len(self.study.trials) < trial.number:  # a gap: never happens, but keep numbers
            self.study.add_trial(create_trial(state=TrialState.FAIL))
        if not trial.final:
            state, value = TrialState.RUNNING, None
        else:
            state = STATES[outcome(trial)]
            value = trial.objective if state == TrialState.COMPLETE else None
        self.study.add_trial(
            create_trial(params=trial.raw, distributions=self._dists, state=state, value=value)
        )

    def ask(self) -> tuple[int, dict[str, Any], dict[str, Any]]:
        """The next trial: its number, Optuna's raw sample and the trial's parameters."""
        t = self.study.ask(self._dists)
        raw = {name: t.params[name] for name in self._dists}
        return t.number, raw, self.space.values(raw)

    def tell(self, number: int, how: str, value: float | None = None) -> None:
        """Record the end of trial ``number``: ``complete`` (with its value), pruned or fail."""
        state = STATES[how]
        if self.study.trials[number].state.is_finished():
            return
        if state == TrialState.COMPLETE:
            self.study.tell(number, value)
        else:
            self.study.tell(number, state=state)
