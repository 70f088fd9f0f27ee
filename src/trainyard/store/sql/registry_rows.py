"""Row-to-entity mapping of the SQL model registry (JSON fields decoded, aliases attached)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, case, func, select

from trainyard.core.registry import (
    ModelSource,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
)
from trainyard.store.sql import registry_tables as r

rm, mv, al = r.registered_models, r.model_versions, r.model_aliases


def version_from_row(row: Any, name: str, aliases: list[str]) -> ModelVersion:
    """A ``ModelVersion`` from a ``model_versions`` row."""
    return ModelVersion(
        model_id=row.model_id,
        workspace=row.workspace,
        name=name,
        version=row.version,
        source=ModelSource(row.source),
        status=ModelVersionStatus(row.status),
        created_at=row.created_at,
        format=row.format,
        run_id=row.run_id,
        artifact_path=row.artifact_path,
        storage_key=row.storage_key,
        native_key=row.native_key,
        size=row.size,
        sha256=row.sha256,
        signature=json.loads(row.signature),
        metrics=json.loads(row.metrics),
        parity=json.loads(row.parity) if row.parity else None,
        forced=bool(row.forced),
        status_reason=row.status_reason,
        description=row.description,
        tags=json.loads(row.tags),
        aliases=aliases,
    )


def load_models(conn: Connection, rows: Sequence[Any]) -> list[RegisteredModel]:
    """Models with their aliases, latest READY version and version count."""
    ids = [m.id for m in rows]
    aliases: dict[int, dict[str, int]] = {i: {} for i in ids}
    stats: dict[int, tuple[int | None, int]] = {}
    if ids:
        for a in conn.execute(select(al).where(al.c.registered_model_id.in_(ids))):
            aliases[a.registered_model_id][a.alias] = a.version
        ready = case((mv.c.status == ModelVersionStatus.READY.value, mv.c.version))
        q = (
            select(mv.c.registered_model_id, func.max(ready), func.count())
            .where(mv.c.registered_model_id.in_(ids))
            .group_by(mv.c.registered_model_id)
        )
        stats = {s[0]: (s[1], s[2]) for s in conn.execute(q)}
    return [
        RegisteredModel(
            workspace=m.workspace,
            name=m.name,
            description=m.description,
            created_at=m.created_at,
            updated_at=m.updated_at,
            tags=json.loads(m.tags),
            aliases=dict(sorted(aliases[m.id].items())),
            latest_version=stats.get(m.id, (None, 0))[0],
            version_count=stats.get(m.id, (None, 0))[1],
        )
        for m in rows
    ]


def load_versions(conn: Connection, name: str, rows: Sequence[Any]) -> list[ModelVersion]:
    """Versions of the model ``name`` with the aliases pointing at each."""
    by_version: dict[tuple[int, int], list[str]] = {}
    model_ids = {v.registered_model_id for v in rows}
    if model_ids:
        q = select(al).where(al.c.registered_model_id.in_(model_ids)).order_by(al.c.alias)
        for a in conn.execute(q):
            by_version.setdefault((a.registered_model_id, a.version), []).append(a.alias)
    return [
        version_from_row(v, name, by_version.get((v.registered_model_id, v.version), []))
        for v in rows
    ]
