"""Logged models (MLflow 3's ``LoggedModel``): the models, their params, tags, metrics, and
which run produced which model.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _model_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["model_id"], ["logged_models.model_id"])


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(length=34), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("workspace", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("artifact_location", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lifecycle_stage", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("model_type", sa.String(length=500), nullable=True),
        sa.Column("source_run_id", sa.String(length=32), nullable=True),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["experiment_id"], ["experiments.experiment_id"]),
        sa.PrimaryKeyConstraint("model_id"),
    )
    with op.batch_alter_table("logged_models", schema=None) as batch_op:
        batch_op.create_index(
            "ix_logged_models_experiment_created", ["experiment_id", "created_at"], unique=False
        )
    op.create_table(
        "logged_model_metrics",
        sa.Column("model_id", sa.String(length=34), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=False),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("dataset_name", sa.String(length=500), nullable=True),
        sa.Column("dataset_digest", sa.String(length=36), nullable=True),
        _model_fk(),
        sa.PrimaryKeyConstraint("model_id", "key", "step", "timestamp", "value", "is_nan"),
    )
    op.create_table(
        "logged_model_outputs",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=34), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        _model_fk(),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"]),
        sa.PrimaryKeyConstraint("run_id", "model_id"),
    )
    for name in ("logged_model_params", "logged_model_tags"):
        op.create_table(
            name,
            sa.Column("model_id", sa.String(length=34), nullable=False),
            sa.Column("key", sa.String(length=250), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            _model_fk(),
            sa.PrimaryKeyConstraint("model_id", "key"),
        )


def downgrade() -> None:
    for name in ("logged_model_tags", "logged_model_params", "logged_model_outputs"):
        op.drop_table(name)
    op.drop_table("logged_model_metrics")
    with op.batch_alter_table("logged_models", schema=None) as batch_op:
        batch_op.drop_index("ix_logged_models_experiment_created")
    op.drop_table("logged_models")
