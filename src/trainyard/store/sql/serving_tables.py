"""Tables of online serving (migration ``0006``), on the shared ``metadata``.

- ``endpoints``: one row per (workspace, name), with its auth mode, its two scoring keys, and
  its traffic and mirror maps as JSON text (one row, so a traffic change is one atomic update).
  The keys are stored as they are, not hashed: ``trainyard endpoint keys`` must show them again,
  every scoring replica must check them, and anyone who can read this database can read the
  models they protect anyway (see ``docs/serving.md``, "Keys").
- ``deployments``: one row per deployment, keyed by (workspace, endpoint, name), with the model
  reference as given and the version it resolved to, replicas, request limits and batching
  (``batch_max_rows``/``batch_max_wait_us``, migration ``0008``; both NULL: batching off).
- ``deployment_history``: one row per change of a deployment's model version (migration
  ``0011``): the version served from then on, the reference as given, why (``created``,
  ``updated``, ``rolled back``) and when; ``id`` orders them. It goes with its deployment and
  its endpoint (``ON DELETE CASCADE``, and the store deletes it explicitly too).
- ``serving_revision``: one row whose ``revision`` grows with every serving write; replicas poll
  it to learn that something changed.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from trainyard.store.sql.tables import metadata

endpoints = Table(
    "endpoints",
    metadata,
    Column("workspace", String(63), ForeignKey("workspaces.name"), primary_key=True),
    Column("name", String(63), primary_key=True),
    Column("auth", String(8), nullable=False),
    Column("primary_key", String(100), nullable=False),
    Column("secondary_key", String(100), nullable=False),
    Column("description", Text, nullable=False),
    Column("traffic", Text, nullable=False),
    Column("mirror", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

deployments = Table(
    "deployments",
    metadata,
    Column("workspace", String(63), primary_key=True),
    Column("endpoint", String(63), primary_key=True),
    Column("name", String(63), primary_key=True),
    Column("model_ref", String(300), nullable=False),
    Column("model_name", String(200), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("model_id", String(35), nullable=False),
    Column("replicas", Integer, nullable=False),
    Column("max_rows", Integer, nullable=False),
    Column("max_body_bytes", BigInteger, nullable=False),
    Column("timeout_ms", Integer, nullable=False),
    Column("log_requests", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("batch_max_rows", Integer, nullable=True),
    Column("batch_max_wait_us", Integer, nullable=True),
    ForeignKeyConstraint(
        ["workspace", "endpoint"],
        ["endpoints.workspace", "endpoints.name"],
        name="fk_deployments_endpoint",
        ondelete="CASCADE",
    ),
)

deployment_history = Table(
    "deployment_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace", String(63), nullable=False),
    Column("endpoint", String(63), nullable=False),
    Column("deployment", String(63), nullable=False),
    Column("model_name", String(200), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("model_id", String(35), nullable=False),
    Column("model_ref", String(300), nullable=False),
    Column("reason", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    ForeignKeyConstraint(
        ["workspace", "endpoint", "deployment"],
        ["deployments.workspace", "deployments.endpoint", "deployments.name"],
        name="fk_deployment_history_deployment",
        ondelete="CASCADE",
    ),
    Index("ix_deployment_history_deployment", "workspace", "endpoint", "deployment", "id"),
)

serving_revision = Table(
    "serving_revision",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("revision", BigInteger, nullable=False),
)
