"""The SQL store of jobs: submission, compare-and-set status changes and their history."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from trainyard.core.jobs import Job, JobStatus, StatusChange, sources_of
from trainyard.errors import AlreadyExists, NotFound
from trainyard.store._jobs_base import JobStore
from trainyard.store.sql import jobs_tables as jt
from trainyard.store.sql.assets import dumps
from trainyard.store.sql.engine import Database


def _job(row: Any, history: list[StatusChange] | None = None) -> Job:
    return Job(
        workspace=row.workspace,
        name=row.name,
        seq=row.seq,
        document=json.loads(row.document),
        resolved=json.loads(row.resolved),
        compute=row.compute,
        status=JobStatus(row.status),
        run_id=row.run_id,
        experiment_id=row.experiment_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        exit_code=row.exit_code,
        error=row.error,
        cancel_requested=bool(row.cancel_requested),
        state=json.loads(row.state),
        history=history or [],
    )


class SqlJobStore(JobStore):
    """``JobStore`` over SQLAlchemy Core, sharing the tracking store's database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---------------------------------------------------------------- jobs
    def _history(self, conn: Connection, seqs: list[int]) -> dict[int, list[StatusChange]]:
        h = jt.job_status_changes
        out: dict[int, list[StatusChange]] = {s: [] for s in seqs}
        if seqs:
            rows = conn.execute(select(h).where(h.c.job_seq.in_(seqs)).order_by(h.c.id))
            for r in rows:
                out[r.job_seq].append(StatusChange(JobStatus(r.status), r.time, r.message))
        return out

    def _row(self, conn: Connection, workspace: str, name: str, lock: bool = False) -> Any:
        j = jt.jobs
        q = select(j).where(j.c.workspace == workspace, j.c.name == name)
        row = conn.execute(q.with_for_update() if lock else q).first()
        if row is None:
            raise NotFound(f"job {name!r} does not exist in workspace {workspace!r}")
        return row

    def create_job(
        self,
        workspace: str,
        name: str,
        compute: str,
        document: dict[str, Any],
        resolved: dict[str, Any],
        run_id: str | None,
        experiment_id: str | None,
        now: int,
    ) -> Job:
        """A new Queued job."""
        try:
            with self.db.write() as conn:
                res = conn.execute(
                    insert(jt.jobs).values(
                        workspace=workspace,
                        name=name,
                        compute=compute,
                        status=JobStatus.QUEUED.value,
                        document=dumps(document),
                        resolved=dumps(resolved),
                        run_id=run_id,
                        experiment_id=experiment_id,
                        cancel_requested=False,
                        state="{}",
                        created_at=now,
                        updated_at=now,
                    )
                )
                seq = res.inserted_primary_key[0]  # type: ignore[index]
                conn.execute(
                    insert(jt.job_status_changes).values(
                        job_seq=seq, status=JobStatus.QUEUED.value, time=now
                    )
                )
        except IntegrityError as exc:
            raise AlreadyExists(
                f"a job named {name!r} exists already in workspace {workspace!r}; job names "
                "are unique: pick another or leave the name out to get a generated one"
            ) from exc
        return self.get_job(workspace, name)

    def get_job(self, workspace: str, name: str) -> Job:
        """The job with its history."""
        with self.db.read() as conn:
            row = self._row(conn, workspace, name)
            return _job(row, self._history(conn, [row.seq])[row.seq])

    def list_jobs(
        self, workspace: str, status: JobStatus | None, max_results: int, offset: int
    ) -> tuple[list[Job], bool]:
        """Newest first."""
        j = jt.jobs
        q = select(j).where(j.c.workspace == workspace)
        if status is not None:
            q = q.where(j.c.status == status.value)
        q = q.order_by(j.c.seq.desc()).offset(offset).limit(max_results + 1)
        with self.db.read() as conn:
            rows = conn.execute(q).all()
            more = len(rows) > max_results
            rows = rows[:max_results]
            history = self._history(conn, [r.seq for r in rows])
        return [_job(r, history[r.seq]) for r in rows], more

    def jobs_in(self, statuses: frozenset[JobStatus], limit: int) -> list[Job]:
        """Oldest first, across workspaces."""
        j = jt.jobs
        q = (
            select(j)
            .where(j.c.status.in_([s.value for s in statuses]))
            .order_by(j.c.seq)
            .limit(limit)
        )
        with self.db.read() as conn:
            return [_job(r) for r in conn.execute(q)]

    def transition(
        self,
        workspace: str,
        name: str,
        status: JobStatus,
        now: int,
        message: str | None = None,
        *,
        exit_code: int | None = None,
        error: str | None = None,
    ) -> Job | None:
        """Compare-and-set the status, recording the change."""
        allowed = {s.value for s in sources_of(status)}
        with self.db.write() as conn:
            row = self._row(conn, workspace, name, lock=True)
            if row.status not in allowed:
                return None
            values: dict[str, Any] = {"status": status.value, "updated_at": now}
            if exit_code is not None:
                values["exit_code"] = exit_code
            if error is not None:
                values["error"] = error
            conn.execute(update(jt.jobs).where(jt.jobs.c.seq == row.seq).values(**values))
            conn.execute(
                insert(jt.job_status_changes).values(
                    job_seq=row.seq, status=status.value, time=now, message=message
                )
            )
        return self.get_job(workspace, name)

    def set_state(self, workspace: str, name: str, state: dict[str, Any]) -> None:
        """Merge into the job's executor state."""
        with self.db.write() as conn:
            row = self._row(conn, workspace, name, lock=True)
            merged = {**json.loads(row.state), **state}
            conn.execute(
                update(jt.jobs).where(jt.jobs.c.seq == row.seq).values(state=dumps(merged))
            )

    def request_cancel(self, workspace: str, name: str) -> Job:
        """Set the cancel flag."""
        with self.db.write() as conn:
            row = self._row(conn, workspace, name, lock=True)
            conn.execute(
                update(jt.jobs).where(jt.jobs.c.seq == row.seq).values(cancel_requested=True)
            )
        return self.get_job(workspace, name)
