"""Alembic environment: runs on the connection handed in by ``trainyard.store.sql.migrate``."""

from __future__ import annotations

from alembic import context

from trainyard.store.sql.tables import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # the alembic command line, for authoring revisions
    from sqlalchemy import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
