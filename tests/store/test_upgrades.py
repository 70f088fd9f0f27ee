"""A database made by an older Trainyard keeps every value when a newer one upgrades it.

For each revision before head, on SQLite and PostgreSQL: Alembic brings an empty database to
that revision, ``upgrade_data.seed`` writes rows as that revision's schema had them, and then
the database is opened the way ``trainyard up`` opens it (``SqlTrackingStore``, which migrates
to head). Every row must still be there with the same values (raw table dumps before and after),
the current stores must read them as ``upgrade_expected.expected`` says, and the store must
still take new writes. Then: a restart at head changes nothing, and the last migrations can be
undone and redone with data in the database.
"""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, select

from tests.store.upgrade_data import ROWS, seed
from tests.store.upgrade_expected import exact, expected, observed
from trainyard.store.sql.engine import make_engine
from trainyard.store.sql.jobs import SqlJobStore
from trainyard.store.sql.migrate import alembic_config, current_revision, upgrade
from trainyard.store.sql.registry import SqlRegistryStore
from trainyard.store.sql.tables import metadata
from trainyard.store.sql.tracking import SqlTrackingStore

SCRIPTS = ScriptDirectory.from_config(alembic_config())
HEAD = str(SCRIPTS.get_current_head())
OLDER = sorted(s.revision for s in SCRIPTS.walk_revisions() if s.revision != HEAD)
"""Every released revision but head: a user's database may be at any of them."""

NEW_COLUMN_DEFAULTS: dict[tuple[str, str], Any] = {
    ("deployments", "batch_max_rows"): None,  # 0008: both NULL is batching off
    ("deployments", "batch_max_wait_us"): None,
}
"""What a migration that adds a column to an existing table puts there for existing rows."""

Dump = dict[str, list[dict[str, Any]]]


