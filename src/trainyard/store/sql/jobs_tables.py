"""Tables of jobs and their assets (migration ``0002``), on the shared ``metadata``.

Versioned assets share one shape: the kind's own fields travel as a JSON ``spec``, so adding a
field to an environment or a data asset needs no migration. A job keeps its document as
submitted (JSON), what its references resolved to, its status and, in ``job_status_changes``,
one row per change of status.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from trainyard.store.sql.tables import metadata


def _asset_table(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("workspace", String(63), ForeignKey("workspaces.name"), primary_key=True),
        Column("name", String(250), primary_key=True),
        Column("version", String(64), primary_key=True),
        Column("spec", Text, nullable=False),
        Column("description", Text, nullable=False),
        Column("tags", Text, nullable=False),
        Column("created_at", BigInteger, nullable=False),
        Column("updated_at", BigInteger, nullable=False),
    )


environments = _asset_table("environments")
data_assets = _asset_table("data_assets")
code_assets = _asset_table("code_assets")

computes = Table(
    "computes",
    metadata,
    Column("workspace", String(63), ForeignKey("workspaces.name"), primary_key=True),
    Column("name", String(250), primary_key=True),
    Column("type", String(16), nullable=False),
    Column("slots", Integer, nullable=False),
    Column("address", String(1000)),
    Column("description", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# Registered datastores (migration 0007); ``default`` (the artifact store) is built in.
datastores = Table(
    "datastores",
    metadata,
    Column("workspace", String(63), ForeignKey("workspaces.name"), primary_key=True),
    Column("name", String(250), primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("description", Text, nullable=False),
    Column("tags", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("workspace", String(63), ForeignKey("workspaces.name"), nullable=False),
    Column("name", String(250), nullable=False),
    Column("compute", String(250), nullable=False),
    Column("status", String(16), nullable=False),
    Column("document", Text, nullable=False),
    Column("resolved", Text, nullable=False),
    Column("run_id", String(32)),
    Column("experiment_id", String(32)),
    Column("exit_code", Integer),
    Column("error", Text),
    Column("cancel_requested", Boolean, nullable=False),
    Column("state", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("workspace", "name", name="uq_jobs_workspace_name"),
    Index("ix_jobs_status_seq", "status", "seq"),
)

job_status_changes = Table(
    "job_status_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_seq", Integer, ForeignKey("jobs.seq", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("message", Text),
    Index("ix_job_status_changes_job", "job_seq", "id"),
)
