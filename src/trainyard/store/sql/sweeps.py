"""The SQL store of sweep trials."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from trainyard.core.jobs import JobStatus
from trainyard.core.sweeps import Trial
from trainyard.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from trainyard.store._sweeps_base import TRIAL_FIELDS, SweepStore
from trainyard.store.sql.assets import dumps
from trainyard.store.sql.engine import Database
from trainyard.store.sql.sweeps_tables import sweep_trials as st


def _trial(row: Any) -> Trial:
    return Trial(
        workspace=row.workspace,
        sweep=row.sweep,
        number=row.number,
        job_name=row.job_name,
        attempt=row.attempt,
        status=JobStatus(row.status),
        parameters=json.loads(row.parameters),
        raw=json.loads(row.raw),
        created_at=row.created_at,
        updated_at=row.updated_at,
        objective=row.objective,
        reason=row.reason,
        final=bool(row.final),
    )


class SqlSweepStore(SweepStore):
    """``SweepStore`` over SQLAlchemy Core, sharing the tracking store's database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _row(self, conn: Connection, workspace: str, sweep: str, number: int) -> Any:
        q = select(st).where(
            st.c.workspace == workspace, st.c.sweep == sweep, st.c.number == number
        )
        row = conn.execute(q.with_for_update()).first()
        if row is None:
            raise NotFound(f"sweep {sweep!r} has no trial {number}")
        return row

    def add_trial(self, trial: Trial) -> Trial:
        """Insert the trial."""
        try:
            with self.db.write() as conn:
                conn.execute(
                    insert(st).values(
                        workspace=trial.workspace,
                        sweep=trial.sweep,
                        number=trial.number,
                        job_name=trial.job_name,
                        attempt=trial.attempt,
                        status=trial.status.value,
                        parameters=dumps(trial.parameters),
                        raw=dumps(trial.raw),
                        objective=trial.objective,
                        reason=trial.reason,
                        final=trial.final,
                        created_at=trial.created_at,
                        updated_at=trial.updated_at,
                    )
                )
        except IntegrityError as exc:
            raise AlreadyExists(
                f"sweep {trial.sweep!r} has a trial {trial.number} already"
            ) from exc
        return trial

    def update_trial(
        self, workspace: str, sweep: str, number: int, now: int, changes: dict[str, Any]
    ) -> Trial:
        """Change a live trial."""
        unknown = set(changes) - TRIAL_FIELDS
        if unknown:
            raise InvalidArgument(f"trial fields {sorted(unknown)} cannot be changed")
        values = {k: (v.value if isinstance(v, JobStatus) else v) for k, v in changes.items()}
        with self.db.write() as conn:
            row = self._row(conn, workspace, sweep, number)
            if row.final:
                raise Conflict(f"trial {number} of sweep {sweep!r} is final already")
            conn.execute(
                update(st)
                .where(st.c.workspace == workspace, st.c.sweep == sweep, st.c.number == number)
                .values(**values, updated_at=now)
            )
            return _trial(self._row(conn, workspace, sweep, number))

    def list_trials(self, workspace: str, sweep: str) -> list[Trial]:
        """By number."""
        q = select(st).where(st.c.workspace == workspace, st.c.sweep == sweep).order_by(st.c.number)
        with self.db.read() as conn:
            return [_trial(r) for r in conn.execute(q)]
