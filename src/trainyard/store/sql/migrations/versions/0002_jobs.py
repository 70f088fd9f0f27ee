"""Jobs and their assets: environments, data and code assets, computes, jobs, status changes.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ASSET_TABLES = ("environments", "data_assets", "code_assets")


def upgrade() -> None:
    for name in ASSET_TABLES:
        op.create_table(
            name,
            sa.Column("workspace", sa.String(length=63), nullable=False),
            sa.Column("name", sa.String(length=250), nullable=False),
            sa.Column("version", sa.String(length=64), nullable=False),
            sa.Column("spec", sa.Text(), nullable=False),
            sa.Column("description", sa.Text(), nullable=False),
            sa.Column("tags", sa.Text(), nullable=False),
            sa.Column("created_at", sa.BigInteger(), nullable=False),
            sa.Column("updated_at", sa.BigInteger(), nullable=False),
            sa.ForeignKeyConstraint(["workspace"], ["workspaces.name"]),
            sa.PrimaryKeyConstraint("workspace", "name", "version"),
        )
    op.create_table(
        "computes",
        sa.Column("workspace", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=1000), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["workspace"], ["workspaces.name"]),
        sa.PrimaryKeyConstraint("workspace", "name"),
    )
    op.create_table(
        "jobs",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("compute", sa.String(length=250), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("resolved", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("experiment_id", sa.String(length=32), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["workspace"], ["workspaces.name"]),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("workspace", "name", name="uq_jobs_workspace_name"),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_status_seq", ["status", "seq"], unique=False)
    op.create_table(
        "job_status_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["job_seq"], ["jobs.seq"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("job_status_changes", schema=None) as batch_op:
        batch_op.create_index("ix_job_status_changes_job", ["job_seq", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job_status_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_job_status_changes_job")
    op.drop_table("job_status_changes")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_status_seq")
    op.drop_table("jobs")
    op.drop_table("computes")
    for name in reversed(ASSET_TABLES):
        op.drop_table(name)
