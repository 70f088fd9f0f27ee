"""Logged models: a run's saved models (MLflow 3's ``LoggedModel``), with their own files.

A logged model is created PENDING by the client, its files are uploaded under its artifact root
(``<experiment>/models/<model_id>/artifacts``), then it is finalized READY. Search filters and
orders in memory: an experiment holds few models (one per ``log_model`` call), so loading them is
cheaper than a SQL translation of every clause.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import IO, Any

from trainyard.core.entities import (
    ArtifactInfo,
    LifecycleStage,
    LoggedModel,
    LoggedModelStatus,
    ModelMetric,
    Page,
)
from trainyard.core.filters import Attributes, OrderBy, parse_filter, parse_order_by
from trainyard.core.limits import (
    MAX_PARAM_VALUE_LENGTH,
    MAX_PARAMS_PER_BATCH,
    MAX_TAG_VALUE_LENGTH,
    MAX_TAGS_PER_BATCH,
    check_key,
    check_name,
    check_value,
    clamp_metric,
)
from trainyard.core.matching import filter_items, order_items
from trainyard.core.paging import decode_token, encode_token
from trainyard.errors import InvalidArgument
from trainyard.store import ArtifactStore
from trainyard.store._base import LoggedModelStore
from trainyard.store.artifacts.paths import join_key, safe_key

MODEL_ATTRIBUTES = Attributes(
    strings=frozenset({"name", "model_id", "model_type", "status", "source_run_id"}),
    numbers=frozenset({"creation_timestamp", "last_updated_timestamp"}),
    aliases={
        "creation_time": "creation_timestamp",
        "last_updated_time": "last_updated_timestamp",
    },
)
_ATTRIBUTE_FIELDS = {
    "creation_timestamp": "created_at",
    "last_updated_timestamp": "updated_at",
}


def _lookup(m: LoggedModel, entity: str, key: str) -> Any:
    if entity == "attribute":
        value = getattr(m, _ATTRIBUTE_FIELDS.get(key, key))
        return value.value if isinstance(value, LoggedModelStatus) else value
    if entity == "param":
        return m.params.get(key)
    if entity == "tag":
        return m.tags.get(key)
    points = [p for p in m.metrics if p.key == key]
    return max(points, key=lambda p: (p.step, p.timestamp)).value if points else None


def _check_kv(kind: str, items: dict[str, str], limit: int, count: int) -> dict[str, str]:
    if len(items) > count:
        raise InvalidArgument(f"{len(items)} {kind}s in one call; the limit is {count}")
    for k, v in items.items():
        check_key(kind, k)
        check_value(kind, k, v, limit)
    return items


class LoggedModelService:
    """Create, finalize, tag, search and delete logged models, and hold their files."""

    def __init__(self, store: LoggedModelStore, artifacts: ArtifactStore) -> None:
        self.store = store
        self.artifacts = artifacts

    def create(
        self,
        workspace: str,
        experiment_id: str,
        name: str,
        model_type: str | None = None,
        source_run_id: str | None = None,
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> LoggedModel:
        """A new PENDING model; upload its files, then ``finalize`` it."""
        check_name("model", name)
        return self.store.create_logged_model(
            workspace,
            experiment_id,
            name,
            model_type or None,
            source_run_id or None,
            _check_kv("param", params or {}, MAX_PARAM_VALUE_LENGTH, MAX_PARAMS_PER_BATCH),
            _check_kv("tag", tags or {}, MAX_TAG_VALUE_LENGTH, MAX_TAGS_PER_BATCH),
        )

    def get(self, workspace: str, model_id: str) -> LoggedModel:
        """The model (deleted ones too) or NotFound."""
        return self.store.get_logged_model(workspace, model_id)

    def finalize(self, workspace: str, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        """Mark the upload done (READY) or failed."""
        return self.store.update_logged_model(workspace, model_id, status=status)

    def log_params(self, workspace: str, model_id: str, params: dict[str, str]) -> LoggedModel:
        """Add params (write-once, like a run's)."""
        _check_kv("param", params, MAX_PARAM_VALUE_LENGTH, MAX_PARAMS_PER_BATCH)
        return self.store.update_logged_model(workspace, model_id, params=params)

    def set_tags(self, workspace: str, model_id: str, tags: dict[str, str]) -> LoggedModel:
        """Add or replace tags."""
        _check_kv("tag", tags, MAX_TAG_VALUE_LENGTH, MAX_TAGS_PER_BATCH)
        return self.store.update_logged_model(workspace, model_id, tags=tags)

    def delete_tag(self, workspace: str, model_id: str, key: str) -> LoggedModel:
        """Remove a tag (no error if absent)."""
        return self.store.update_logged_model(workspace, model_id, delete_tag=key)

    def delete(self, workspace: str, model_id: str) -> LoggedModel:
        """Soft-delete: hidden from search, still readable by id."""
        return self.store.update_logged_model(
            workspace, model_id, lifecycle_stage=LifecycleStage.DELETED
        )

    def log_metrics(self, workspace: str, model_id: str, metrics: Sequence[ModelMetric]) -> None:
        """Attribute metric points to the model (retries are no-ops)."""
        for m in metrics:
            check_key("metric", m.key)
        clamped = [
            ModelMetric(
                m.key,
                clamp_metric(m.value),
                m.timestamp,
                m.step,
                m.run_id,
                m.dataset_name,
                m.dataset_digest,
            )
            for m in metrics
        ]
        self.store.log_model_metrics(workspace, model_id, clamped)

    def log_outputs(self, workspace: str, run_id: str, outputs: Sequence[tuple[str, int]]) -> None:
        """Record the ``(model_id, step)`` models a run produced."""
        self.store.log_run_outputs(workspace, run_id, outputs)

    def run_outputs(self, run_ids: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
        """The models each run produced."""
        return self.store.run_outputs(run_ids)

    def search(
        self,
        workspace: str,
        experiment_ids: Sequence[str],
        filter: str | None = None,
        order_by: Sequence[tuple[str, bool]] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[LoggedModel]:
        """Active models matching ``filter`` (e.g. ``name = 'model'``), newest first by default.

        ``order_by`` holds ``(field, ascending)`` pairs such as ``("metrics.rmse", True)``.
        """
        if not 1 <= max_results <= 50_000:
            raise InvalidArgument(f"max_results must be between 1 and 50000, got {max_results}")
        comparisons = parse_filter(filter, MODEL_ATTRIBUTES)
        orders: list[OrderBy] = parse_order_by(
            [f"{field} {'ASC' if ascending else 'DESC'}" for field, ascending in order_by],
            MODEL_ATTRIBUTES,
        )
        models = self.store.list_logged_models(workspace, experiment_ids, include_deleted=False)
        models = order_items(filter_items(models, comparisons, _lookup), orders, _lookup)
        offset = decode_token(page_token)
        page = models[offset : offset + max_results]
        more = offset + max_results < len(models)
        return Page(page, encode_token(offset + max_results) if more else None)

    # ---------------------------------------------------------------- files
    def _key(self, workspace: str, model_id: str, path: str, allow_empty: bool = False) -> str:
        root = self.store.get_logged_model(workspace, model_id).artifact_location
        return join_key(root, path, allow_empty=allow_empty)

    def artifact_writer(
        self, workspace: str, model_id: str, path: str
    ) -> AbstractContextManager[IO[bytes]]:
        """A file to write at ``path`` under the model's files."""
        return self.artifacts.open_write(self._key(workspace, model_id, path))

    def artifact_info(self, workspace: str, model_id: str, path: str) -> ArtifactInfo | None:
        """The file or folder at ``path`` under the model's files, or None."""
        info = self.artifacts.info(self._key(workspace, model_id, path, allow_empty=True))
        if info is None:
            return None
        return ArtifactInfo(safe_key(path, allow_empty=True), info.is_dir, info.size)

    def read_artifact(self, workspace: str, model_id: str, path: str) -> Iterator[bytes]:
        """The bytes of one of the model's files, in chunks (NotFound if absent)."""
        key = self._key(workspace, model_id, path)
        self.artifacts.open_read(key).close()
        return self.artifacts.iter_read(key)

    def list_artifacts(self, workspace: str, model_id: str, path: str = "") -> list[ArtifactInfo]:
        """Entries directly below ``path`` in the model's files (paths relative to ``path``)."""
        return self.artifacts.list(self._key(workspace, model_id, path, allow_empty=True), False)
