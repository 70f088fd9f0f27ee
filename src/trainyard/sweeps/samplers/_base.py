"""The sampler seam: how a sampling algorithm becomes an Optuna sampler.

Contract of a :class:`SamplerFactory`:

- ``build(space, seed, done)`` returns a fresh Optuna sampler for a study that already holds
  ``done`` trials (0 for a new sweep; more when a restarted server rebuilds the study from
  the recorded trials). The sampler draws its parameters only through ``study.ask`` with the
  space's distributions; it must not stop the study itself (the controller enforces limits).
- With a seed, a new sweep's sequence of parameters is exactly what Optuna gives with the same
  sampler and seed (``bench/sweeps.py`` checks it); a rebuilt study reseeds with ``seed + done``
  unless the order of the sampler's choices depends on the seed alone (grid).
- ``capacity`` is how many distinct trials the sampler can propose (None: unbounded).
"""

from __future__ import annotations

import abc

from optuna.samplers import BaseSampler

from trainyard.sweeps.space import SearchSpace


class SamplerFactory(abc.ABC):
    """Makes the Optuna sampler of one sampling algorithm."""

    @abc.abstractmethod
    def build(self, space: SearchSpace, seed: int | None, done: int) -> BaseSampler:
        """A sampler for a study over ``space`` that holds ``done`` trials already."""

    def capacity(self, space: SearchSpace) -> int | None:
        """How many distinct trials can be proposed (None: no bound)."""
        return None


def restart_seed(seed: int | None, done: int) -> int | None:
    """The seed of a sampler rebuilt after ``done`` trials (the same seed for a new study)."""
    return None if seed is None else (seed + done) % 2**32
