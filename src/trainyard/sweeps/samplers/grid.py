"""``grid``: every combination of the choice (and randint) values, each once.

Optuna's ``GridSampler`` gives trial ``n`` the ``n``-th point of the grid shuffled by the seed,
so a rebuilt study keeps the same seed and the numbering carries on where it stopped. Its
``after_trial`` stops the study once the grid is covered, which is only allowed inside
``study.optimize``; the controller stops at ``capacity`` instead, so that hook is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from optuna.samplers import BaseSampler, GridSampler

from trainyard.sweeps.samplers._base import SamplerFactory
from trainyard.sweeps.space import SearchSpace


class _AskTellGrid(GridSampler):
    def after_trial(
        self, study: Any, trial: Any, state: Any, values: Sequence[float] | None
    ) -> None:
        """Do not stop the study: the controller launches at most ``capacity`` trials."""


class Grid(SamplerFactory):
    """Grid sampling over choice and randint parameters."""

    def build(self, space: SearchSpace, seed: int | None, done: int) -> BaseSampler:
        """``GridSampler(grid, seed)``: the same order before and after a restart."""
        return _AskTellGrid(space.grid(), seed=seed)

    def capacity(self, space: SearchSpace) -> int | None:
        """The number of grid points."""
        return space.grid_size()
