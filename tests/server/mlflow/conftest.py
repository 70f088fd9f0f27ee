"""The real ``mlflow`` client pointed at the module's real server (one per backend)."""

from __future__ import annotations

from collections.abc import Iterator

import mlflow
import pytest
from mlflow import MlflowClient

from tests.support import RunningServer


@pytest.fixture
def tracking_uri(server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``MLFLOW_TRACKING_URI`` set to the server (no retries: a failure shows at once)."""
    yield from use_server(server, monkeypatch)


def use_server(server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the mlflow client at ``server`` for one test."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    monkeypatch.delenv("MLFLOW_WORKSPACE", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    mlflow.set_tracking_uri(server.url)
    try:
        yield server.url
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.set_workspace(None)


@pytest.fixture
def client(tracking_uri: str) -> MlflowClient:
    """An ``MlflowClient`` on the server."""
    return MlflowClient(tracking_uri)
