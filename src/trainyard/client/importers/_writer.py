"""The Trainyard side of an import: the SDK's calls, plus the few an import needs beyond them.

A copy must keep the source's times, so runs are created with their ``start_time``, ended with
their ``end_time`` and status, and metric values are sent with their own timestamps and steps:
these go straight to the REST API through the workspace's :class:`~trainyard.client._scope.Scope`
(the same routes the SDK's ``Run`` uses), in batches of at most 10,000 values, 100 params and
100 tags. Every write is safe to repeat: metric points are deduplicated by the server, a param
sent again with the same value is accepted, tags and files are replaced.

:class:`DryRunWriter` reads like :class:`TrainyardWriter` and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from trainyard import schemas
from trainyard.client._scope import body, iter_pages
from trainyard.client.workspace import Workspace
from trainyard.core.entities import LifecycleStage, RunStatus
from trainyard.core.limits import MAX_METRICS_PER_BATCH, MAX_PARAMS_PER_BATCH, MAX_TAGS_PER_BATCH
from trainyard.errors import NotFound, TrainyardError

Chunks = Callable[[], Iterator[bytes]]
"""Opens the bytes of a file afresh (called again if the upload is retried)."""


def _chunked(items: Mapping[str, str], size: int) -> Iterator[dict[str, str]]:
    pairs = list(items.items())
    for i in range(0, len(pairs), size):
        yield dict(pairs[i : i + size])


class TrainyardWriter:
    """Reads and writes one Trainyard workspace for an importer."""

    metrics_per_batch = MAX_METRICS_PER_BATCH

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._scope = ws._scope  # the SDK's own plumbing: same package, same contracts

    # --- experiments ---------------------------------------------------------------------

    def experiments(self) -> Iterator[schemas.Experiment]:
        """Every experiment of the workspace, deleted ones included."""
        return (e.info for e in self.ws.experiments(include_deleted=True))

    def experiment_named(self, name: str) -> schemas.Experiment | None:
        """The experiment called ``name`` (deleted or not), or None."""
        try:
            return self.ws.get_experiment(name).info
        except NotFound:
            return None

    def create_experiment(self, name: str, tags: dict[str, str]) -> str:
        """A new experiment's id (an existing one's, if it was created meanwhile)."""
        return self.ws.experiment(name, tags=tags).experiment_id

    def set_experiment_tags(self, experiment_id: str, tags: dict[str, str]) -> None:
        """Upsert experiment tags."""
        for chunk in _chunked(tags, MAX_TAGS_PER_BATCH):
            payload = body(schemas.ExperimentUpdate, tags=chunk)
            self._scope.request("PATCH", "experiments", experiment_id, json=payload)

    def set_experiment_stage(self, experiment_id: str, stage: LifecycleStage) -> None:
        """Soft-delete or restore an experiment."""
        if stage is LifecycleStage.DELETED:
            self._scope.request("DELETE", "experiments", experiment_id)
        else:
            self._scope.request("POST", "experiments", experiment_id, "restore")

    # --- runs ----------------------------------------------------------------------------

    def imported_runs(self, experiment_id: str, tag: str) -> dict[str, schemas.Run]:
        """The runs of an experiment carrying ``tag`` (deleted ones too), by that tag's value."""

        def page(token: str | None) -> tuple[list[schemas.Run], str | None]:
            payload = body(
                schemas.RunSearch,
                experiment_ids=[experiment_id],
                filter=f"tags.`{tag}` LIKE '%'",
                max_results=1000,
                page_token=token,
                include_deleted=True,
            )
            found = schemas.RunList.model_validate(
                self._scope.request("POST", "runs", "search", json=payload)
            )
            return found.runs, found.next_page_token

        return {r.tags[tag]: r for r in iter_pages(page) if tag in r.tags}

    def create_run(
        self,
        experiment_id: str,
        name: str | None,
        start_time: int | None,
        parent_run_id: str | None,
        tags: dict[str, str],
    ) -> str:
        """A new RUNNING run that started at ``start_time``; its id."""
        payload = body(
            schemas.RunCreate,
            experiment_id=experiment_id,
            name=name,
            start_time=start_time or None,
            parent_run_id=parent_run_id,
            tags=tags,
        )
        return str(self._scope.request("POST", "runs", json=payload)["run_id"])

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        """Params in batches of 100."""
        for chunk in _chunked(params, MAX_PARAMS_PER_BATCH):
            self._log_batch(run_id, {"params": chunk})

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        """Tags in batches of 100."""
        for chunk in _chunked(tags, MAX_TAGS_PER_BATCH):
            self._log_batch(run_id, {"tags": chunk})

    def log_metrics(self, run_id: str, metrics: list[dict[str, Any]]) -> None:
        """At most 10,000 ``{key, value, timestamp, step}`` points, values as JSON allows them
        (``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` as strings)."""
        self._log_batch(run_id, {"metrics": metrics})

    def _log_batch(self, run_id: str, payload: dict[str, Any]) -> None:
        self._scope.request("POST", "runs", run_id, "log-batch", json=payload, idempotent=True)

    def file_sizes(self, run_id: str) -> dict[str, int | None]:
        """The run's artifact files and their sizes."""
        data = self._scope.request("GET", "runs", run_id, "artifacts", params={"recursive": "true"})
        listing = schemas.ArtifactList.model_validate(data)
        return {f.path: f.size for f in listing.files if not f.is_dir}

    def upload(self, run_id: str, path: str, chunks: Chunks, size: int | None) -> int:
        """Stream one file into the run's artifacts; the size stored.

        Raises:
            TrainyardError: the stored size differs from the size the source announced.
        """
        segments = [s for s in path.split("/") if s]
        data = self._scope.request(
            "PUT",
            "runs",
            run_id,
            "artifacts",
            *segments,
            content=chunks,
            headers={"Content-Type": "application/octet-stream"},
        )
        stored = schemas.ArtifactFile.model_validate(data).size or 0
        if size is not None and stored != size:
            raise TrainyardError(
                f"artifact {path!r} of run {run_id}: {stored} bytes arrived, the source "
                f"announced {size}; run the import again to copy it anew"
            )
        return stored

    def end_run(self, run_id: str, status: RunStatus, end_time: int | None) -> None:
        """Set the run's final status and end time."""
        payload = body(schemas.RunUpdate, status=status, end_time=end_time or None)
        self._scope.request("PATCH", "runs", run_id, json=payload)

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run."""
        self._scope.request("DELETE", "runs", run_id)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a run tag."""
        self._scope.request("DELETE", "runs", run_id, "tags", key)


