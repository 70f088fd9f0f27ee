"""The jobs and assets store contract suite, against SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from trainyard.store.sql.assets import SqlAssetStore
from trainyard.store.sql.jobs import SqlJobStore
from trainyard.store.sql.tracking import SqlTrackingStore
from trainyard.testing.jobs_suite import ALL_CHECKS, JobStores


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_jobs_store_contract(database_url: str, check: Callable[[JobStores], None]) -> None:
    tracking = SqlTrackingStore(database_url)
    try:
        check(JobStores(tracking, SqlAssetStore(tracking.db), SqlJobStore(tracking.db)))
    finally:
        tracking.close()
