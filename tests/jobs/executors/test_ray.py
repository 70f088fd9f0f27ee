"""The Ray executor against a real local Ray head: a job logs a metric into its run.

The head is the ``ray_address`` fixture of ``conftest.py``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import RunningServer, start_server

pytest.importorskip("ray.job_submission")

TRAIN = """\
import os, sys
import trainyard

trainyard.log("score", 0.75)
print("data:", open(sys.argv[1]).read().strip())
os.makedirs(sys.argv[2], exist_ok=True)
open(os.path.join(sys.argv[2], "result.txt"), "w").write("done")
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    srv = start_server(tmp_path, {})
    yield srv
    srv.stop()


def test_a_job_on_a_ray_cluster_logs_into_its_run(ray_address: str, server: RunningServer) -> None:
    api = httpx.Client(base_url=server.api, timeout=60)
    assert api.put("/computes/ray", json={"type": "ray", "address": ray_address}).status_code == 200
    api.put("/code/ray-src/versions/1/files/train.py", content=TRAIN.encode())
    api.put("/code/ray-src/versions/1", json={})
    api.put("/data/words/versions/1/files/words.txt", content=b"hello ray\n")
    api.put("/data/words/versions/1", json={"type": "uri_file"})
    doc = {
        "command": "python train.py ${{inputs.words}} ${{outputs.result}}",
        "code": "ray-src:1",
        "inputs": {"words": {"type": "uri_file", "path": "words:1"}},
        "outputs": {"result": {}},
        "compute": "ray",
        "experiment_name": "on-ray",
    }
    assert api.put("/jobs/on-ray", json=doc).status_code == 201
    deadline = time.monotonic() + 150
    while (job := api.get("/jobs/on-ray").json())["status"] not in ("Completed", "Failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
    logs = api.get("/jobs/on-ray/logs").text
    assert job["status"] == "Completed", (job, logs)
    assert "data: hello ray" in logs
    run = api.get(f"/runs/{job['run_id']}").json()
    assert run["status"] == "FINISHED" and run["metrics"]["score"]["value"] == 0.75
    files = api.get(f"/runs/{job['run_id']}/artifacts", params={"recursive": "true"}).json()
    assert "outputs/result/result.txt" in {f["path"] for f in files["files"]}
    assert job["status_history"][2]["message"].startswith("started (trainyard-default-on-ray-")
