"""Deployments: the history of the model versions each one served (for rollbacks).

Each existing deployment starts its history with the version it serves, as ``created`` at its
last update (what it served before that was not recorded).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployment_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=63), nullable=False),
        sa.Column("endpoint", sa.String(length=63), nullable=False),
        sa.Column("deployment", sa.String(length=63), nullable=False),
        sa.Column("model_name", sa.String(length=200), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.String(length=35), nullable=False),
        sa.Column("model_ref", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace", "endpoint", "deployment"],
            ["deployments.workspace", "deployments.endpoint", "deployments.name"],
            name="fk_deployment_history_deployment",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deployment_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deployment_history_deployment",
            ["workspace", "endpoint", "deployment", "id"],
            unique=False,
        )
    op.execute(
        "INSERT INTO deployment_history (workspace, endpoint, deployment, model_name, "
        "model_version, model_id, model_ref, reason, created_at) "
        "SELECT workspace, endpoint, name, model_name, model_version, model_id, model_ref, "
        "'created', updated_at FROM deployments ORDER BY workspace, endpoint, name"
    )


def downgrade() -> None:
    with op.batch_alter_table("deployment_history", schema=None) as batch_op:
        batch_op.drop_index("ix_deployment_history_deployment")
    op.drop_table("deployment_history")
