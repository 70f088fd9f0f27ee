"""The tracking service: validation, defaults and paging on top of the store interfaces.

Both the native REST API and the MLflow-compatible API call this one service, so a rule (a size
limit, write-once params, soft deletion) holds the same whichever door a client comes in by.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import IO

from trainyard.core.entities import (
    ArtifactInfo,
    DatasetInput,
    Experiment,
    LifecycleStage,
    Metric,
    Page,
    Run,
    RunInputs,
    RunStatus,
    Workspace,
)
from trainyard.core.filters import parse_filter, parse_order_by
from trainyard.core.limits import (
    FLOAT_MAX,
    MAX_EXPERIMENT_TAG_VALUE_LENGTH,
    MAX_METRICS_PER_BATCH,
    MAX_PARAM_VALUE_LENGTH,
    MAX_PARAMS_PER_BATCH,
    MAX_RESULTS,
    MAX_TAG_VALUE_LENGTH,
    MAX_TAGS_PER_BATCH,
    check_dataset_inputs,
    check_key,
    check_model_inputs,
    check_name,
    check_value,
    check_workspace_name,
    clamp_metric,
)
from trainyard.core.paging import decode_token, encode_token
from trainyard.errors import InvalidArgument
from trainyard.store import ArtifactStore, TrackingStore
from trainyard.store.artifacts.paths import join_key, safe_key
from trainyard.tracking.names import generate_run_name


def now_ms() -> int:
    """The current UTC time in milliseconds."""
    return int(time.time() * 1000)


def _check_max_results(max_results: int, limit: int = MAX_RESULTS) -> int:
    if not 1 <= max_results <= limit:
        raise InvalidArgument(f"max_results must be between 1 and {limit}, got {max_results}")
    return max_results


def _check_tags(tags: dict[str, str], limit: int) -> dict[str, str]:
    if len(tags) > MAX_TAGS_PER_BATCH:
        raise InvalidArgument(f"{len(tags)} tags in one call; the limit is {MAX_TAGS_PER_BATCH}")
    for k, v in tags.items():
        check_key("tag", k)
        check_value("tag", k, v, limit)
    return tags


class TrackingService:
    """Experiments, runs and what they log, for one metadata store and one artifact store."""

    def __init__(self, store: TrackingStore, artifacts: ArtifactStore) -> None:
        self.store = store
        self.artifacts = artifacts

    # ---------------------------------------------------------------- workspaces
    def ensure_workspace(self, name: str) -> Workspace:
        """Create a workspace if needed (idempotent)."""
        return self.store.ensure_workspace(check_workspace_name(name))

    def get_workspace(self, name: str) -> Workspace:
        """The workspace or NotFound."""
        return self.store.get_workspace(name)

    def list_workspaces(self) -> list[Workspace]:
        """Every workspace."""
        return self.store.list_workspaces()

    # ---------------------------------------------------------------- experiments
    def create_experiment(
        self,
        workspace: str,
        name: str,
        tags: dict[str, str] | None = None,
        artifact_location: str | None = None,
    ) -> Experiment:
        """A new experiment; AlreadyExists when the name is taken in the workspace."""
        self.store.get_workspace(workspace)
        check_name("experiment", name)
        if artifact_location is not None:
            # Kept under its own prefix, so it can never reach other experiments' runs or the
            # assets, models and jobs folders that share the artifact root.
            artifact_location = f"custom/{safe_key(artifact_location)}"
        tags = _check_tags(tags or {}, MAX_EXPERIMENT_TAG_VALUE_LENGTH)
        return self.store.create_experiment(workspace, name, tags, artifact_location)

    def get_experiment(self, workspace: str, experiment_id: str) -> Experiment:
        """The experiment or NotFound."""
        return self.store.get_experiment(workspace, experiment_id)

    def get_experiment_by_name(self, workspace: str, name: str) -> Experiment:
        """The experiment with that name or NotFound."""
        return self.store.get_experiment_by_name(workspace, name)

    def list_experiments(
        self,
        workspace: str,
        name_contains: str | None = None,
        include_deleted: bool = False,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[tuple[Experiment, int, int | None]]:
        """A page of (experiment, run count, last activity), by name."""
        self.store.get_workspace(workspace)
        offset = decode_token(page_token)
        items, more = self.store.list_experiments(
            workspace, name_contains, include_deleted, _check_max_results(max_results), offset
        )
        return Page(items, encode_token(offset + len(items)) if more else None)

    def update_experiment(
        self,
        workspace: str,
        experiment_id: str,
        name: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Experiment:
        """Rename and/or set tags."""
        if name is not None:
            check_name("experiment", name)
        if tags is not None:
            _check_tags(tags, MAX_EXPERIMENT_TAG_VALUE_LENGTH)
        return self.store.update_experiment(workspace, experiment_id, name, tags)

    def delete_experiment_tag(self, workspace: str, experiment_id: str, key: str) -> None:
        """Remove one tag of an experiment (no error if it has none by that key)."""
        self.store.delete_experiment_tag(workspace, experiment_id, key)

    def delete_experiment(self, workspace: str, experiment_id: str) -> Experiment:
        """Soft-delete: the experiment and its runs are hidden until restored."""
        return self.store.set_experiment_stage(workspace, experiment_id, LifecycleStage.DELETED)

    def restore_experiment(self, workspace: str, experiment_id: str) -> Experiment:
        """Undo a delete."""
        return self.store.set_experiment_stage(workspace, experiment_id, LifecycleStage.ACTIVE)

    # ---------------------------------------------------------------- runs
    def create_run(
        self,
        workspace: str,
        experiment_id: str,
        name: str | None = None,
        start_time: int | None = None,
        parent_run_id: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Run:
        """A new RUNNING run; a name is generated when none is given."""
        name = name or generate_run_name()
        check_name("run", name)
        tags = _check_tags(tags or {}, MAX_TAG_VALUE_LENGTH)
        return self.store.create_run(
            workspace, experiment_id, name, start_time or now_ms(), parent_run_id, tags
        )

    def get_run(self, workspace: str, run_id: str) -> Run:
        """The run or NotFound."""
        return self.store.get_run(workspace, run_id)

    def update_run(
        self,
        workspace: str,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        name: str | None = None,
        status_message: str | None = None,
    ) -> Run:
        """End, rename or annotate a run."""
        if name is not None:
            check_name("run", name)
        return self.store.update_run(workspace, run_id, status, end_time, name, status_message)

    def delete_run(self, workspace: str, run_id: str) -> Run:
        """Soft-delete a run."""
        return self.store.set_run_stage(workspace, run_id, LifecycleStage.DELETED)

    def restore_run(self, workspace: str, run_id: str) -> Run:
        """Undo a delete."""
        return self.store.set_run_stage(workspace, run_id, LifecycleStage.ACTIVE)

    def log_batch(
        self,
        workspace: str,
        run_id: str,
        metrics: Sequence[tuple[str, float, int | None, int]] = (),
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> tuple[int, int, int]:
        """Log ``(key, value, timestamp or None, step)`` metrics, params and tags atomically.

        Returns the counts stored. Raises InvalidArgument over a limit, Conflict when a param has
        another value already.
        """
        params = params or {}
        tags = _check_tags(tags or {}, MAX_TAG_VALUE_LENGTH)
        if len(metrics) > MAX_METRICS_PER_BATCH:
            raise InvalidArgument(
                f"{len(metrics)} metric values in one batch; the limit is {MAX_METRICS_PER_BATCH}"
            )
        if len(params) > MAX_PARAMS_PER_BATCH:
            raise InvalidArgument(
                f"{len(params)} params in one batch; the limit is {MAX_PARAMS_PER_BATCH}"
            )
        for k, v in params.items():
            check_key("param", k)
            check_value("param", k, v, MAX_PARAM_VALUE_LENGTH)
        now = now_ms()
        seen: set[str] = set()
        points = []
        top = FLOAT_MAX
        for key, value, timestamp, step in metrics:  # the ingest hot loop: keep it lean
            if key not in seen:
                check_key("metric", key)
                seen.add(key)
            number = float(value)
            if not -top <= number <= top and number == number:
                number = clamp_metric(number)
            points.append(Metric(key, number, timestamp or now, int(step)))
        self.store.log_batch(workspace, run_id, points, params, tags)
        return len(points), len(params), len(tags)

    def delete_tag(self, workspace: str, run_id: str, key: str) -> None:
        """Remove a run tag."""
        self.store.delete_tag(workspace, run_id, key)

    def log_inputs(
        self,
        workspace: str,
        run_id: str,
        inputs: Sequence[DatasetInput],
        models: Sequence[str] = (),
    ) -> None:
        """Record the data sets and logged models a run used (``mlflow.log_input``).

        Each data set is stored once per (name, digest) in the run's experiment; a data set or
        model the run has already is not added again. Raises InvalidArgument naming a missing or
        over-long field, NotFound for an unknown run or a model not in the workspace (nothing is
        then stored).
        """
        self.store.log_inputs(
            workspace,
            run_id,
            check_dataset_inputs(list(inputs)),
            check_model_inputs(list(models)),
        )

    def run_inputs(self, run_ids: Sequence[str]) -> dict[str, RunInputs]:
        """The data sets and models each run used, for a page of runs at once."""
        return self.store.run_inputs(run_ids)

    def metric_history(
        self,
        workspace: str,
        run_id: str,
        key: str,
        max_results: int = 10_000,
        page_token: str | None = None,
    ) -> Page[Metric]:
        """A page of a metric's history, by step then timestamp."""
        check_key("metric", key)
        offset = decode_token(page_token)
        items, more = self.store.metric_history(
            workspace, run_id, key, _check_max_results(max_results, 100_000), offset
        )
        return Page(items, encode_token(offset + len(items)) if more else None)

    def search_runs(
        self,
        workspace: str,
        experiment_ids: Sequence[str],
        filter: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> Page[Run]:
        """Runs of the experiments (all of the workspace if none given) matching ``filter``."""
        self.store.get_workspace(workspace)
        filters = parse_filter(filter)
        orders = parse_order_by(list(order_by or []))
        for eid in experiment_ids:
            self.store.get_experiment(workspace, eid)
        offset = decode_token(page_token)
        items, more = self.store.search_runs(
            workspace,
            experiment_ids,
            filters,
            orders,
            include_deleted,
            _check_max_results(max_results),
            offset,
        )
        return Page(items, encode_token(offset + len(items)) if more else None)

    # ---------------------------------------------------------------- artifacts
    def artifact_writer(
        self, workspace: str, run_id: str, path: str
    ) -> AbstractContextManager[IO[bytes]]:
        """A file to write at ``path`` under the run's artifacts (visible when closed cleanly)."""
        run = self.store.get_run(workspace, run_id)
        return self.artifacts.open_write(join_key(run.artifact_uri, path))

    def artifact_info(self, workspace: str, run_id: str, path: str) -> ArtifactInfo | None:
        """The file or folder at ``path`` (relative to the run's artifacts), or None."""
        run = self.store.get_run(workspace, run_id)
        info = self.artifacts.info(join_key(run.artifact_uri, path, allow_empty=True))
        if info is None:
            return None
        return ArtifactInfo(safe_key(path, allow_empty=True), info.is_dir, info.size)

    def read_artifact(self, workspace: str, run_id: str, path: str) -> Iterator[bytes]:
        """The bytes of a run's file, in chunks (NotFound if absent)."""
        run = self.store.get_run(workspace, run_id)
        key = join_key(run.artifact_uri, path)
        self.artifacts.open_read(key).close()  # raise NotFound/InvalidArgument before streaming
        return self.artifacts.iter_read(key)

    def list_artifacts(
        self, workspace: str, run_id: str, path: str = "", recursive: bool = False
    ) -> list[ArtifactInfo]:
        """Entries below ``path`` in the run's artifacts, with paths relative to the run's root."""
        run = self.store.get_run(workspace, run_id)
        rel = safe_key(path, allow_empty=True)
        entries = self.artifacts.list(join_key(run.artifact_uri, rel, allow_empty=True), recursive)
        prefix = f"{rel}/" if rel else ""
        return [ArtifactInfo(prefix + e.path, e.is_dir, e.size) for e in entries]
