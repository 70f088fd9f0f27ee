"""Repository interface of sweep trials. The sweeps service depends on it.

Contract (on top of ``store/_base.py``'s: thread- and process-safe, durable, all-or-nothing):

- A trial is ``(workspace, sweep, number)``; ``add_trial`` of a number that exists is an
  ``AlreadyExists`` and changes nothing, so a trial is never recorded twice.
- A trial is recorded *before* its job is submitted, so a restart finds every trial that may
  have started: none is lost, none is sampled again.
- Once ``final`` is set, the trial's status, objective and reason no longer change.
"""

from __future__ import annotations

import abc
from typing import Any

from trainyard.core.sweeps import Trial

TRIAL_FIELDS = frozenset({"job_name", "attempt", "status", "objective", "reason", "final"})
"""What ``update_trial`` may change."""


class SweepStore(abc.ABC):
    """The trials of every sweep."""

    @abc.abstractmethod
    def add_trial(self, trial: Trial) -> Trial:
        """Record a new trial; ``AlreadyExists`` if the sweep has that number already."""

    @abc.abstractmethod
    def update_trial(
        self, workspace: str, sweep: str, number: int, now: int, changes: dict[str, Any]
    ) -> Trial:
        """Change ``TRIAL_FIELDS`` of a trial that is not final yet; ``NotFound`` if absent,
        ``Conflict`` if it is final already."""

    @abc.abstractmethod
    def list_trials(self, workspace: str, sweep: str) -> list[Trial]:
        """The sweep's trials by number."""