def dump(engine: Engine) -> Dump:
    """Every row of every table (Alembic's own aside), in primary-key order."""
    meta = MetaData()
    with engine.connect() as conn:
        meta.reflect(conn)
        return {
            name: [
                dict(r._mapping)
                for r in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for name, table in meta.tables.items()
            if name != "alembic_version"
        }


def shape_changes(old: Dump, new: Dump) -> tuple[set[str], set[tuple[str, str]], set[Any]]:
    """Assert that every row of a table both dumps have is in both, with the same values in the
    columns both have; return the tables gone, the columns gone and the columns added."""
    gone_columns: set[tuple[str, str]] = set()
    added_columns: set[tuple[str, str]] = set()
    for name in old.keys() & new.keys():
        before, after = old[name], new[name]
        assert len(after) == len(before), f"{name}: {len(before)} rows became {len(after)}"
        if not before:
            continue
        old_cols, new_cols = set(before[0]), set(after[0])
        gone_columns |= {(name, c) for c in old_cols - new_cols}
        added_columns |= {(name, c) for c in new_cols - old_cols}
        kept = old_cols & new_cols
        assert [{c: r[c] for c in kept} for r in after] == [
            {c: r[c] for c in kept} for r in before
        ], f"{name}: values changed"
    return set(old) - set(new), gone_columns, added_columns


def assert_reads(store: SqlTrackingStore, revision: str) -> None:
    """The current stores read exactly what the seed at ``revision`` wrote."""
    seen, wanted = observed(store), expected(revision)
    assert seen.keys() == wanted.keys()
    for key in wanted:
        assert exact(seen[key]) == exact(wanted[key]), f"{key} read back wrong"


def assert_writable(store: SqlTrackingStore, revision: str) -> None:
    """New rows get fresh keys after the upgrade (the autoincrement counters survived)."""
    exp = store.create_experiment("default", "after the upgrade", {"k": "v"}, None)
    assert exp.experiment_id == "3"
    run = store.create_run("default", exp.experiment_id, "new", 1, None, {})
    assert store.get_run("default", run.run_id).experiment_id == "3"
    job = SqlJobStore(store.db).create_job("default", "job-new", "local", {}, {}, None, None, 1)
    assert job.seq == (4 if revision >= "0002" else 1) and len(job.history) == 1
    model = SqlRegistryStore(store.db).create_model("default", "new-model", "", {})
    assert model.version_count == 0


def alembic(engine: Engine, action: str, revision: str) -> None:
    """``alembic upgrade|downgrade revision`` on ``engine``, as ``migrate.upgrade`` runs it."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)


def seeded(url: str, revision: str) -> Dump:
    """Bring the empty database at ``url`` to ``revision``, seed it; its dump."""
    engine = make_engine(url)
    try:
        upgrade(engine, revision)
        assert current_revision(engine) == revision
        with engine.begin() as conn:
            seed(conn, revision)
        return dump(engine)
    finally:
        engine.dispose()


def test_every_table_is_seeded() -> None:
    """A new table needs rows in ``upgrade_data.ROWS``, or its upgrades go untested."""
    seeded_tables = {name for _, name, _ in ROWS}
    assert set(metadata.tables) - seeded_tables == {"serving_revision"}  # seeded by 0006


@pytest.mark.parametrize("revision", OLDER)
def test_upgrade_keeps_every_value(database_url: str, revision: str) -> None:
    before = seeded(database_url, revision)
    store = SqlTrackingStore(database_url)  # as `trainyard up` opens it: migrates to head
    try:
        assert current_revision(store.db.engine) == HEAD
        after = dump(store.db.engine)
        gone_tables, gone_columns, added_columns = shape_changes(before, after)
        assert not gone_tables and not gone_columns
        for table, column in added_columns:
            assert (table, column) in NEW_COLUMN_DEFAULTS, (
                f"{table}.{column} is new: add the value its migration gives existing rows "
                "to NEW_COLUMN_DEFAULTS"
            )
            default = NEW_COLUMN_DEFAULTS[table, column]
            assert all(row[column] == default for row in after[table]), (table, column)
        assert_reads(store, revision)
        assert_writable(store, revision)
    finally:
        store.close()


def test_restart_at_head_changes_nothing(database_url: str) -> None:
    first = seeded(database_url, HEAD)
    engine = make_engine(database_url)
    try:
        upgrade(engine)  # `trainyard db upgrade` and `trainyard serve`
        assert dump(engine) == first
    finally:
        engine.dispose()
    store = SqlTrackingStore(database_url)  # `trainyard up`
    try:
        assert current_revision(store.db.engine) == HEAD
        assert dump(store.db.engine) == first
        assert_reads(store, HEAD)
    finally:
        store.close()


# What undoing each of the last migrations drops by design (their downgrades drop what their
# upgrades added); everything else must stay as it was.
DOWNGRADES: list[tuple[str, set[str], set[tuple[str, str]]]] = [
    ("0010", {"deployment_history"}, set()),  # undo 0011
    ("0009", {"run_model_inputs"}, set()),  # undo 0010
    ("0008", {"datasets", "run_inputs", "run_input_tags"}, set()),  # undo 0009
    ("0007", set(), {("deployments", "batch_max_rows"), ("deployments", "batch_max_wait_us")}),
    ("0006", {"datastores"}, set()),  # undo 0007
]


def test_downgrade_last_migrations_and_upgrade_again(database_url: str) -> None:
    assert HEAD == "0011", "a new migration: add its downgrade to DOWNGRADES"
    previous = seeded(database_url, HEAD)
    engine = make_engine(database_url)
    try:
        for target, dropped_tables, dropped_columns in DOWNGRADES:
            alembic(engine, "downgrade", target)
            assert current_revision(engine) == target
            now = dump(engine)
            assert shape_changes(previous, now) == (dropped_tables, dropped_columns, set())
            previous = now
    finally:
        engine.dispose()
    lowest = DOWNGRADES[-1][0]
    store = SqlTrackingStore(database_url)  # and up again, as `trainyard up` does
    try:
        assert current_revision(store.db.engine) == HEAD
        # what the downgrades dropped is gone (as if never written); the rest reads back
        assert_reads(store, lowest)
        assert_writable(store, lowest)
    finally:
        store.close()
