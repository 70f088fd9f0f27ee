"""The store contract suite, against SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from trainyard.store import TrackingStore, open_store
from trainyard.testing.store_suite import ALL_CHECKS


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_store_contract(database_url: str, check: Callable[[TrackingStore], None]) -> None:
    store = open_store(database_url)
    try:
        check(store)
    finally:
        store.close()
