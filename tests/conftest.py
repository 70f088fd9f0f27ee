"""Shared fixtures: real SQLite files, a real PostgreSQL, a real server on loopback."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.support import RunningServer, start_server


def postgres_admin_url() -> str:
    """The PostgreSQL that ``scripts/test`` started (the README's test command sets it)."""
    url = os.environ.get("TRAINYARD_TEST_POSTGRES_URL")
    if not url:
        pytest.fail(
            "TRAINYARD_TEST_POSTGRES_URL is not set: run the tests with `bash scripts/test`, "
            "which starts a PostgreSQL for them"
        )
    return url


def fresh_postgres_database() -> str:
    """A new empty database on the test PostgreSQL; its URL."""
    import psycopg

    admin = postgres_admin_url()
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty metadata database of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'trainyard.db'}"
    return fresh_postgres_database()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A real ``trainyard up`` on loopback, one per backend, shared by a test module."""
    home = tmp_path_factory.mktemp("home")
    env = {}
    if request.param == "postgres":
        env["TRAINYARD_DATABASE_URL"] = fresh_postgres_database()
    srv = start_server(home, env)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A real server on the embedded default (SQLite and a local folder), for one test."""
    srv = start_server(tmp_path_factory.mktemp("home"), {})
    try:
        yield srv
    finally:
        srv.stop()
