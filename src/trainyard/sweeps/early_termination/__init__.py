"""Early-termination policies, one module each behind ``_base.Policy``."""

from __future__ import annotations

from typing import Any

from trainyard.sweeps.early_termination._base import Policy
from trainyard.sweeps.early_termination.bandit import Bandit
from trainyard.sweeps.early_termination.median_stopping import MedianStopping
from trainyard.sweeps.early_termination.truncation_selection import TruncationSelection

POLICIES: dict[str, type[Policy]] = {
    "bandit": Bandit,
    "median_stopping": MedianStopping,
    "truncation_selection": TruncationSelection,
}


def make_policy(spec: Any, goal: str) -> Policy | None:
    """The policy of an ``early_termination`` spec (None when the sweep has none)."""
    return None if spec is None else POLICIES[spec.type](spec, goal)


__all__ = ["POLICIES", "Policy", "make_policy"]
