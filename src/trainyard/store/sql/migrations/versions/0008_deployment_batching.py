"""Deployments: dynamic batching settings (both NULL: batching off).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("batch_max_rows", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("batch_max_wait_us", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("batch_max_wait_us")
        batch.drop_column("batch_max_rows")
