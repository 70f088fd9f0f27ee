"""Row-to-entity mapping shared by the SQL repositories."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, select

from trainyard.core.entities import Experiment, LifecycleStage, Metric, Run, RunStatus
from trainyard.store.sql import tables as t


def metric_value(value: float, is_nan: bool) -> float:
    """The stored value, with NaN restored (SQL stores NaN as 0 plus a flag)."""
    return math.nan if is_nan else value


def experiment_from_row(row: Any, tags: dict[str, str]) -> Experiment:
    """An ``Experiment`` from an ``experiments`` row."""
    return Experiment(
        experiment_id=str(row.experiment_id),
        workspace=row.workspace,
        name=row.name,
        artifact_location=row.artifact_location,
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),
        created_at=row.created_at,
        updated_at=row.updated_at,
        tags=tags,
    )


def experiment_tags(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """Tags of several experiments at once."""
    out: dict[int, dict[str, str]] = {i: {} for i in ids}
    if ids:
        q = select(t.experiment_tags).where(t.experiment_tags.c.experiment_id.in_(ids))
        for r in conn.execute(q):
            out[r.experiment_id][r.key] = r.value
    return out


def _chunks(items: Sequence[str], size: int = 900) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def load_runs(conn: Connection, run_rows: Sequence[Any]) -> list[Run]:
    """Full ``Run`` entities (params, tags, latest metrics) for rows of ``runs``, in order."""
    ids = [r.run_id for r in run_rows]
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    metrics: dict[str, dict[str, Metric]] = {i: {} for i in ids}
    for chunk in _chunks(ids):
        for r in conn.execute(select(t.params).where(t.params.c.run_id.in_(chunk))):
            params[r.run_id][r.key] = r.value
        for r in conn.execute(select(t.tags).where(t.tags.c.run_id.in_(chunk))):
            tags[r.run_id][r.key] = r.value
        lm = t.latest_metrics
        for r in conn.execute(select(lm).where(lm.c.run_id.in_(chunk))):
            metrics[r.run_id][r.key] = Metric(
                r.key, metric_value(r.value, r.is_nan), r.timestamp, r.step
            )
    return [
        Run(
            run_id=r.run_id,
            experiment_id=str(r.experiment_id),
            workspace=r.workspace,
            name=r.name,
            status=RunStatus(r.status),
            start_time=r.start_time,
            end_time=r.end_time,
            lifecycle_stage=LifecycleStage(r.lifecycle_stage),
            artifact_uri=r.artifact_uri,
            parent_run_id=r.parent_run_id,
            status_message=r.status_message,
            params=params[r.run_id],
            tags=tags[r.run_id],
            metrics=metrics[r.run_id],
        )
        for r in run_rows
    ]
