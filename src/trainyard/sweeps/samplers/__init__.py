"""Sampling algorithms, one module each behind ``_base.SamplerFactory``."""

from __future__ import annotations

from trainyard.sweeps.samplers._base import SamplerFactory
from trainyard.sweeps.samplers.bayesian import Bayesian
from trainyard.sweeps.samplers.grid import Grid
from trainyard.sweeps.samplers.random import Random

SAMPLERS: dict[str, SamplerFactory] = {"random": Random(), "grid": Grid(), "bayesian": Bayesian()}
"""The factory of each ``sampling_algorithm.type``."""

__all__ = ["SAMPLERS", "SamplerFactory"]
