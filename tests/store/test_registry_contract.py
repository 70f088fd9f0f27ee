"""The model registry store contract suite, against SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from trainyard.store.sql.registry import SqlRegistryStore
from trainyard.store.sql.tracking import SqlTrackingStore
from trainyard.testing.registry_suite import ALL_CHECKS, RegistryStores


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_registry_store_contract(
    database_url: str, check: Callable[[RegistryStores], None]
) -> None:
    tracking = SqlTrackingStore(database_url)
    try:
        check(RegistryStores(tracking, SqlRegistryStore(tracking.db)))
    finally:
        tracking.close()
