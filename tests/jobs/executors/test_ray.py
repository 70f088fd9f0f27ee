"""The Ray executor against a real local Ray head: a job logs a metric into its run.

Starts ``ray start --head`` (one CPU, dashboard on a free loopback port) in a temporary folder
and stops it with ``ray stop`` at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import RunningServer, free_port, start_server

pytest.importorskip("ray.job_submission")

TRAIN = """\
import os, sys
import trainyard

trainyard.log("score", 0.75)
print("data:", open(sys.argv[1]).read().strip())
os.makedirs(sys.argv[2], exist_ok=True)
open(os.path.join(sys.argv[2], "result.txt"), "w").write("done")
"""


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    ray = shutil.which("ray", path=os.path.dirname(sys.executable)) or "ray"
    tmp = tempfile.mkdtemp(prefix="/tmp/tyray")  # short: Ray's socket paths have a length limit
    dashboard = free_port()
    env = {
        **os.environ,
        "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}",
    }
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    args = [
        ray, "start", "--head", f"--port={free_port()}", "--dashboard-host", "127.0.0.1",
        "--dashboard-port", str(dashboard), "--num-cpus", "1", "--include-dashboard", "true",
        f"--temp-dir={tmp}", "--disable-usage-stats",
    ]  # fmt: skip
    started = subprocess.run(args, env=env, capture_output=True, text=True, timeout=180)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        address = f"http://127.0.0.1:{dashboard}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{address}/api/version", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the Ray dashboard did not come up"
            time.sleep(0.5)
        yield address
    finally:
        subprocess.run([ray, "stop", "--force"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)


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
