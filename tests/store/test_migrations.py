"""The migration chain builds exactly the schema that ``tables.py`` describes, on each backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from trainyard.store.sql.engine import make_engine
from trainyard.store.sql.migrate import alembic_config, current_revision, upgrade
from trainyard.store.sql.tables import metadata


def test_head_matches_the_tables_and_upgrade_is_idempotent(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        upgrade(engine)  # a second start changes nothing
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert current_revision(engine) == head
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == [], f"migrations and tables.py disagree: {diff}"
    finally:
        engine.dispose()
