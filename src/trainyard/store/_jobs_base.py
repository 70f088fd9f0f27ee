"""Repository interfaces of jobs and their assets. The jobs service depends on these.

Contract (checked by ``trainyard.testing.jobs_suite`` on SQLite and PostgreSQL), on top of the
one stated in ``store/_base.py`` (thread- and process-safe, durable, all-or-nothing):

- A versioned asset is ``(workspace, name, version)``. ``put_asset`` creates it, or updates the
  description and tags of an existing one; a different ``spec`` for an existing version is a
  ``Conflict`` (versions are immutable, so a job always gets what it resolved).
- Job names are unique per workspace (``AlreadyExists``); ``seq`` orders jobs by submission.
- ``transition`` is a compare-and-set: it moves a job to a status only from a status allowed to
  reach it (``core.jobs.TRANSITIONS``) and records the change in the same transaction; it
  returns None, changing nothing, when the job has moved on (e.g. canceled meanwhile).
"""

from __future__ import annotations

import abc
from typing import Any

from trainyard.core.jobs import AssetKind, AssetVersion, Compute, Datastore, Job, JobStatus


class AssetStore(abc.ABC):
    """Environments, data and code assets (versioned), computes and datastores."""

    @abc.abstractmethod
    def put_asset(
        self,
        kind: AssetKind,
        workspace: str,
        name: str,
        version: str,
        spec: dict[str, Any],
        description: str,
        tags: dict[str, str],
        now: int,
    ) -> tuple[AssetVersion, bool]:
        """Create the version (True) or update its description and tags (False)."""

    @abc.abstractmethod
    def get_asset(
        self, kind: AssetKind, workspace: str, name: str, version: str | None
    ) -> AssetVersion:
        """The version, or the newest one when ``version`` is None; ``NotFound`` otherwise."""

    @abc.abstractmethod
    def list_assets(self, kind: AssetKind, workspace: str, name: str | None) -> list[AssetVersion]:
        """Every version (of ``name``, or of all), by name, newest first within a name."""

    @abc.abstractmethod
    def put_compute(self, compute: Compute) -> Compute:
        """Create or replace a compute."""

    @abc.abstractmethod
    def get_compute(self, workspace: str, name: str) -> Compute:
        """The stored compute, or ``NotFound``."""

    @abc.abstractmethod
    def list_computes(self, workspace: str) -> list[Compute]:
        """Every stored compute, by name."""

    @abc.abstractmethod
    def put_datastore(self, datastore: Datastore) -> tuple[Datastore, bool]:
        """Create (True) or replace the URL, description and tags of (False) a datastore."""

    @abc.abstractmethod
    def get_datastore(self, workspace: str, name: str) -> Datastore:
        """The stored datastore, or ``NotFound``."""

    @abc.abstractmethod
    def list_datastores(self, workspace: str) -> list[Datastore]:
        """Every stored datastore, by name."""


class JobStore(abc.ABC):
    """Jobs, their status and its history."""

    @abc.abstractmethod
    def create_job(
        self,
        workspace: str,
        name: str,
        compute: str,
        document: dict[str, Any],
        resolved: dict[str, Any],
        run_id: str | None,
        experiment_id: str | None,
        now: int,
    ) -> Job:
        """A new Queued job (with its first history entry); ``AlreadyExists`` on a taken name."""

    @abc.abstractmethod
    def get_job(self, workspace: str, name: str) -> Job:
        """The job with its history, or ``NotFound``."""

    @abc.abstractmethod
    def list_jobs(
        self, workspace: str, status: JobStatus | None, max_results: int, offset: int
    ) -> tuple[list[Job], bool]:
        """A page of jobs, newest first (with histories), and whether more follow."""

    @abc.abstractmethod
    def jobs_in(self, statuses: frozenset[JobStatus], limit: int) -> list[Job]:
        """Jobs of every workspace in these statuses, oldest first (FIFO), without histories."""

    @abc.abstractmethod
    def transition(
        self,
        workspace: str,
        name: str,
        status: JobStatus,
        now: int,
        message: str | None = None,
        *,
        exit_code: int | None = None,
        error: str | None = None,
    ) -> Job | None:
        """Move the job to ``status`` if allowed from where it is; None if it was not."""

    @abc.abstractmethod
    def set_state(self, workspace: str, name: str, state: dict[str, Any]) -> None:
        """Merge keys into the executor's bookkeeping of the job (pid, workdir, token id...)."""

    @abc.abstractmethod
    def request_cancel(self, workspace: str, name: str) -> Job:
        """Flag the job for cancellation (the scheduler acts on it); ``NotFound`` if absent."""
