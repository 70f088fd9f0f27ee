"""The SQL model registry: registered models, versions and aliases, for SQLite and PostgreSQL.

Version numbers come from ``registered_models.next_version``, read under the model row's lock
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's single writer serialises the same way), so two
concurrent registrations get two numbers and never overwrite each other's files.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from trainyard.core.model_ref import MODEL_ID_PREFIX
from trainyard.core.registry import (
    ModelVersion,
    ModelVersionStatus,
    NewModelVersion,
    RegisteredModel,
)
from trainyard.errors import AlreadyExists, Conflict, NotFound
from trainyard.store._registry_base import Placement, RegistryStore
from trainyard.store.sql import registry_tables as r
from trainyard.store.sql.engine import Database
from trainyard.store.sql.registry_rows import load_models, load_versions

rm, mv, al = r.registered_models, r.model_versions, r.model_aliases


def _now() -> int:
    return int(time.time() * 1000)


def _merged_tags(stored: str, tags: dict[str, str] | None, delete: Sequence[str]) -> str:
    merged = {**json.loads(stored), **(tags or {})}
    for key in delete:
        merged.pop(key, None)
    return json.dumps(merged)


class SqlRegistryStore(RegistryStore):
    """``RegistryStore`` over SQLAlchemy Core, sharing the tracking store's ``Database``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = postgresql.insert if not db.is_sqlite else sqlite.insert

    # ---------------------------------------------------------------- helpers
    def _model_row(self, conn: Connection, workspace: str, name: str, lock: bool = False) -> Any:
        q = select(rm).where(rm.c.workspace == workspace, rm.c.name == name)
        row = conn.execute(q.with_for_update() if lock else q).first()
        if row is None:
            raise NotFound(f"model {name!r} does not exist in workspace {workspace!r}")
        return row

    def _version_row(self, conn: Connection, model: Any, version: int) -> Any:
        row = conn.execute(
            select(mv).where(mv.c.registered_model_id == model.id, mv.c.version == version)
        ).first()
        if row is None:
            raise NotFound(f"model {model.name!r} has no version {version}")
        return row

    # ---------------------------------------------------------------- models
    def create_model(
        self, workspace: str, name: str, description: str, tags: dict[str, str]
    ) -> RegisteredModel:
        """A new model; ``AlreadyExists`` if the name is taken in the workspace."""
        now = _now()
        try:
            with self.db.write() as conn:
                conn.execute(
                    insert(rm).values(
                        workspace=workspace,
                        name=name,
                        description=description,
                        tags=json.dumps(tags),
                        next_version=1,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            raise AlreadyExists(
                f"model {name!r} already exists in workspace {workspace!r}; "
                "register a new version of it instead"
            ) from None
        return self.get_model(workspace, name)

    def get_model(self, workspace: str, name: str) -> RegisteredModel:
        """The model, its aliases and version figures."""
        with self.db.read() as conn:
            return load_models(conn, [self._model_row(conn, workspace, name)])[0]

    def list_models(
        self, workspace: str, name_contains: str | None, max_results: int, offset: int
    ) -> tuple[list[RegisteredModel], bool]:
        """A page of models by name."""
        q = select(rm).where(rm.c.workspace == workspace)
        if name_contains:
            q = q.where(func.lower(rm.c.name).contains(name_contains.lower(), autoescape=True))
        q = q.order_by(rm.c.name).limit(max_results + 1).offset(offset)
        with self.db.read() as conn:
            rows = conn.execute(q).all()
            return load_models(conn, rows[:max_results]), len(rows) > max_results

    def update_model(
        self,
        workspace: str,
        name: str,
        description: str | None,
        tags: dict[str, str] | None,
        delete_tags: Sequence[str] = (),
    ) -> RegisteredModel:
        """Replace the description, upsert and/or remove tags."""
        with self.db.write() as conn:
            row = self._model_row(conn, workspace, name, lock=True)
            values: dict[str, Any] = {"updated_at": _now()}
            if description is not None:
                values["description"] = description
            if tags is not None or delete_tags:
                values["tags"] = _merged_tags(row.tags, tags, delete_tags)
            conn.execute(update(rm).where(rm.c.id == row.id).values(**values))
        return self.get_model(workspace, name)

    def rename_model(
        self,
        workspace: str,
        name: str,
        new_name: str,
        move: Callable[[ModelVersion], Placement],
    ) -> RegisteredModel:
        """Rename under the model's lock; ``move`` gives each version's new file keys."""
        try:
            with self.db.write() as conn:
                row = self._model_row(conn, workspace, name, lock=True)
                if new_name == name:
                    return load_models(conn, [row])[0]
                conn.execute(
                    update(rm).where(rm.c.id == row.id).values(name=new_name, updated_at=_now())
                )
                rows = conn.execute(select(mv).where(mv.c.registered_model_id == row.id)).all()
                for v in load_versions(conn, name, rows):
                    storage_key, native_key = move(v)
                    conn.execute(
                        update(mv)
                        .where(mv.c.model_id == v.model_id)
                        .values(storage_key=storage_key, native_key=native_key)
                    )
        except IntegrityError:
            raise AlreadyExists(
                f"model {new_name!r} already exists in workspace {workspace!r}; choose another name"
            ) from None
        return self.get_model(workspace, new_name)

    def delete_model(self, workspace: str, name: str) -> list[ModelVersion]:
        """Delete the model with its versions and aliases; return the versions."""
        with self.db.write() as conn:
            row = self._model_row(conn, workspace, name, lock=True)
            versions = conn.execute(select(mv).where(mv.c.registered_model_id == row.id)).all()
            gone = load_versions(conn, name, versions)
            conn.execute(delete(al).where(al.c.registered_model_id == row.id))
            conn.execute(delete(mv).where(mv.c.registered_model_id == row.id))
            conn.execute(delete(rm).where(rm.c.id == row.id))
        return gone

    # ---------------------------------------------------------------- versions
    def create_version(
        self,
        workspace: str,
        name: str,
        new: NewModelVersion,
        place: Callable[[int], Placement],
        expected_version: int | None = None,
    ) -> ModelVersion:
        """Allot the number under the model's lock, place the files, then record the row."""
        model_id = MODEL_ID_PREFIX + uuid.uuid4().hex
        with self.db.write() as conn:
            model = self._model_row(conn, workspace, name, lock=True)
            number = model.next_version
            if expected_version is not None and expected_version != number:
                raise Conflict(
                    f"model {name!r} gets version {number} next, not {expected_version}: "
                    f"upload to .../versions/{number} (numbers are never reused)",
                    {"next_version": number},
                )
            storage_key, native_key = place(number)
            now = _now()
            conn.execute(
                insert(mv).values(
                    model_id=model_id,
                    registered_model_id=model.id,
                    version=number,
                    workspace=workspace,
                    source=new.source.value,
                    run_id=new.run_id,
                    artifact_path=new.artifact_path,
                    storage_key=storage_key,
                    native_key=native_key,
                    format=new.format,
                    size=new.size,
                    sha256=new.sha256,
                    signature=json.dumps(new.signature),
                    metrics=json.dumps(new.metrics),
                    parity=None if new.parity is None else json.dumps(new.parity),
                    forced=new.forced,
                    status=new.status.value,
                    status_reason=new.status_reason,
                    description=new.description,
                    tags=json.dumps(new.tags),
                    created_at=now,
                )
            )
            conn.execute(
                update(rm)
                .where(rm.c.id == model.id)
                .values(next_version=number + 1, updated_at=now)
            )
        return self.get_version(workspace, name, number)

    def get_version(self, workspace: str, name: str, version: int) -> ModelVersion:
        """One version of a model."""
        with self.db.read() as conn:
            model = self._model_row(conn, workspace, name)
            return load_versions(conn, name, [self._version_row(conn, model, version)])[0]

    def get_version_by_id(self, workspace: str, model_id: str) -> ModelVersion:
        """The version with that id, in this workspace."""
        q = (
            select(mv, rm.c.name.label("model_name"))
            .join(rm, rm.c.id == mv.c.registered_model_id)
            .where(mv.c.model_id == model_id, mv.c.workspace == workspace)
        )
        with self.db.read() as conn:
            row = conn.execute(q).first()
            if row is None:
                raise NotFound(f"no model version has id {model_id!r} in workspace {workspace!r}")
            return load_versions(conn, row.model_name, [row])[0]

    def latest_version(self, workspace: str, name: str) -> ModelVersion:
        """The newest READY version."""
        with self.db.read() as conn:
            model = self._model_row(conn, workspace, name)
            row = conn.execute(
                select(mv)
                .where(
                    mv.c.registered_model_id == model.id,
                    mv.c.status == ModelVersionStatus.READY.value,
                )
                .order_by(mv.c.version.desc())
                .limit(1)
            ).first()
            if row is None:
                raise NotFound(f"model {name!r} has no READY version yet; register one first")
            return load_versions(conn, name, [row])[0]

    def list_versions(
        self, workspace: str, name: str, max_results: int, offset: int
    ) -> tuple[list[ModelVersion], bool]:
        """A page of versions, newest first."""
        with self.db.read() as conn:
            model = self._model_row(conn, workspace, name)
            rows = conn.execute(
                select(mv)
                .where(mv.c.registered_model_id == model.id)
                .order_by(mv.c.version.desc())
                .limit(max_results + 1)
                .offset(offset)
            ).all()
            return load_versions(conn, name, rows[:max_results]), len(rows) > max_results

    def update_version(
        self,
        workspace: str,
        name: str,
        version: int,
        description: str | None,
        tags: dict[str, str] | None,
        delete_tags: Sequence[str] = (),
    ) -> ModelVersion:
        """Replace the description, upsert and/or remove tags of one version."""
        with self.db.write() as conn:
            model = self._model_row(conn, workspace, name, lock=True)
            row = self._version_row(conn, model, version)
            values: dict[str, Any] = {}
            if description is not None:
                values["description"] = description
            if tags is not None or delete_tags:
                values["tags"] = _merged_tags(row.tags, tags, delete_tags)
            if values:
                conn.execute(update(mv).where(mv.c.model_id == row.model_id).values(**values))
                conn.execute(update(rm).where(rm.c.id == model.id).values(updated_at=_now()))
        return self.get_version(workspace, name, version)

    def delete_version(self, workspace: str, name: str, version: int) -> ModelVersion:
        """Delete one version and the aliases on it."""
        with self.db.write() as conn:
            model = self._model_row(conn, workspace, name, lock=True)
            gone = load_versions(conn, name, [self._version_row(conn, model, version)])[0]
            conn.execute(
                delete(al).where(al.c.registered_model_id == model.id, al.c.version == version)
            )
            conn.execute(
                delete(mv).where(mv.c.registered_model_id == model.id, mv.c.version == version)
            )
            conn.execute(update(rm).where(rm.c.id == model.id).values(updated_at=_now()))
        return gone

    # ---------------------------------------------------------------- aliases
    def set_alias(self, workspace: str, name: str, alias: str, version: int) -> ModelVersion:
        """Point (or move) ``alias`` at a READY version, in one upsert."""
        with self.db.write() as conn:
            model = self._model_row(conn, workspace, name, lock=True)
            target = self._version_row(conn, model, version)
            if target.status != ModelVersionStatus.READY.value:
                raise Conflict(
                    f"version {version} of model {name!r} is {target.status} "
                    f"({target.status_reason}); an alias can only point at a READY version"
                )
            stmt = self._insert(al).values(
                registered_model_id=model.id, alias=alias, version=version, updated_at=_now()
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["registered_model_id", "alias"],
                    set_={"version": version, "updated_at": stmt.excluded.updated_at},
                )
            )
        return self.get_version(workspace, name, version)

    def delete_alias(self, workspace: str, name: str, alias: str) -> None:
        """Remove an alias."""
        with self.db.write() as conn:
            model = self._model_row(conn, workspace, name, lock=True)
            res = conn.execute(
                delete(al).where(al.c.registered_model_id == model.id, al.c.alias == alias)
            )
            if res.rowcount == 0:
                raise NotFound(f"model {name!r} has no alias {alias!r}")

    def resolve_alias(self, workspace: str, name: str, alias: str) -> ModelVersion:
        """The version the alias points at."""
        with self.db.read() as conn:
            model = self._model_row(conn, workspace, name)
            found = conn.execute(
                select(al.c.version).where(
                    al.c.registered_model_id == model.id, al.c.alias == alias
                )
            ).first()
            if found is None:
                raise NotFound(
                    f"model {name!r} has no alias {alias!r}; set it with "
                    f"`trainyard model alias {name} {alias} VERSION`"
                )
            row = self._version_row(conn, model, found.version)
            return load_versions(conn, name, [row])[0]
