"""The serving store contract suite, against SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from trainyard.store.sql.serving import SqlServingStore
from trainyard.store.sql.tracking import SqlTrackingStore
from trainyard.testing.serving_suite import ALL_CHECKS, ServingStores


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_serving_store_contract(database_url: str, check: Callable[[ServingStores], None]) -> None:
    tracking = SqlTrackingStore(database_url)
    try:
        check(ServingStores(tracking, SqlServingStore(tracking.db)))
    finally:
        tracking.close()
