"""The SQL store of versioned assets (environments, data, code), computes and datastores."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from trainyard.core.jobs import AssetKind, AssetVersion, Compute, Datastore
from trainyard.errors import Conflict, NotFound
from trainyard.store._jobs_base import AssetStore
from trainyard.store.sql import jobs_tables as jt
from trainyard.store.sql.engine import Database

_ASSET_TABLES: dict[AssetKind, Table] = {
    AssetKind.ENVIRONMENT: jt.environments,
    AssetKind.DATA: jt.data_assets,
    AssetKind.CODE: jt.code_assets,
}
_LABEL = {AssetKind.ENVIRONMENT: "environment", AssetKind.DATA: "data", AssetKind.CODE: "code"}


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _asset(kind: AssetKind, row: Any) -> AssetVersion:
    return AssetVersion(
        kind,
        row.workspace,
        row.name,
        row.version,
        json.loads(row.spec),
        row.description,
        json.loads(row.tags),
        row.created_at,
        row.updated_at,
    )


def _compute(row: Any) -> Compute:
    return Compute(
        row.workspace, row.name, row.type, row.slots, row.address, row.description, row.created_at
    )


def _datastore(row: Any) -> Datastore:
    return Datastore(
        row.workspace,
        row.name,
        row.url,
        row.description,
        json.loads(row.tags),
        row.created_at,
        row.updated_at,
    )


class SqlAssetStore(AssetStore):
    """``AssetStore`` over SQLAlchemy Core, sharing the tracking store's database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---------------------------------------------------------------- assets
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
        """Create the version, or update description and tags; ``Conflict`` on another spec."""
        table = _ASSET_TABLES[kind]
        key = (table.c.workspace == workspace, table.c.name == name, table.c.version == version)
        for _ in range(2):
            try:
                with self.db.write() as conn:
                    row = conn.execute(select(table).where(*key)).first()
                    if row is None:
                        values = {
                            "workspace": workspace,
                            "name": name,
                            "version": version,
                            "spec": dumps(spec),
                            "description": description,
                            "tags": dumps(tags),
                            "created_at": now,
                            "updated_at": now,
                        }
                        conn.execute(insert(table).values(**values))
                        return _asset(kind, _Row(values)), True
                    if json.loads(row.spec) != json.loads(dumps(spec)):
                        raise Conflict(
                            f"{_LABEL[kind]} {name}:{version} exists already with other "
                            "contents; versions cannot change: register a new version"
                        )
                    conn.execute(
                        update(table)
                        .where(*key)
                        .values(description=description, tags=dumps(tags), updated_at=now)
                    )
                    found = conn.execute(select(table).where(*key)).one()
                    return _asset(kind, found), False
            except IntegrityError:  # created by someone else meanwhile: compare with theirs
                continue
        raise Conflict(f"{_LABEL[kind]} {name}:{version} is being written concurrently; retry")

    def get_asset(
        self, kind: AssetKind, workspace: str, name: str, version: str | None
    ) -> AssetVersion:
        """One version, or the newest."""
        table = _ASSET_TABLES[kind]
        q = select(table).where(table.c.workspace == workspace, table.c.name == name)
        if version is not None:
            q = q.where(table.c.version == version)
        q = q.order_by(table.c.created_at.desc(), table.c.version.desc()).limit(1)
        with self.db.read() as conn:
            row = conn.execute(q).first()
        if row is None:
            what = f"{name}:{version}" if version is not None else f"{name} (any version)"
            raise NotFound(
                f"{_LABEL[kind]} {what} does not exist in workspace {workspace!r}; register it "
                f"with PUT /api/v1/workspaces/{workspace}/{kind.value}/{name}/versions/<version>"
            )
        return _asset(kind, row)

    def list_assets(self, kind: AssetKind, workspace: str, name: str | None) -> list[AssetVersion]:
        """Versions by name, newest first within a name."""
        table = _ASSET_TABLES[kind]
        q = select(table).where(table.c.workspace == workspace)
        if name is not None:
            q = q.where(table.c.name == name)
        q = q.order_by(table.c.name, table.c.created_at.desc(), table.c.version.desc())
        with self.db.read() as conn:
            return [_asset(kind, row) for row in conn.execute(q)]

    # ---------------------------------------------------------------- computes
    def put_compute(self, compute: Compute) -> Compute:
        """Create or replace."""
        c = jt.computes
        key = (c.c.workspace == compute.workspace, c.c.name == compute.name)
        values = {
            "type": compute.type,
            "slots": compute.slots,
            "address": compute.address,
            "description": compute.description,
        }
        with self.db.write() as conn:
            if conn.execute(select(c.c.name).where(*key)).first() is None:
                conn.execute(
                    insert(c).values(
                        workspace=compute.workspace,
                        name=compute.name,
                        created_at=compute.created_at,
                        **values,
                    )
                )
            else:
                conn.execute(update(c).where(*key).values(**values))
        return self.get_compute(compute.workspace, compute.name)

    def get_compute(self, workspace: str, name: str) -> Compute:
        """The stored compute or NotFound."""
        c = jt.computes
        with self.db.read() as conn:
            row = conn.execute(
                select(c).where(c.c.workspace == workspace, c.c.name == name)
            ).first()
        if row is None:
            raise NotFound(f"compute {name!r} does not exist in workspace {workspace!r}")
        return _compute(row)

    def list_computes(self, workspace: str) -> list[Compute]:
        """Stored computes by name."""
        c = jt.computes
        with self.db.read() as conn:
            rows = conn.execute(select(c).where(c.c.workspace == workspace).order_by(c.c.name))
            return [_compute(r) for r in rows]

    # ---------------------------------------------------------------- datastores
    def put_datastore(self, datastore: Datastore) -> tuple[Datastore, bool]:
        """Create, or replace URL, description and tags (``created_at`` stays)."""
        d = jt.datastores
        key = (d.c.workspace == datastore.workspace, d.c.name == datastore.name)
        values = {
            "url": datastore.url,
            "description": datastore.description,
            "tags": dumps(datastore.tags),
            "updated_at": datastore.updated_at,
        }
        for _ in range(2):
            try:
                with self.db.write() as conn:
                    created = conn.execute(select(d.c.name).where(*key)).first() is None
                    if created:
                        conn.execute(
                            insert(d).values(
                                workspace=datastore.workspace,
                                name=datastore.name,
                                created_at=datastore.created_at,
                                **values,
                            )
                        )
                    else:
                        conn.execute(update(d).where(*key).values(**values))
                return self.get_datastore(datastore.workspace, datastore.name), created
            except IntegrityError:  # created by someone else meanwhile: replace theirs
                continue
        raise Conflict(f"datastore {datastore.name!r} is being written concurrently; retry")

    def get_datastore(self, workspace: str, name: str) -> Datastore:
        """The stored datastore or NotFound."""
        d = jt.datastores
        with self.db.read() as conn:
            row = conn.execute(
                select(d).where(d.c.workspace == workspace, d.c.name == name)
            ).first()
        if row is None:
            raise NotFound(
                f"datastore {name!r} does not exist in workspace {workspace!r}; register it "
                f"with PUT /api/v1/workspaces/{workspace}/datastores/{name}"
            )
        return _datastore(row)

    def list_datastores(self, workspace: str) -> list[Datastore]:
        """Stored datastores by name."""
        d = jt.datastores
        with self.db.read() as conn:
            rows = conn.execute(select(d).where(d.c.workspace == workspace).order_by(d.c.name))
            return [_datastore(r) for r in rows]


class _Row:
    """Attribute access over a dict, to build an entity from values just inserted."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
