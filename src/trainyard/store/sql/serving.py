"""The SQL store of online endpoints and deployments, for SQLite and PostgreSQL.

Changes take the endpoint row's lock (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's single
writer serialises the same way), compute what to write from the locked state, write it and bump
``serving_revision`` in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from trainyard.core.deployment_history import ChangeReason, DeploymentEvent
from trainyard.core.serving import (
    AuthMode,
    Batching,
    Deployment,
    Endpoint,
    EndpointKeys,
    RequestLimits,
)
from trainyard.errors import AlreadyExists, NotFound
from trainyard.store._serving_base import EndpointChange, ServingStore
from trainyard.store.sql.engine import Database
from trainyard.store.sql.serving_tables import deployment_history as ht
from trainyard.store.sql.serving_tables import deployments as dt
from trainyard.store.sql.serving_tables import endpoints as et
from trainyard.store.sql.serving_tables import serving_revision as rt


def _dumps(value: dict[str, int]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _deployment(row: Any) -> Deployment:
    return Deployment(
        workspace=row.workspace,
        endpoint=row.endpoint,
        name=row.name,
        model_ref=row.model_ref,
        model_name=row.model_name,
        model_version=row.model_version,
        model_id=row.model_id,
        replicas=row.replicas,
        limits=RequestLimits(row.max_rows, row.max_body_bytes, row.timeout_ms),
        log_requests=bool(row.log_requests),
        batching=(
            None
            if row.batch_max_rows is None
            else Batching(row.batch_max_rows, row.batch_max_wait_us)
        ),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _deployment_values(d: Deployment) -> dict[str, Any]:
    return {
        "workspace": d.workspace,
        "endpoint": d.endpoint,
        "name": d.name,
        "model_ref": d.model_ref,
        "model_name": d.model_name,
        "model_version": d.model_version,
        "model_id": d.model_id,
        "replicas": d.replicas,
        "max_rows": d.limits.max_rows,
        "max_body_bytes": d.limits.max_body_bytes,
        "timeout_ms": d.limits.timeout_ms,
        "log_requests": d.log_requests,
        "batch_max_rows": None if d.batching is None else d.batching.max_rows,
        "batch_max_wait_us": None if d.batching is None else d.batching.max_wait_us,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
    }


def _event(row: Any) -> DeploymentEvent:
    return DeploymentEvent(
        workspace=row.workspace,
        endpoint=row.endpoint,
        deployment=row.deployment,
        model_name=row.model_name,
        model_version=row.model_version,
        model_id=row.model_id,
        model_ref=row.model_ref,
        reason=ChangeReason(row.reason),
        at=row.created_at,
    )


def _endpoints(rows: Sequence[Any], deps: Sequence[Any]) -> list[Endpoint]:
    by_endpoint: dict[tuple[str, str], dict[str, Deployment]] = {}
    for d in deps:
        by_endpoint.setdefault((d.workspace, d.endpoint), {})[d.name] = _deployment(d)
    return [
        Endpoint(
            workspace=r.workspace,
            name=r.name,
            auth=AuthMode(r.auth),
            keys=EndpointKeys(r.primary_key, r.secondary_key),
            description=r.description,
            traffic=json.loads(r.traffic),
            mirror=json.loads(r.mirror),
            deployments=by_endpoint.get((r.workspace, r.name), {}),
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]


class SqlServingStore(ServingStore):
    """``ServingStore`` over SQLAlchemy Core, sharing the tracking store's ``Database``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---------------------------------------------------------------- helpers
    def _load(self, conn: Connection, workspace: str, name: str, lock: bool = False) -> Endpoint:
        q = select(et).where(et.c.workspace == workspace, et.c.name == name)
        row = conn.execute(q.with_for_update() if lock else q).first()
        if row is None:
            raise NotFound(f"endpoint {name!r} does not exist in workspace {workspace!r}")
        deps = conn.execute(
            select(dt).where(dt.c.workspace == workspace, dt.c.endpoint == name)
        ).all()
        return _endpoints([row], deps)[0]

    def _put(self, conn: Connection, d: Deployment, reason: ChangeReason | None, now: int) -> None:
        """Update the deployment's row in place (its history references it), or insert it;
        then record its model version when ``reason`` says why it changed."""
        values = _deployment_values(d)
        key = (dt.c.workspace == d.workspace, dt.c.endpoint == d.endpoint, dt.c.name == d.name)
        kept = {k: v for k, v in values.items() if k not in ("workspace", "endpoint", "name")}
        if conn.execute(update(dt).where(*key).values(**kept)).rowcount == 0:
            conn.execute(insert(dt).values(**values))
        if reason is not None:
            conn.execute(
                insert(ht).values(
                    workspace=d.workspace,
                    endpoint=d.endpoint,
                    deployment=d.name,
                    model_name=d.model_name,
                    model_version=d.model_version,
                    model_id=d.model_id,
                    model_ref=d.model_ref,
                    reason=reason.value,
                    created_at=now,
                )
            )

    def _bump(self, conn: Connection) -> None:
        done = conn.execute(update(rt).where(rt.c.id == 1).values(revision=rt.c.revision + 1))
        if done.rowcount == 0:  # a database made without the migration's first row
            conn.execute(insert(rt).values(id=1, revision=1))

    # ---------------------------------------------------------------- endpoints
    def create_endpoint(self, endpoint: Endpoint) -> Endpoint:
        """Insert the endpoint row."""
        e = endpoint
        try:
            with self.db.write() as conn:
                conn.execute(
                    insert(et).values(
                        workspace=e.workspace,
                        name=e.name,
                        auth=e.auth.value,
                        primary_key=e.keys.primary,
                        secondary_key=e.keys.secondary,
                        description=e.description,
                        traffic=_dumps(e.traffic),
                        mirror=_dumps(e.mirror),
                        created_at=e.created_at,
                        updated_at=e.updated_at,
                    )
                )
                self._bump(conn)
        except IntegrityError:
            raise AlreadyExists(
                f"endpoint {e.name!r} already exists in workspace {e.workspace!r}"
            ) from None
        return self.get_endpoint(e.workspace, e.name)

    def get_endpoint(self, workspace: str, name: str) -> Endpoint:
        """The endpoint and its deployments."""
        with self.db.read() as conn:
            return self._load(conn, workspace, name)

    def list_endpoints(
        self, workspace: str, max_results: int, offset: int
    ) -> tuple[list[Endpoint], bool]:
        """A page by name."""
        q = (
            select(et)
            .where(et.c.workspace == workspace)
            .order_by(et.c.name)
            .limit(max_results + 1)
            .offset(offset)
        )
        with self.db.read() as conn:
            rows = conn.execute(q).all()
            page = rows[:max_results]
            names = [r.name for r in page]
            deps = (
                conn.execute(
                    select(dt).where(dt.c.workspace == workspace, dt.c.endpoint.in_(names))
                ).all()
                if names
                else []
            )
            return _endpoints(page, deps), len(rows) > max_results

    def change_endpoint(
        self, workspace: str, name: str, mutate: Callable[[Endpoint], EndpointChange], now: int
    ) -> Endpoint:
        """Lock, mutate, write, bump the revision: one transaction."""
        with self.db.write() as conn:
            current = self._load(conn, workspace, name, lock=True)
            change = mutate(current)
            values: dict[str, Any] = {"updated_at": now}
            if change.auth is not None:
                values["auth"] = change.auth.value
            if change.description is not None:
                values["description"] = change.description
            if change.keys is not None:
                values["primary_key"] = change.keys.primary
                values["secondary_key"] = change.keys.secondary
            if change.traffic is not None:
                values["traffic"] = _dumps(change.traffic)
            if change.mirror is not None:
                values["mirror"] = _dumps(change.mirror)
            where = (dt.c.workspace == workspace, dt.c.endpoint == name)
            hwhere = (ht.c.workspace == workspace, ht.c.endpoint == name)
            for gone in change.delete_deployments:
                conn.execute(delete(ht).where(*hwhere, ht.c.deployment == gone))
                conn.execute(delete(dt).where(*where, dt.c.name == gone))
            d = change.put_deployment
            if d is not None:
                self._put(conn, d, change.history, now)
            conn.execute(
                update(et).where(et.c.workspace == workspace, et.c.name == name).values(**values)
            )
            self._bump(conn)
            return self._load(conn, workspace, name)

    def delete_endpoint(self, workspace: str, name: str) -> Endpoint:
        """Delete the deployments, then the endpoint."""
        with self.db.write() as conn:
            gone = self._load(conn, workspace, name, lock=True)
            conn.execute(delete(ht).where(ht.c.workspace == workspace, ht.c.endpoint == name))
            conn.execute(delete(dt).where(dt.c.workspace == workspace, dt.c.endpoint == name))
            conn.execute(delete(et).where(et.c.workspace == workspace, et.c.name == name))
            self._bump(conn)
        return gone

    def list_history(
        self, workspace: str, endpoint: str, deployment: str, max_results: int, offset: int
    ) -> tuple[list[DeploymentEvent], bool]:
        """A page newest first (by ``id``, which grows with each entry)."""
        q = (
            select(ht)
            .where(
                ht.c.workspace == workspace,
                ht.c.endpoint == endpoint,
                ht.c.deployment == deployment,
            )
            .order_by(ht.c.id.desc())
            .limit(max_results + 1)
            .offset(offset)
        )
        with self.db.read() as conn:
            rows = conn.execute(q).all()
        return [_event(r) for r in rows[:max_results]], len(rows) > max_results

    # ---------------------------------------------------------------- replicas
    def revision(self) -> int:
        """The counter (0 before the first write)."""
        with self.db.read() as conn:
            value = conn.execute(select(rt.c.revision).where(rt.c.id == 1)).scalar()
        return int(value or 0)

    def snapshot(self) -> tuple[int, list[Endpoint]]:
        """Every endpoint, read in one transaction with the revision."""
        with self.db.read() as conn:
            if not self.db.is_sqlite:  # one snapshot for the three reads
                conn.execution_options(isolation_level="REPEATABLE READ")
            value = conn.execute(select(rt.c.revision).where(rt.c.id == 1)).scalar()
            rows = conn.execute(select(et).order_by(et.c.workspace, et.c.name)).all()
            deps = conn.execute(select(dt)).all()
        return int(value or 0), _endpoints(rows, deps)
