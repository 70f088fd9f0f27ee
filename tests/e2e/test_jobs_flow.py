"""Jobs end to end through the REST API, as curl would drive them.

The iris example runs, logs metrics into its run and writes an output folder; a failing script
ends Failed with its stderr; cancel and timeout leave no process behind; a server killed in the
middle of a job leaves nothing stuck once it is back.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import RunningServer, start_server

ROOT = Path(__file__).resolve().parents[2]
IRIS = ROOT / "examples" / "jobs" / "iris"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("jobs-home"), {})
    yield server
    server.stop()


@pytest.fixture
def api(srv: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=srv.api, timeout=60) as client:
        yield client


def wait_for(
    api: httpx.Client, name: str, statuses: set[str], timeout: float = 60
) -> dict[str, Any]:
    """The job once its status is one of ``statuses``."""
    deadline = time.monotonic() + timeout
    while True:
        job = api.get(f"/jobs/{name}").json()
        if job["status"] in statuses:
            return job  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def leader_pid(api: httpx.Client, name: str, timeout: float = 30) -> int:
    """The pid the job's shell printed first (``echo $$``): its process group id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = api.get(f"/jobs/{name}/logs", params={"stream": "stdout"}).text
        if text.endswith("\n"):
            return int(text.split()[0])
        time.sleep(0.1)
    raise AssertionError(f"job {name} printed nothing")


