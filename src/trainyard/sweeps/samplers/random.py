"""``random``: every parameter drawn independently (Optuna's ``RandomSampler``)."""

from __future__ import annotations

from optuna.samplers import BaseSampler, RandomSampler

from trainyard.sweeps.samplers._base import SamplerFactory, restart_seed
from trainyard.sweeps.space import SearchSpace


class Random(SamplerFactory):
    """Random sampling; with a seed, the same sweep proposes the same parameters."""

    def build(self, space: SearchSpace, seed: int | None, done: int) -> BaseSampler:
        """``RandomSampler(seed)``."""
        return RandomSampler(seed=restart_seed(seed, done))
