"""The schema, as SQLAlchemy Core tables (Core, not the ORM: bulk metric inserts stay fast).

Alembic migrations under ``migrations/`` create and evolve these tables; this module is the
source the migrations are checked against.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

workspaces = Table(
    "workspaces",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
)

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", Integer, primary_key=True, autoincrement=True),
    Column("workspace", String(63), ForeignKey("workspaces.name"), nullable=False),
    Column("name", String(250), nullable=False),
    Column("artifact_location", String(1000), nullable=False),
    Column("lifecycle_stage", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("workspace", "name", name="uq_experiments_workspace_name"),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("experiment_id", Integer, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("workspace", String(63), nullable=False),
    Column("name", String(250), nullable=False),
    Column("status", String(16), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger),
    Column("lifecycle_stage", String(16), nullable=False),
    Column("artifact_uri", String(1000), nullable=False),
    Column("parent_run_id", String(32)),
    Column("status_message", Text),
    Index("ix_runs_experiment_start", "experiment_id", "start_time"),
)

params = Table(
    "params",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Index("ix_params_key_value", "key", "run_id"),
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

metrics = Table(
    "metrics",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("step", BigInteger, primary_key=True),
    Column("timestamp", BigInteger, primary_key=True),
    Column("value", Float(precision=53), primary_key=True),
    Column("is_nan", Boolean, primary_key=True, default=False),
    # one b-tree keyed by the primary key instead of a rowid table plus an index: half the writes
    sqlite_with_rowid=False,
)

latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Float(precision=53), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("is_nan", Boolean, nullable=False),
    Index("ix_latest_metrics_key_value", "key", "value"),
)

# Dataset inputs (migration 0009), as MLflow keeps them: a data set belongs to an experiment,
# once per (name, digest); a run links to it once, with the input's tags.
datasets = Table(
    "datasets",
    metadata,
    Column("dataset_id", String(32), primary_key=True),
    Column("experiment_id", Integer, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("name", String(500), nullable=False),
    Column("digest", String(36), nullable=False),
    Column("source_type", String(36), nullable=False),
    Column("source", Text, nullable=False),
    Column("schema", Text),
    Column("profile", Text),
    UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets_experiment_name_digest"),
)

run_inputs = Table(
    "run_inputs",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id"), primary_key=True),
    Column("dataset_id", String(32), ForeignKey("datasets.dataset_id"), primary_key=True),
    Column("position", Integer, nullable=False),
    Index("ix_run_inputs_dataset", "dataset_id"),
)

run_input_tags = Table(
    "run_input_tags",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("dataset_id", String(32), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
    ForeignKeyConstraint(
        ["run_id", "dataset_id"], ["run_inputs.run_id", "run_inputs.dataset_id"], ondelete="CASCADE"
    ),
)

tokens = Table(
    "tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("roles", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

# The jobs' tables live in their own module on the same ``metadata``; importing it here makes
# ``tables.metadata`` the whole schema (the migrations are checked against it).
from trainyard.store.sql import jobs_tables as _jobs_tables  # noqa: E402, F401

logged_models = Table(
    "logged_models",
    metadata,
    Column("model_id", String(34), primary_key=True),
    Column("experiment_id", Integer, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("workspace", String(63), nullable=False),
    Column("name", String(250), nullable=False),
    Column("artifact_location", String(1000), nullable=False),
    Column("status", String(16), nullable=False),
    Column("lifecycle_stage", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("model_type", String(500)),
    Column("source_run_id", String(32)),
    Column("status_message", Text),
    Index("ix_logged_models_experiment_created", "experiment_id", "created_at"),
)

logged_model_params = Table(
    "logged_model_params",
    metadata,
    Column("model_id", String(34), ForeignKey("logged_models.model_id"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

logged_model_tags = Table(
    "logged_model_tags",
    metadata,
    Column("model_id", String(34), ForeignKey("logged_models.model_id"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

logged_model_metrics = Table(
    "logged_model_metrics",
    metadata,
    Column("model_id", String(34), ForeignKey("logged_models.model_id"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("step", BigInteger, primary_key=True),
    Column("timestamp", BigInteger, primary_key=True),
    Column("value", Float(precision=53), primary_key=True),
    Column("is_nan", Boolean, primary_key=True, default=False),
    Column("run_id", String(32)),
    Column("dataset_name", String(500)),
    Column("dataset_digest", String(36)),
)

logged_model_outputs = Table(
    "logged_model_outputs",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id"), primary_key=True),
    Column("model_id", String(34), ForeignKey("logged_models.model_id"), primary_key=True),
    Column("step", BigInteger, nullable=False),
)

# Logged models a run used as inputs (migration 0010), once each, in the order first logged.
run_model_inputs = Table(
    "run_model_inputs",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id"), primary_key=True),
    Column("model_id", String(34), ForeignKey("logged_models.model_id"), primary_key=True),
    Column("position", Integer, nullable=False),
    Index("ix_run_model_inputs_model", "model_id"),
)

# The model registry's tables (migration 0004), likewise on the shared ``metadata``.
from trainyard.store.sql import registry_tables as _registry_tables  # noqa: E402, F401

# Online serving's endpoints and deployments (migration 0006), on the shared ``metadata``.
from trainyard.store.sql import serving_tables as _serving_tables  # noqa: E402, F401

# The sweeps' trials (migration 0005), likewise on the shared ``metadata``.
from trainyard.store.sql import sweeps_tables as _sweeps_tables  # noqa: E402, F401
