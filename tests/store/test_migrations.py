"""The migration chain builds exactly the schema that ``tables.py`` describes, on each backend;
on SQLite, a table rebuilt by a migration keeps the rows that reference it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from trainyard.store.sql.engine import make_engine
from trainyard.store.sql.migrate import (
    MIGRATIONS,
    MigrationError,
    alembic_config,
    current_revision,
    upgrade,
)
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


REVISIONS = {
    "r1_parent_child.py": """
import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "r1", None, None, None


def upgrade() -> None:
    op.create_table("parent", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_table(
        "child",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("parent.id", ondelete="CASCADE")),
    )
""",
    "r2_rebuild_parent.py": """
import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "r2", "r1", None, None


def upgrade() -> None:
    with op.batch_alter_table("parent", recreate="always") as batch:
        batch.add_column(sa.Column("note", sa.String(20), nullable=True))
""",
    "r3_dangling.py": """
from alembic import op

revision, down_revision, branch_labels, depends_on = "r3", "r2", None, None


def upgrade() -> None:
    op.execute("DELETE FROM parent WHERE id = 1")
""",
}


def test_sqlite_table_rebuilds_keep_the_rows_that_reference_them(tmp_path: Path) -> None:
    """A batch-mode rebuild of a table others reference with ON DELETE CASCADE keeps their rows
    (SQLite ignores turning foreign keys off inside a transaction, so ``upgrade`` does it
    before), and a migration leaving a dangling reference is refused and rolled back."""
    scripts = tmp_path / "migrations"
    (scripts / "versions").mkdir(parents=True)
    shutil.copy(MIGRATIONS / "env.py", scripts / "env.py")
    for name, text in REVISIONS.items():
        (scripts / "versions" / name).write_text(text)
    config = alembic_config(scripts)
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        upgrade(engine, "r1", config)
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO parent (id) VALUES (1), (2)")
            conn.exec_driver_sql("INSERT INTO child (id, parent_id) VALUES (10, 1), (20, 2)")
        upgrade(engine, "r2", config)
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT id, parent_id FROM child ORDER BY id").fetchall()
            assert [tuple(r) for r in rows] == [(10, 1), (20, 2)]
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on
        with pytest.raises(MigrationError, match="left 1 rows referencing missing rows"):
            upgrade(engine, "r3", config)
        assert current_revision(engine) == "r2"
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM parent").scalar() == 2
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