class DryRunWriter(TrainyardWriter):
    """Reads the workspace like :class:`TrainyardWriter`; every write is skipped."""

    def create_experiment(self, name: str, tags: dict[str, str]) -> str:
        return f"(new experiment {name})"

    def imported_runs(self, experiment_id: str, tag: str) -> dict[str, schemas.Run]:
        if experiment_id.startswith("(new "):
            return {}
        return super().imported_runs(experiment_id, tag)

    def create_run(
        self,
        experiment_id: str,
        name: str | None,
        start_time: int | None,
        parent_run_id: str | None,
        tags: dict[str, str],
    ) -> str:
        return f"(new run {name})"

    def file_sizes(self, run_id: str) -> dict[str, int | None]:
        return {} if run_id.startswith("(new ") else super().file_sizes(run_id)

    def upload(self, run_id: str, path: str, chunks: Chunks, size: int | None) -> int:
        return size or 0

    def set_experiment_tags(self, experiment_id: str, tags: dict[str, str]) -> None: ...
    def set_experiment_stage(self, experiment_id: str, stage: LifecycleStage) -> None: ...
    def _log_batch(self, run_id: str, payload: dict[str, Any]) -> None: ...
    def end_run(self, run_id: str, status: RunStatus, end_time: int | None) -> None: ...
    def delete_run(self, run_id: str) -> None: ...
    def delete_tag(self, run_id: str, key: str) -> None: ...
