"""``trainyard serve`` replicas follow changes made through the API, without a restart."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.test_models import upload
from tests.serving.models import scale_model
from tests.support import RunningServer, free_port

ROW = {"inputs": [[1.0, 1.0, 1.0]]}


@pytest.fixture
def replica(sqlite_server: RunningServer, tmp_path: Path) -> Iterator[str]:
    """``trainyard serve --workers 2`` on the main server's home; its URL once ready."""
    port = free_port()
    env = {**os.environ, "TRAINYARD_HOME": str(sqlite_server.home)}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "trainyard", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _until(lambda: httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200, 30, log)
        yield url
    finally:
        proc.terminate()
        try:
            assert proc.wait(15) == 0, log.read_text()
        except subprocess.TimeoutExpired:
            proc.kill()
            raise


def _until(check: Callable[[], bool], seconds: float, log: Path | None = None) -> float:
    """Seconds until ``check()`` held (it is retried every 50 ms)."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            if check():
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds}s" + (f":\n{log.read_text()}" if log else ""))


def test_a_replica_follows_deployments_traffic_and_keys(
    sqlite_server: RunningServer, replica: str
) -> None:
    api = httpx.Client(base_url=sqlite_server.api, timeout=60)
    api.post("/models", json={"name": "m"})
    for version, scale in ((1, 2.0), (2, 3.0)):
        assert upload(api, "m", version, scale_model(scale)).status_code == 201
    assert api.post("/endpoints", json={"name": "ep"}).status_code == 201
    keys = api.get("/endpoints/ep/keys").json()
    auth = {"Authorization": f"Bearer {keys['primary']}"}
    api.post("/endpoints/ep/deployments", json={"name": "blue", "model": "m:1"})

    with httpx.Client(base_url=replica, headers=auth, timeout=10) as scoring:

        def answers(deployment: str) -> bool:
            resp = scoring.post("/endpoints/ep/score", json=ROW)
            return resp.status_code == 200 and resp.json()["deployment"] == deployment

        _until(lambda: answers("blue"), 5)
        assert scoring.post("/endpoints/ep/score", json=ROW).json()["predictions"] == [[2.0] * 3]

        created = api.post("/endpoints/ep/deployments", json={"name": "green", "model": "m:2"})
        assert created.status_code == 201
        api.put("/endpoints/ep/traffic", json={"traffic": {"green": 100}})
        took = _until(lambda: answers("green"), 5)
        assert took < 5
        for _ in range(20):  # both workers follow: none answers blue any more
            assert answers("green")
        assert scoring.post("/endpoints/ep/score", json=ROW).json()["predictions"] == [[3.0] * 3]

        api.post("/endpoints/ep/keys/regenerate", json={"key": "primary"})
        _until(lambda: scoring.post("/endpoints/ep/score", json=ROW).status_code == 401, 5)

        metrics = httpx.get(f"{replica}/metrics").text  # added up over both workers
        assert 'trainyard_scoring_requests_total{deployment="green",endpoint="ep"' in metrics
    assert httpx.get(f"{replica}/api/v1/health").status_code == 404  # no API on a replica