def group_gone(pgid: int, timeout: float = 10) -> bool:
    """True once no process of the group exists (``os.killpg(pgid, 0)`` fails)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_the_iris_job_runs_logs_metrics_and_writes_its_outputs(api: httpx.Client) -> None:
    up = api.put("/data/iris/versions/1/files/iris.csv", content=(IRIS / "iris.csv").read_bytes())
    assert up.status_code == 201
    assert api.put("/data/iris/versions/1", json={"type": "uri_file"}).status_code == 201
    train = (IRIS / "src" / "train.py").read_bytes()
    assert api.put("/code/iris-src/versions/1/files/train.py", content=train).status_code == 201
    assert api.put("/code/iris-src/versions/1", json={}).status_code == 201
    doc = {
        "command": "python train.py --data ${{inputs.iris}} --model-dir ${{outputs.model}}",
        "code": "iris-src:1",
        "environment": "python",
        "inputs": {"iris": {"type": "uri_file", "path": "iris:1"}},
        "outputs": {"model": {}},
        "compute": "local",
        "experiment_name": "iris-e2e",
    }
    assert api.put("/jobs/iris-1", json=doc).status_code == 201
    job = wait_for(api, "iris-1", {"Completed", "Failed"})
    assert job["status"] == "Completed", job
    assert job["resolved"]["inputs"]["iris"]["asset"] == "iris:1"
    run = api.get(f"/runs/{job['run_id']}").json()
    assert run["status"] == "FINISHED" and run["metrics"]["accuracy"]["value"] > 0.8
    assert run["params"]["library"] in ("lightgbm", "sklearn")
    files = api.get(f"/runs/{job['run_id']}/artifacts", params={"recursive": "true"}).json()
    paths = {f["path"] for f in files["files"]}
    assert {"outputs/model/model.pkl", "logs/stdout.log", "logs/stderr.log"} <= paths
    stdout = api.get(f"/runs/{job['run_id']}/artifacts/logs/stdout.log").text
    assert "accuracy" in stdout


def test_a_failing_script_fails_with_its_stderr(api: httpx.Client) -> None:
    doc = {"command": "python -c \"print('before'); 1/0\"", "experiment_name": "fails"}
    assert api.put("/jobs/fails-1", json=doc).status_code == 201
    job = wait_for(api, "fails-1", {"Completed", "Failed"})
    assert job["status"] == "Failed" and job["exit_code"] == 1
    assert "ZeroDivisionError" in job["error"]
    stderr = api.get("/jobs/fails-1/logs", params={"stream": "stderr"}).text
    assert "Traceback" in stderr and "ZeroDivisionError" in stderr
    run = api.get(f"/runs/{job['run_id']}").json()
    assert run["status"] == "FAILED" and "ZeroDivisionError" in run["status_message"]


def test_cancel_ends_the_whole_process_group(api: httpx.Client) -> None:
    doc = {"command": "echo $$; sleep 300 & sleep 300"}
    assert api.put("/jobs/cancel-1", json=doc).status_code == 201
    wait_for(api, "cancel-1", {"Running"})
    pgid = leader_pid(api, "cancel-1")
    assert api.post("/jobs/cancel-1/cancel").status_code == 200
    job = wait_for(api, "cancel-1", {"Canceled", "Failed", "Completed"}, timeout=20)
    assert job["status"] == "Canceled"
    assert group_gone(pgid)
    assert api.get(f"/runs/{job['run_id']}").json()["status"] == "KILLED"


def test_timeout_ends_the_whole_process_group(api: httpx.Client) -> None:
    doc = {"command": "echo $$; sleep 300 & sleep 300", "limits": {"timeout": 2}}
    assert api.put("/jobs/timeout-1", json=doc).status_code == 201
    pgid = leader_pid(api, "timeout-1")
    job = wait_for(api, "timeout-1", {"Canceled", "Failed", "Completed"}, timeout=20)
    assert job["status"] == "Failed" and "timed out after 2 s" in job["error"]
    assert group_gone(pgid)


def test_a_server_killed_mid_job_leaves_nothing_stuck(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = start_server(tmp_path_factory.mktemp("restart-home"), {})
    try:
        with httpx.Client(base_url=server.api, timeout=60) as api:
            api.put("/computes/one", json={"type": "local", "slots": 1})
            long = {"command": "echo $$; echo working; sleep 300", "compute": "one"}
            assert api.put("/jobs/long", json=long).status_code == 201
            queued = {"command": "echo after the restart", "compute": "one"}
            assert api.put("/jobs/queued", json=queued).status_code == 201
            pgid = leader_pid(api, "long")
            wait_for(api, "long", {"Running"})
            assert api.get("/jobs/queued").json()["status"] == "Queued"
        server.kill()
        assert not group_gone(pgid, timeout=0.5)  # the job outlived its server
        server = start_server(server.home, server.env, port=server.port)
        with httpx.Client(base_url=server.api, timeout=60) as api:
            job = wait_for(api, "long", {"Failed", "Completed", "Canceled"}, timeout=10)
            assert job["status"] == "Failed" and "server stopped" in job["error"]
            assert group_gone(pgid)
            assert "working" in api.get("/jobs/long/logs", params={"stream": "stdout"}).text
            after = wait_for(api, "queued", {"Completed", "Failed"})
            assert after["status"] == "Completed"
            logs = api.get("/jobs/queued/logs", params={"stream": "stdout"}).text
            assert logs == "after the restart\n"
            assert api.get(f"/runs/{job['run_id']}").json()["status"] == "FAILED"
    finally:
        server.stop()


def test_with_auth_a_job_logs_with_its_own_token_revoked_at_its_end(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    home = tmp_path_factory.mktemp("auth-home")
    server = start_server(home, {"TRAINYARD_AUTH": "required"})
    try:
        owner = (home / "admin.token").read_text().strip()
        headers = {"Authorization": f"Bearer {owner}"}
        with httpx.Client(base_url=server.api, timeout=60, headers=headers) as api:
            script = "import trainyard; trainyard.log('m', 1.0)"
            doc = {"command": f'python -c "{script}"', "experiment_name": "auth-jobs"}
            assert api.put("/jobs/auth-1", json=doc).status_code == 201
            job = wait_for(api, "auth-1", {"Completed", "Failed"})
            assert job["status"] == "Completed", api.get("/jobs/auth-1/logs?stream=stderr").text
            assert api.get(f"/runs/{job['run_id']}").json()["metrics"]["m"]["value"] == 1.0
            tokens = httpx.get(f"{server.url}/api/v1/tokens", headers=headers).json()["tokens"]
            mine = [t for t in tokens if t["name"] == "job:default/auth-1"]
            assert len(mine) == 1 and mine[0]["revoked_at"] is not None
            assert mine[0]["roles"] == {"default": "contributor"}
    finally:
        server.stop()
