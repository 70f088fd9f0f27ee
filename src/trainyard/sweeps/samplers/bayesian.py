"""``bayesian``: the Tree-structured Parzen Estimator (Optuna's ``TPESampler``).

The first ten trials are random (TPE's start-up); later ones favour the regions where the
better trials were. ``constant_liar`` makes trials asked while others still run avoid the
points those are evaluating, which matters with ``max_concurrent_trials`` above one.
"""

from __future__ import annotations

import warnings

from optuna.exceptions import ExperimentalWarning
from optuna.samplers import BaseSampler, TPESampler

from trainyard.sweeps.samplers._base import SamplerFactory, restart_seed
from trainyard.sweeps.space import SearchSpace


def tpe(seed: int | None) -> TPESampler:
    """The TPE sampler sweeps use, as ``bench/sweeps.py`` builds it for Optuna directly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return TPESampler(seed=seed, constant_liar=True)


class Bayesian(SamplerFactory):
    """TPE sampling."""

    def build(self, space: SearchSpace, seed: int | None, done: int) -> BaseSampler:
        """``TPESampler(seed, constant_liar=True)``."""
        return tpe(restart_seed(seed, done))
