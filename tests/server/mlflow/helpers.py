"""Assertions on MLflow's error answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from mlflow.exceptions import MlflowException

from tests.server.helpers import RawResponse


def assert_mlflow_error(
    resp: httpx.Response | RawResponse, status: int, code: str, contains: str = ""
) -> dict[str, Any]:
    """The answer is MLflow's ``{"error_code", "message"}`` with that status and code."""
    assert resp.status_code == status, f"expected {status} {code}: {resp.status_code} {resp.text}"
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    body = json.loads(resp.text)
    assert set(body) == {"error_code", "message"}, body
    assert body["error_code"] == code, body
    assert contains in body["message"], body
    return body  # type: ignore[no-any-return]


def raises_code(code: str, call: Callable[[], Any]) -> MlflowException:
    """``call()`` fails in the client with MLflow error ``code``."""
    with pytest.raises(MlflowException) as info:
        call()
    assert info.value.error_code == code, info.value
    return info.value
