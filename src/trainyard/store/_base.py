"""Repository interfaces. Services depend on these; concrete backends are injected.

Contract shared by every backend (checked by ``trainyard.testing.store_suite``):

- Every method is safe to call from several threads at once, and from several processes sharing
  one database (SQLite through its file locks, PostgreSQL through transactions).
- A method that returns has made its writes durable: nothing acknowledged is lost to a crash.
- Writes are all-or-nothing: a batch either lands whole or not at all.
- Logging a metric point that exists already (same run, key, value, step and timestamp) is a
  no-op, so clients may retry a batch whose answer they did not see.
- Missing things raise ``NotFound``; taken names ``AlreadyExists``; contradictions ``Conflict``.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import IO

from trainyard.core.entities import (
    ArtifactInfo,
    DatasetInput,
    Experiment,
    LifecycleStage,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    ModelMetric,
    Run,
    RunInputs,
    RunStatus,
    Workspace,
)
from trainyard.core.filters import Comparison, OrderBy


class TrackingStore(abc.ABC):
    """Workspaces, experiments, runs and what runs log."""

    # workspaces
    @abc.abstractmethod
    def ensure_workspace(self, name: str) -> Workspace:
        """Create the workspace if it does not exist; return it either way."""

    @abc.abstractmethod
    def get_workspace(self, name: str) -> Workspace:
        """The workspace, or ``NotFound``."""

    @abc.abstractmethod
    def list_workspaces(self) -> list[Workspace]:
        """Every workspace, by name."""

    # experiments
    @abc.abstractmethod
    def create_experiment(
        self, workspace: str, name: str, tags: dict[str, str], artifact_location: str | None
    ) -> Experiment:
        """A new active experiment; ``AlreadyExists`` if the name is taken in the workspace."""

    @abc.abstractmethod
    def get_experiment(self, workspace: str, experiment_id: str) -> Experiment:
        """The experiment (active or deleted), or ``NotFound``."""

    @abc.abstractmethod
    def get_experiment_by_name(self, workspace: str, name: str) -> Experiment:
        """The experiment with that name, or ``NotFound``."""

    @abc.abstractmethod
    def list_experiments(
        self,
        workspace: str,
        name_contains: str | None,
        include_deleted: bool,
        max_results: int,
        offset: int,
    ) -> tuple[list[tuple[Experiment, int, int | None]], bool]:
        """A page of (experiment, run count, last activity) by name, and whether more follow."""

    @abc.abstractmethod
    def update_experiment(
        self, workspace: str, experiment_id: str, name: str | None, tags: dict[str, str] | None
    ) -> Experiment:
        """Rename and/or set tags; ``AlreadyExists`` if the new name is taken."""

    @abc.abstractmethod
    def set_experiment_stage(
        self, workspace: str, experiment_id: str, stage: LifecycleStage
    ) -> Experiment:
        """Soft-delete or restore an experiment."""

    @abc.abstractmethod
    def delete_experiment_tag(self, workspace: str, experiment_id: str, key: str) -> None:
        """Remove one tag of an experiment (no error if absent)."""

    # runs
    @abc.abstractmethod
    def create_run(
        self,
        workspace: str,
        experiment_id: str,
        name: str,
        start_time: int,
        parent_run_id: str | None,
        tags: dict[str, str],
    ) -> Run:
        """A new RUNNING run in an active experiment."""

    @abc.abstractmethod
    def get_run(self, workspace: str, run_id: str) -> Run:
        """The run with params, tags and latest metrics, or ``NotFound``."""

    @abc.abstractmethod
    def update_run(
        self,
        workspace: str,
        run_id: str,
        status: RunStatus | None,
        end_time: int | None,
        name: str | None,
        status_message: str | None,
    ) -> Run:
        """Change status (a terminal one sets ``end_time``), name or message."""

    @abc.abstractmethod
    def set_run_stage(self, workspace: str, run_id: str, stage: LifecycleStage) -> Run:
        """Soft-delete or restore a run."""

    @abc.abstractmethod
    def log_batch(
        self,
        workspace: str,
        run_id: str,
        metrics: Sequence[Metric],
        params: dict[str, str],
        tags: dict[str, str],
    ) -> None:
        """Store metrics, params and tags at once; ``Conflict`` on a param with another value."""

    @abc.abstractmethod
    def delete_tag(self, workspace: str, run_id: str, key: str) -> None:
        """Remove one tag of a run; ``NotFound`` if absent."""

    @abc.abstractmethod
    def metric_history(
        self, workspace: str, run_id: str, key: str, max_results: int, offset: int
    ) -> tuple[list[Metric], bool]:
        """A page of a metric's points by (step, timestamp), and whether more follow."""

    @abc.abstractmethod
    def log_inputs(
        self,
        workspace: str,
        run_id: str,
        inputs: Sequence[DatasetInput],
        models: Sequence[str] = (),
    ) -> None:
        """Link the run to data sets and logged models it used, in one transaction.

        A data set is stored once per (name, digest) in the run's experiment; one the run has
        already is skipped (its first tags stay), as in MLflow. A model the run has already is
        skipped too. ``NotFound`` for an unknown run, or a model not in the run's workspace
        (then nothing is written).
        """

    @abc.abstractmethod
    def run_inputs(self, run_ids: Sequence[str]) -> dict[str, RunInputs]:
        """The data sets and models each run used, in the order they were logged."""

    @abc.abstractmethod
    def search_runs(
        self,
        workspace: str,
        experiment_ids: Sequence[str],
        filters: Sequence[Comparison],
        order_by: Sequence[OrderBy],
        include_deleted: bool,
        max_results: int,
        offset: int,
    ) -> tuple[list[Run], bool]:
        """A page of matching runs, and whether more follow."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""


class LoggedModelStore(abc.ABC):
    """Logged models (a run's saved models, MLflow 3's ``LoggedModel``) and run outputs.

    A model belongs to an experiment of a workspace; ``model_id`` is ``m-`` plus 32 hex
    characters. Params are write-once like a run's (``Conflict`` on another value); tags are
    upserted; metric points are deduplicated like a run's.
    """

    @abc.abstractmethod
    def create_logged_model(
        self,
        workspace: str,
        experiment_id: str,
        name: str,
        model_type: str | None,
        source_run_id: str | None,
        params: dict[str, str],
        tags: dict[str, str],
    ) -> LoggedModel:
        """A new PENDING model whose files go under ``<experiment>/models/<model_id>/artifacts``."""

    @abc.abstractmethod
    def get_logged_model(self, workspace: str, model_id: str) -> LoggedModel:
        """The model (deleted ones too), or ``NotFound``."""

    @abc.abstractmethod
    def update_logged_model(
        self,
        workspace: str,
        model_id: str,
        status: LoggedModelStatus | None = None,
        lifecycle_stage: LifecycleStage | None = None,
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
        delete_tag: str | None = None,
    ) -> LoggedModel:
        """Change status or stage, add params, upsert tags or remove one tag, atomically."""

    @abc.abstractmethod
    def list_logged_models(
        self, workspace: str, experiment_ids: Sequence[str], include_deleted: bool
    ) -> list[LoggedModel]:
        """Every model of the experiments (all of the workspace if none), newest first."""

    @abc.abstractmethod
    def log_model_metrics(
        self, workspace: str, model_id: str, metrics: Sequence[ModelMetric]
    ) -> None:
        """Attribute metric points to a model (a point stored already is a no-op)."""

    @abc.abstractmethod
    def log_run_outputs(
        self, workspace: str, run_id: str, outputs: Sequence[tuple[str, int]]
    ) -> None:
        """Record that the run produced these ``(model_id, step)`` (idempotent)."""

    @abc.abstractmethod
    def run_outputs(self, run_ids: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
        """The ``(model_id, step)`` outputs of each run."""


class ArtifactStore(abc.ABC):
    """Files under a root, addressed by relative POSIX keys.

    Contract: a key never escapes the root (``..``, absolute keys, backslashes and, on a local
    root, symlinks are refused with ``InvalidArgument``); a written file appears whole or not at
    all (written under a temporary name, flushed to disk, then renamed).
    """

    @abc.abstractmethod
    def open_write(self, key: str) -> AbstractContextManager[IO[bytes]]:
        """A binary file to write; it becomes visible at ``key`` when the block exits cleanly."""

    @abc.abstractmethod
    def open_read(self, key: str) -> IO[bytes]:
        """The file at ``key``; ``NotFound`` if absent, ``InvalidArgument`` if a folder."""

    @abc.abstractmethod
    def list(self, key: str, recursive: bool) -> list[ArtifactInfo]:
        """Entries below the folder ``key`` (paths relative to it); ``[]`` if it does not exist."""

    @abc.abstractmethod
    def info(self, key: str) -> ArtifactInfo | None:
        """The file or folder at ``key``, or None."""

    def delete(self, key: str) -> None:
        """Remove the file or folder (with everything below it) at ``key``; absent is no error."""
        raise NotImplementedError(f"{type(self).__name__} cannot delete artifacts")

    def iter_read(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """The file's bytes in chunks, for streaming answers."""
        with self.open_read(key) as f:
            while chunk := f.read(chunk_size):
                yield chunk


class TokenStore(abc.ABC):
    """API tokens: only a hash of each secret is kept."""

    @abc.abstractmethod
    def create_token(
        self, token_id: str, name: str, secret_hash: str, roles: dict[str, str], created_at: int
    ) -> None:
        """Store a new token."""

    @abc.abstractmethod
    def find_token(self, secret_hash: str) -> dict[str, object] | None:
        """The live (not revoked) token with that hash, as a dict, or None."""

    @abc.abstractmethod
    def list_tokens(self) -> list[dict[str, object]]:
        """Every token, newest first."""

    @abc.abstractmethod
    def revoke_token(self, token_id: str, revoked_at: int) -> dict[str, object]:
        """Mark a token revoked; ``NotFound`` if absent."""
