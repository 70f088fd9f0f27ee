"""Workspaces and experiments in SQL: a mixin of ``SqlTrackingStore`` (sharing its ``db``)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from trainyard.core.entities import Experiment, LifecycleStage, Workspace
from trainyard.errors import AlreadyExists, InvalidArgument, NotFound
from trainyard.store.sql import tables as t
from trainyard.store.sql.engine import Database
from trainyard.store.sql.rows import experiment_from_row, experiment_tags


def now_ms() -> int:
    """The current UTC time in milliseconds."""
    return int(time.time() * 1000)


def exp_id(experiment_id: str) -> int:
    """An experiment id as the integer key; a non-number is NotFound."""
    try:
        return int(experiment_id)
    except (TypeError, ValueError):
        raise NotFound(f"experiment {experiment_id!r} does not exist") from None


class SqlExperimentStore:
    """The workspace and experiment half of the tracking store."""

    db: Database
    _insert: Any

    # ---------------------------------------------------------------- workspaces
    def ensure_workspace(self, name: str) -> Workspace:
        """Create the workspace if missing."""
        with self.db.write() as conn:
            stmt = self._insert(t.workspaces).values(name=name, created_at=now_ms())
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
        return self.get_workspace(name)

    def get_workspace(self, name: str) -> Workspace:
        """The workspace or NotFound."""
        with self.db.read() as conn:
            row = conn.execute(select(t.workspaces).where(t.workspaces.c.name == name)).first()
        if row is None:
            raise NotFound(
                f"workspace {name!r} does not exist; create it with PUT /api/v1/workspaces/{name}"
            )
        return Workspace(row.name, row.created_at)

    def list_workspaces(self) -> list[Workspace]:
        """All workspaces by name."""
        with self.db.read() as conn:
            rows = conn.execute(select(t.workspaces).order_by(t.workspaces.c.name)).all()
        return [Workspace(r.name, r.created_at) for r in rows]

    # ---------------------------------------------------------------- experiments
    def _experiment_row(self, conn: Connection, workspace: str, experiment_id: str) -> Any:
        e = t.experiments
        row = conn.execute(
            select(e).where(e.c.experiment_id == exp_id(experiment_id), e.c.workspace == workspace)
        ).first()
        if row is None:
            raise NotFound(
                f"experiment {experiment_id!r} does not exist in workspace {workspace!r}"
            )
        return row

    def _experiment(self, conn: Connection, row: Any) -> Experiment:
        return experiment_from_row(
            row, experiment_tags(conn, [row.experiment_id])[row.experiment_id]
        )

    def create_experiment(
        self, workspace: str, name: str, tags: dict[str, str], artifact_location: str | None
    ) -> Experiment:
        """A new experiment; its artifacts live under its id unless a location is given."""
        now = now_ms()
        try:
            with self.db.write() as conn:
                res = conn.execute(
                    insert(t.experiments).values(
                        workspace=workspace,
                        name=name,
                        artifact_location=artifact_location or "",
                        lifecycle_stage=LifecycleStage.ACTIVE.value,
                        created_at=now,
                        updated_at=now,
                    )
                )
                exp_id = res.inserted_primary_key[0]  # type: ignore[index]
                if not artifact_location:
                    conn.execute(
                        update(t.experiments)
                        .where(t.experiments.c.experiment_id == exp_id)
                        .values(artifact_location=str(exp_id))
                    )
                if tags:
                    conn.execute(
                        insert(t.experiment_tags),
                        [{"experiment_id": exp_id, "key": k, "value": v} for k, v in tags.items()],
                    )
        except IntegrityError as exc:
            raise AlreadyExists(
                f"an experiment named {name!r} exists already in workspace {workspace!r}"
            ) from exc
        return self.get_experiment(workspace, str(exp_id))

    def get_experiment(self, workspace: str, experiment_id: str) -> Experiment:
        """The experiment or NotFound."""
        with self.db.read() as conn:
            return self._experiment(conn, self._experiment_row(conn, workspace, experiment_id))

    def get_experiment_by_name(self, workspace: str, name: str) -> Experiment:
        """The experiment with that name or NotFound."""
        e = t.experiments
        with self.db.read() as conn:
            row = conn.execute(
                select(e).where(e.c.workspace == workspace, e.c.name == name)
            ).first()
            if row is None:
                raise NotFound(f"experiment {name!r} does not exist in workspace {workspace!r}")
            return self._experiment(conn, row)

    def list_experiments(
        self,
        workspace: str,
        name_contains: str | None,
        include_deleted: bool,
        max_results: int,
        offset: int,
    ) -> tuple[list[tuple[Experiment, int, int | None]], bool]:
        """Experiments by name with run counts and last activity."""
        e, r = t.experiments, t.runs
        stats = (
            select(
                r.c.experiment_id,
                func.count().label("n"),
                func.max(func.coalesce(r.c.end_time, r.c.start_time)).label("last"),
            )
            .where(r.c.lifecycle_stage == LifecycleStage.ACTIVE.value)
            .group_by(r.c.experiment_id)
            .subquery()
        )
        q = (
            select(e, stats.c.n, stats.c.last)
            .outerjoin(stats, stats.c.experiment_id == e.c.experiment_id)
            .where(e.c.workspace == workspace)
        )
        if not include_deleted:
            q = q.where(e.c.lifecycle_stage == LifecycleStage.ACTIVE.value)
        if name_contains:
            q = q.where(func.lower(e.c.name).contains(name_contains.lower(), autoescape=True))
        q = q.order_by(e.c.name).offset(offset).limit(max_results + 1)
        with self.db.read() as conn:
            rows = conn.execute(q).all()
            more = len(rows) > max_results
            rows = rows[:max_results]
            tags = experiment_tags(conn, [row.experiment_id for row in rows])
        out = [
            (experiment_from_row(row, tags[row.experiment_id]), row.n or 0, row.last)
            for row in rows
        ]
        return out, more

    def update_experiment(
        self, workspace: str, experiment_id: str, name: str | None, tags: dict[str, str] | None
    ) -> Experiment:
        """Rename and/or upsert tags."""
        try:
            with self.db.write() as conn:
                row = self._experiment_row(conn, workspace, experiment_id)
                values: dict[str, Any] = {"updated_at": now_ms()}
                if name is not None:
                    values["name"] = name
                conn.execute(
                    update(t.experiments)
                    .where(t.experiments.c.experiment_id == row.experiment_id)
                    .values(**values)
                )
                for k, v in (tags or {}).items():
                    stmt = self._insert(t.experiment_tags).values(
                        experiment_id=row.experiment_id, key=k, value=v
                    )
                    conn.execute(
                        stmt.on_conflict_do_update(
                            index_elements=["experiment_id", "key"], set_={"value": v}
                        )
                    )
        except IntegrityError as exc:
            raise AlreadyExists(
                f"an experiment named {name!r} exists already in workspace {workspace!r}"
            ) from exc
        return self.get_experiment(workspace, experiment_id)

    def set_experiment_stage(
        self, workspace: str, experiment_id: str, stage: LifecycleStage
    ) -> Experiment:
        """Soft-delete or restore."""
        with self.db.write() as conn:
            row = self._experiment_row(conn, workspace, experiment_id)
            if row.experiment_id == 0 and stage == LifecycleStage.DELETED:
                raise InvalidArgument("the Default experiment (id 0) cannot be deleted")
            conn.execute(
                update(t.experiments)
                .where(t.experiments.c.experiment_id == row.experiment_id)
                .values(lifecycle_stage=stage.value, updated_at=now_ms())
            )
        return self.get_experiment(workspace, experiment_id)

    def delete_experiment_tag(self, workspace: str, experiment_id: str, key: str) -> None:
        """Remove one experiment tag."""
        with self.db.write() as conn:
            row = self._experiment_row(conn, workspace, experiment_id)
            et = t.experiment_tags
            conn.execute(delete(et).where(et.c.experiment_id == row.experiment_id, et.c.key == key))
