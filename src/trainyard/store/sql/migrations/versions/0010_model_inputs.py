"""Logged models that runs used as inputs (``log_inputs`` with ``models`` in MLflow 3).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_model_inputs",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=34), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["logged_models.model_id"]),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"]),
        sa.PrimaryKeyConstraint("run_id", "model_id"),
    )
    with op.batch_alter_table("run_model_inputs", schema=None) as batch_op:
        batch_op.create_index("ix_run_model_inputs_model", ["model_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("run_model_inputs", schema=None) as batch_op:
        batch_op.drop_index("ix_run_model_inputs_model")
    op.drop_table("run_model_inputs")
