"""Request logs become the data asset ``<endpoint>-requests`` on a real server."""

from __future__ import annotations

import time

import httpx
import orjson

from tests.server.test_endpoints import ROWS, endpoint, register
from tests.serving.models import iris_classifier
from tests.support import RunningServer


def test_logged_requests_are_a_data_asset(sqlite_server: RunningServer) -> None:
    with httpx.Client(base_url=sqlite_server.api, timeout=60) as api:
        iris = register(api, iris_classifier())
        name = endpoint(api, blue=iris)
        assert api.get(f"/data/{name}-requests/versions/1").status_code == 404
        patched = api.patch(f"/endpoints/{name}/deployments/blue", json={"log_requests": True})
        assert patched.status_code == 200, patched.text
        for _ in range(3):
            resp = httpx.post(f"{sqlite_server.url}/endpoints/{name}/score", json={"inputs": ROWS})
            assert resp.status_code == 200, resp.text
        deadline = time.monotonic() + 20
        while (got := api.get(f"/data/{name}-requests/versions/1")).status_code == 404:
            assert time.monotonic() < deadline, "the request logs were not registered"
            time.sleep(0.2)
        asset = got.json()
        assert asset["type"] == "uri_folder" and asset["path"].endswith(f"default/{name}")
        files = api.get(f"/data/{name}-requests/versions/1/files").json()["files"]
        assert files and all(f["path"].endswith(".jsonl") for f in files)
        text = b"".join(
            api.get(f"/data/{name}-requests/versions/1/files/{f['path']}").content for f in files
        )
        lines = [orjson.loads(line) for line in text.splitlines()]
        assert len(lines) == 3 and {line["deployment"] for line in lines} == {"blue"}
        assert lines[0]["outputs"]["label"] == [0, 2]
        resp = httpx.post(f"{sqlite_server.url}/endpoints/{name}/score", json={"inputs": ROWS})
        deadline = time.monotonic() + 20  # the asset is the live folder: later logs show up
        while len(api.get(f"/data/{name}-requests/versions/1/files").json()["files"]) == len(files):
            assert time.monotonic() < deadline, "later request logs are not in the asset"
            time.sleep(0.2)
