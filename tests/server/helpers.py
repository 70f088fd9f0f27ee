"""Assertions and small utilities shared by the HTTP tests of ``tests/server``."""

from __future__ import annotations

import http.client
import json
import time
import uuid
from typing import Any

import httpx

from tests.support import RunningServer


def unique(prefix: str = "t") -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def assert_error(
    resp: httpx.Response | RawResponse,
    status: int,
    code: str,
    *,
    contains: tuple[str, ...] | str = (),
    field: str | None = None,
) -> dict[str, Any]:
    """Check the documented error answer ``{"error": {"code", "message", "details"}}``.

    ``contains``: fragments the message must hold; ``field``: the request field that
    validation must name (in ``details`` and in the message).
    """
    text = resp.text
    assert resp.status_code == status, f"expected {status} {code}, got {resp.status_code}: {text}"
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    body = json.loads(text)
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"code", "message", "details"}, err
    assert err["code"] == code, err
    assert isinstance(err["message"], str) and err["message"].strip(), err
    for fragment in (contains,) if isinstance(contains, str) else contains:
        assert fragment in err["message"], f"{fragment!r} not in {err['message']!r}"
    if field is not None:
        assert isinstance(err["details"], list), err
        assert field in [d["field"] for d in err["details"]], err
        assert field in err["message"], err
    return err  # type: ignore[no-any-return]


class RawResponse:
    """The parts of an answer that ``assert_error`` reads, from ``http.client``."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code = status
        self.headers = headers
        self.content = body

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")


def raw_request(
    server: RunningServer, method: str, raw_path: str, body: bytes | None = None
) -> RawResponse:
    """Send ``raw_path`` byte for byte (no ``..`` normalisation, unlike httpx)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, raw_path, body=body)
        resp = conn.getresponse()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        return RawResponse(resp.status, headers, resp.read())
    finally:
        conn.close()


def create_experiment(api: httpx.Client, name: str | None = None, **body: Any) -> dict[str, Any]:
    """A new experiment (asserting the 201)."""
    resp = api.post("/experiments", json={"name": name or unique("exp"), **body})
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


def create_run(api: httpx.Client, experiment_id: str, **body: Any) -> dict[str, Any]:
    """A new run (asserting the 201)."""
    resp = api.post("/runs", json={"experiment_id": experiment_id, **body})
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


def get_run(api: httpx.Client, run_id: str) -> dict[str, Any]:
    """The run as stored now."""
    resp = api.get(f"/runs/{run_id}")
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def history(api: httpx.Client, run_id: str, key: str) -> list[dict[str, Any]]:
    """Every point of one metric (one page of up to 100,000)."""
    resp = api.get(f"/runs/{run_id}/metric-history", params={"key": key, "max_results": 100_000})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["next_page_token"] is None
    return body["metrics"]  # type: ignore[no-any-return]


def all_experiments(api: httpx.Client) -> list[dict[str, Any]]:
    """Every experiment of the workspace, deleted ones included."""
    resp = api.get("/experiments", params={"include_deleted": "true", "max_results": 50_000})
    assert resp.status_code == 200, resp.text
    assert resp.json()["next_page_token"] is None
    return resp.json()["experiments"]  # type: ignore[no-any-return]


def wait_job(api: httpx.Client, name: str, timeout: float = 60) -> dict[str, Any]:
    """Poll ``GET /jobs/{name}`` until the job is Completed, Failed or Canceled; its document."""
    deadline = time.monotonic() + timeout
    while True:
        job = api.get(f"/jobs/{name}").json()
        if job["status"] in ("Completed", "Failed", "Canceled"):
            return job  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
