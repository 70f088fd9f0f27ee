"""Tables of sweeps (migration ``0005``), on the shared ``metadata``.

A sweep is a row of ``jobs`` (its document says ``type: sweep``); ``sweep_trials`` holds one
row per trial, keyed by the sweep and the trial's number. Parameters travel as JSON text:
``parameters`` as the command got them, ``raw`` as Optuna sampled them (to rebuild the study).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKeyConstraint,
    Integer,
    String,
    Table,
    Text,
)

from trainyard.store.sql.tables import metadata

sweep_trials = Table(
    "sweep_trials",
    metadata,
    Column("workspace", String(63), primary_key=True),
    Column("sweep", String(250), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("job_name", String(250), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("parameters", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("objective", Float(precision=53)),
    Column("reason", Text),
    Column("final", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    ForeignKeyConstraint(
        ["workspace", "sweep"],
        ["jobs.workspace", "jobs.name"],
        name="fk_sweep_trials_job",
        ondelete="CASCADE",
    ),
)
