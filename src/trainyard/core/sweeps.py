"""Sweeps: the trial entity and the rules of trial names and placeholders.

A sweep is a job of ``type: sweep``; its trials are command jobs named ``<sweep>_trial_<n>``
(``_r<k>`` appended when a trial interrupted by a server restart is run again, attempt ``k``).
A trial's ``status`` is its job's, ``Queued`` until its job exists; once it is final, its
``objective`` and ``reason`` (why a policy or the timeout ended it) are recorded for good.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trainyard.core.jobs import JobStatus, placeholders

SEARCH_SPACE = "search_space"
"""The placeholder kind of sweep parameters: ``${{search_space.NAME}}``."""


@dataclass(frozen=True, slots=True)
class Trial:
    """One trial of a sweep, as the store keeps it.

    Attributes:
        parameters: the values the trial's command got, by parameter name.
        raw: the values Optuna sampled (before transforms such as ``exp`` or quantisation),
            needed to rebuild the study after a restart.
        final: True once the trial's outcome is recorded (its job ended and was accounted for).
    """

    workspace: str
    sweep: str
    number: int
    job_name: str
    attempt: int
    status: JobStatus
    parameters: dict[str, Any]
    raw: dict[str, Any]
    created_at: int
    updated_at: int
    objective: float | None = None
    reason: str | None = None
    final: bool = False


def trial_job_name(sweep: str, number: int, attempt: int = 0) -> str:
    """``ridge_trial_3``, or ``ridge_trial_3_r1`` for its second attempt."""
    return f"{sweep}_trial_{number}" + (f"_r{attempt}" if attempt else "")


def search_space_names(command: str) -> list[str]:
    """The parameter names ``command`` uses as ``${{search_space.NAME}}``, in order."""
    return [name for kind, name in placeholders(command) if kind == SEARCH_SPACE]
