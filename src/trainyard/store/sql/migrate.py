"""Apply the Alembic migrations: at ``trainyard up``, ``trainyard db upgrade`` and store opening.

SQLite and foreign keys: the engine turns ``PRAGMA foreign_keys`` on for every connection, and
SQLite ignores that pragma inside a transaction. A migration that rebuilds a table in batch
mode (copy, drop, rename) would then, on dropping the old table, silently delete the rows of
every table referencing it with ``ON DELETE CASCADE``. So on SQLite :func:`upgrade` turns the
checks off before its transaction, runs ``PRAGMA foreign_key_check`` before committing (a
migration that left a dangling reference fails and is rolled back), and turns them back on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).parent / "migrations"


class MigrationError(RuntimeError):
    """A migration left the database inconsistent; it was rolled back."""


def alembic_config(script_location: Path = MIGRATIONS) -> Config:
    """An Alembic config pointing at the migrations shipped in the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    return cfg


def upgrade(engine: Engine, revision: str = "head", config: Config | None = None) -> None:
    """Bring the schema of ``engine``'s database up to ``revision`` in one transaction.

    Raises:
        MigrationError: on SQLite, the migrated database has rows referencing missing rows.
    """
    cfg = config or alembic_config()
    with engine.connect() as conn:
        if engine.dialect.name != "sqlite":
            with conn.begin():
                _run(cfg, conn, revision)
            return
        raw: Any = conn.connection.driver_connection  # outside any transaction
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                _run(cfg, conn, revision)
                dangling = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if dangling:
                    tables = sorted({str(row[0]) for row in dangling})
                    raise MigrationError(
                        f"upgrading to {revision} left {len(dangling)} rows referencing missing "
                        f"rows (tables {', '.join(tables)}); nothing was changed"
                    )
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


def _run(cfg: Config, conn: Connection, revision: str) -> None:
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
