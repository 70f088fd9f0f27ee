"""The logged-model store contract suite, against SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from trainyard.store import open_store
from trainyard.testing.logged_models_suite import ALL_CHECKS


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_logged_model_store_contract(database_url: str, check: Callable[[Any], None]) -> None:
    store = open_store(database_url)
    try:
        check(store)
    finally:
        store.close()
