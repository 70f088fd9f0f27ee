"""Sweeps: the trials of sweep jobs.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sweep_trials",
        sa.Column("workspace", sa.String(length=63), nullable=False),
        sa.Column("sweep", sa.String(length=250), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("job_name", sa.String(length=250), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("objective", sa.Float(precision=53), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace", "sweep"],
            ["jobs.workspace", "jobs.name"],
            name="fk_sweep_trials_job",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace", "sweep", "number"),
    )


def downgrade() -> None:
    op.drop_table("sweep_trials")
