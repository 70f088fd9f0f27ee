"""Clients and small factories over the module's real server (one per backend)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server.helpers import create_experiment, create_run
from tests.support import RunningServer


@pytest.fixture
def api(server: RunningServer) -> Iterator[httpx.Client]:
    """A client on the default workspace (new connections per test: a 500 closes one)."""
    with httpx.Client(base_url=server.api, timeout=120) as client:
        yield client


@pytest.fixture
def root(server: RunningServer) -> Iterator[httpx.Client]:
    """A client on the server's root URL."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@pytest.fixture
def experiment(api: httpx.Client) -> dict[str, Any]:
    """A fresh experiment in the default workspace."""
    return create_experiment(api)


@pytest.fixture
def run(api: httpx.Client, experiment: dict[str, Any]) -> dict[str, Any]:
    """A fresh RUNNING run in ``experiment``."""
    return create_run(api, experiment["experiment_id"])
