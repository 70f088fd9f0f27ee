"""Tables of the model registry (migration ``0004``), on the shared ``metadata``.

- ``registered_models``: one row per (workspace, name); ``next_version`` is the number the next
  version gets, so numbers are never reused after a delete.
- ``model_versions``: one row per version, keyed by its opaque ``model_id``; tags, signature,
  metrics and the parity result travel as JSON text (no migration to add a field to them).
- ``model_aliases``: (model, alias) -> version. The foreign key to the version cascades, so an
  alias never outlives the version it points at; moving one is a single-row upsert.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from trainyard.store.sql.tables import metadata

registered_models = Table(
    "registered_models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace", String(63), ForeignKey("workspaces.name"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("tags", Text, nullable=False),
    Column("next_version", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("workspace", "name", name="uq_registered_models_workspace_name"),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("model_id", String(35), primary_key=True),
    Column(
        "registered_model_id",
        Integer,
        ForeignKey("registered_models.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("version", Integer, nullable=False),
    Column("workspace", String(63), nullable=False),
    Column("source", String(16), nullable=False),
    Column("run_id", String(32)),
    Column("artifact_path", String(1000)),
    Column("storage_key", String(1000)),
    Column("native_key", String(1000)),
    Column("format", String(16), nullable=False),
    Column("size", BigInteger),
    Column("sha256", String(64)),
    Column("signature", Text, nullable=False),
    Column("metrics", Text, nullable=False),
    Column("parity", Text),
    Column("forced", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("status_reason", Text),
    Column("description", Text, nullable=False),
    Column("tags", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("registered_model_id", "version", name="uq_model_versions_model_version"),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("registered_model_id", Integer, primary_key=True),
    Column("alias", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    ForeignKeyConstraint(
        ["registered_model_id", "version"],
        ["model_versions.registered_model_id", "model_versions.version"],
        name="fk_model_aliases_version",
        ondelete="CASCADE",
    ),
)
