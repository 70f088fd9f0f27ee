"""The SQL logged-model store: models, their params, tags and metrics, and run outputs."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from trainyard.core.entities import (
    LifecycleStage,
    LoggedModel,
    LoggedModelStatus,
    ModelMetric,
)
from trainyard.errors import Conflict, InvalidArgument, NotFound
from trainyard.store._base import LoggedModelStore
from trainyard.store.sql import tables as t
from trainyard.store.sql.engine import Database
from trainyard.store.sql.rows import metric_value


def _now() -> int:
    return int(time.time() * 1000)


def _chunks(items: Sequence[str], size: int = 900) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _load(conn: Connection, rows: Sequence[Any]) -> list[LoggedModel]:
    ids = [r.model_id for r in rows]
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    metrics: dict[str, list[ModelMetric]] = {i: [] for i in ids}
    mm = t.logged_model_metrics
    for chunk in _chunks(ids):
        for r in conn.execute(
            select(t.logged_model_params).where(t.logged_model_params.c.model_id.in_(chunk))
        ):
            params[r.model_id][r.key] = r.value
        for r in conn.execute(
            select(t.logged_model_tags).where(t.logged_model_tags.c.model_id.in_(chunk))
        ):
            tags[r.model_id][r.key] = r.value
        for r in conn.execute(
            select(mm).where(mm.c.model_id.in_(chunk)).order_by(mm.c.key, mm.c.step, mm.c.timestamp)
        ):
            metrics[r.model_id].append(
                ModelMetric(
                    r.key,
                    metric_value(r.value, r.is_nan),
                    r.timestamp,
                    r.step,
                    r.run_id,
                    r.dataset_name,
                    r.dataset_digest,
                )
            )
    return [
        LoggedModel(
            model_id=r.model_id,
            experiment_id=str(r.experiment_id),
            workspace=r.workspace,
            name=r.name,
            artifact_location=r.artifact_location,
            status=LoggedModelStatus(r.status),
            lifecycle_stage=LifecycleStage(r.lifecycle_stage),
            created_at=r.created_at,
            updated_at=r.updated_at,
            model_type=r.model_type,
            source_run_id=r.source_run_id,
            status_message=r.status_message,
            params=params[r.model_id],
            tags=tags[r.model_id],
            metrics=metrics[r.model_id],
        )
        for r in rows
    ]


class SqlLoggedModelStore(LoggedModelStore):
    """``LoggedModelStore`` over the same database as the tracking store (a mixin of it)."""

    db: Database
    _insert: Any

    def _model_row(self, conn: Connection, workspace: str, model_id: str) -> Any:
        lm = t.logged_models
        row = conn.execute(
            select(lm).where(lm.c.model_id == model_id, lm.c.workspace == workspace)
        ).first()
        if row is None:
            raise NotFound(f"logged model {model_id!r} does not exist in workspace {workspace!r}")
        return row

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
        """A new PENDING model in an active experiment."""
        model_id = f"m-{uuid.uuid4().hex}"
        e = t.experiments
        now = _now()
        with self.db.write() as conn:
            try:
                exp_key = int(experiment_id)
            except ValueError:
                exp_key = -1
            exp = conn.execute(
                select(e).where(e.c.experiment_id == exp_key, e.c.workspace == workspace)
            ).first()
            if exp is None:
                raise NotFound(
                    f"experiment {experiment_id!r} does not exist in workspace {workspace!r}"
                )
            if exp.lifecycle_stage != LifecycleStage.ACTIVE.value:
                raise InvalidArgument(f"experiment {experiment_id!r} is deleted; restore it first")
            if source_run_id is not None:
                r = t.runs
                found = conn.execute(
                    select(r.c.run_id).where(
                        r.c.run_id == source_run_id, r.c.workspace == workspace
                    )
                ).first()
                if found is None:
                    raise NotFound(
                        f"run {source_run_id!r} does not exist in workspace {workspace!r}"
                    )
            conn.execute(
                insert(t.logged_models).values(
                    model_id=model_id,
                    experiment_id=exp.experiment_id,
                    workspace=workspace,
                    name=name,
                    artifact_location=f"{exp.artifact_location}/models/{model_id}/artifacts",
                    status=LoggedModelStatus.PENDING.value,
                    lifecycle_stage=LifecycleStage.ACTIVE.value,
                    created_at=now,
                    updated_at=now,
                    model_type=model_type,
                    source_run_id=source_run_id,
                )
            )
            self._set(conn, model_id, params, tags)
        return self.get_logged_model(workspace, model_id)

    def _set(
        self, conn: Connection, model_id: str, params: dict[str, str], tags: dict[str, str]
    ) -> None:
        if params:
            p = t.logged_model_params
            existing = dict(
                conn.execute(
                    select(p.c.key, p.c.value).where(
                        p.c.model_id == model_id, p.c.key.in_(list(params))
                    )
                ).all()
            )
            for k, v in params.items():
                if k in existing and existing[k] != v:
                    raise Conflict(
                        f"param {k!r} of logged model {model_id!r} is {existing[k]!r} already "
                        f"and cannot be changed to {v!r}"
                    )
            rows = [
                {"model_id": model_id, "key": k, "value": v}
                for k, v in params.items()
                if k not in existing
            ]
            if rows:
                conn.execute(insert(p), rows)
        for k, v in tags.items():
            stmt = self._insert(t.logged_model_tags).values(model_id=model_id, key=k, value=v)
            conn.execute(
                stmt.on_conflict_do_update(index_elements=["model_id", "key"], set_={"value": v})
            )

    def get_logged_model(self, workspace: str, model_id: str) -> LoggedModel:
        """The model or NotFound."""
        with self.db.read() as conn:
            return _load(conn, [self._model_row(conn, workspace, model_id)])[0]

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
        """Status, stage, params, tags: one transaction."""
        values: dict[str, Any] = {"updated_at": _now()}
        if status is not None:
            values["status"] = status.value
        if lifecycle_stage is not None:
            values["lifecycle_stage"] = lifecycle_stage.value
        with self.db.write() as conn:
            self._model_row(conn, workspace, model_id)
            lm = t.logged_models
            conn.execute(update(lm).where(lm.c.model_id == model_id).values(**values))
            self._set(conn, model_id, params or {}, tags or {})
            if delete_tag is not None:
                tg = t.logged_model_tags
                conn.execute(delete(tg).where(tg.c.model_id == model_id, tg.c.key == delete_tag))
        return self.get_logged_model(workspace, model_id)

    def list_logged_models(
        self, workspace: str, experiment_ids: Sequence[str], include_deleted: bool
    ) -> list[LoggedModel]:
        """Models of the experiments, newest first."""
        lm = t.logged_models
        q = select(lm).where(lm.c.workspace == workspace)
        if experiment_ids:
            ids = [int(i) for i in experiment_ids if i.isdigit()]
            q = q.where(lm.c.experiment_id.in_(ids))
        if not include_deleted:
            q = q.where(lm.c.lifecycle_stage == LifecycleStage.ACTIVE.value)
        q = q.order_by(lm.c.created_at.desc(), lm.c.model_id)
        with self.db.read() as conn:
            return _load(conn, conn.execute(q).all())

    def log_model_metrics(
        self, workspace: str, model_id: str, metrics: Sequence[ModelMetric]
    ) -> None:
        """Store points for the model, skipping those stored already."""
        if not metrics:
            return
        rows = []
        for m in metrics:
            nan = math.isnan(m.value)
            rows.append(
                {
                    "model_id": model_id,
                    "key": m.key,
                    "step": m.step,
                    "timestamp": m.timestamp,
                    "value": 0.0 if nan else m.value,
                    "is_nan": nan,
                    "run_id": m.run_id,
                    "dataset_name": m.dataset_name,
                    "dataset_digest": m.dataset_digest,
                }
            )
        with self.db.write() as conn:
            self._model_row(conn, workspace, model_id)
            conn.execute(self._insert(t.logged_model_metrics).on_conflict_do_nothing(), rows)

    def log_run_outputs(
        self, workspace: str, run_id: str, outputs: Sequence[tuple[str, int]]
    ) -> None:
        """Link the run to the models it produced."""
        r = t.runs
        with self.db.write() as conn:
            found = conn.execute(
                select(r.c.run_id).where(r.c.run_id == run_id, r.c.workspace == workspace)
            ).first()
            if found is None:
                raise NotFound(f"run {run_id!r} does not exist in workspace {workspace!r}")
            for model_id, _step in outputs:
                self._model_row(conn, workspace, model_id)
            if outputs:
                stmt = self._insert(t.logged_model_outputs)
                conn.execute(
                    stmt.on_conflict_do_nothing(),
                    [{"run_id": run_id, "model_id": m, "step": s} for m, s in outputs],
                )

    def run_outputs(self, run_ids: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
        """Outputs per run id."""
        out: dict[str, list[tuple[str, int]]] = {i: [] for i in run_ids}
        o = t.logged_model_outputs
        with self.db.read() as conn:
            for chunk in _chunks(list(run_ids)):
                for r in conn.execute(select(o).where(o.c.run_id.in_(chunk))):
                    out[r.run_id].append((r.model_id, r.step))
        return out
