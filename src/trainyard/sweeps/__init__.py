"""The sweeps service: search spaces, samplers (Optuna), early termination, the controller."""

from trainyard.sweeps.controller import SweepController
from trainyard.sweeps.service import SweepService

__all__ = ["SweepController", "SweepService"]
