"""Ray jobs outlive the server: a restarted server re-attaches to them (real Ray head, real server).

The jobs wait for a flag file the test creates, so what happens before and after the restart is
certain without long sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.jobs.conftest import Services
from tests.support import RunningServer, start_server
from trainyard.core.jobs import JobStatus
from trainyard.jobs import Scheduler
from trainyard.schemas.assets import ComputeCreate
from trainyard.schemas.jobs import JobCreate

pytest.importorskip("ray.job_submission")

TRAIN = """\
import os, sys, time
import trainyard

run = trainyard.get_run()
run.log("loss", 1.0, step=0)
run.flush()
print("line before the restart", flush=True)
deadline = time.time() + 90
while not os.path.exists(sys.argv[1]) and time.time() < deadline:
    time.sleep(0.2)
print("line after the restart", flush=True)
if sys.argv[3] == "log":  # not when the server is down: the SDK would retry until it gives up
    run.log("score", 0.5)
sys.exit(int(sys.argv[2]))
"""

TERMINAL = ("Completed", "Failed", "Canceled")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    srv = start_server(tmp_path, {})
    yield srv
    srv.stop()


def _setup(api: httpx.Client, address: str, slots: int) -> None:
    compute = {"type": "ray", "address": address, "slots": slots}
    assert api.put("/computes/ray", json=compute).status_code == 200
    api.put("/code/waiter/versions/1/files/train.py", content=TRAIN.encode())
    api.put("/code/waiter/versions/1", json={})


def _submit(api: httpx.Client, name: str, flag: Path, code: int = 0, log: bool = True) -> None:
    doc = {
        "command": f"python train.py {flag} {code} {'log' if log else 'quiet'}",
        "code": "waiter:1",
        "compute": "ray",
        "experiment_name": "reattach",
    }
    assert api.put(f"/jobs/{name}", json=doc).status_code == 201, name


def _wait_for(check: Any, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.25)


def _logged(api: httpx.Client, name: str, text: str) -> bool:
    return text in api.get(f"/jobs/{name}/logs").text


def _final(api: httpx.Client, name: str) -> dict[str, Any]:
    _wait_for(lambda: api.get(f"/jobs/{name}").json()["status"] in TERMINAL, name)
    return dict(api.get(f"/jobs/{name}").json())


def _submission(api: httpx.Client, name: str) -> str:
    started = next(
        h for h in api.get(f"/jobs/{name}").json()["status_history"] if h["status"] == "Running"
    )
    return str(started["message"]).removeprefix("started (").removesuffix(")")


def test_a_killed_server_re_attaches_to_its_running_ray_jobs(
    ray_address: str, server: RunningServer, tmp_path: Path
) -> None:
    flag = tmp_path / "go"
    api = httpx.Client(base_url=server.api, timeout=60)
    _setup(api, ray_address, slots=2)
    _submit(api, "resumed", flag)
    _submit(api, "canceled-later", tmp_path / "never")
    for name in ("resumed", "canceled-later"):
        _wait_for(lambda n=name: _logged(api, n, "line before the restart"), name)  # type: ignore[misc]
    server.kill()

    revived = start_server(server.home, server.env, port=server.port)
    try:
        for name in ("resumed", "canceled-later"):
            assert api.get(f"/jobs/{name}").json()["status"] == "Running"
        # the re-attached jobs hold both slots of the compute: a new job waits for one
        _submit(api, "waits", flag)
        time.sleep(1.5)
        assert api.get("/jobs/waits").json()["status"] == "Queued"
        assert api.post("/jobs/waits/cancel").json()["status"] == "Canceled"

        flag.touch()
        job = _final(api, "resumed")
        logs = api.get("/jobs/resumed/logs").text
        assert job["status"] == "Completed", (job, logs, revived.log())
        assert "line before the restart" in logs and "line after the restart" in logs
        run = api.get(f"/runs/{job['run_id']}").json()
        assert run["status"] == "FINISHED"
        assert run["metrics"]["loss"]["value"] == 1.0 and run["metrics"]["score"]["value"] == 0.5

        api.post("/jobs/canceled-later/cancel")
        job = _final(api, "canceled-later")
        assert job["status"] == "Canceled", job
        assert api.get(f"/runs/{job['run_id']}").json()["status"] == "KILLED"
    finally:
        revived.stop()


def test_ray_jobs_that_end_while_the_server_is_down_get_their_final_status_and_logs(
    ray_address: str, server: RunningServer, tmp_path: Path
) -> None:
    from ray.job_submission import JobStatus as RayStatus
    from ray.job_submission import JobSubmissionClient

    flag = tmp_path / "go"
    api = httpx.Client(base_url=server.api, timeout=60)
    _setup(api, ray_address, slots=2)
    _submit(api, "succeeds", flag, log=False)
    _submit(api, "fails", flag, code=3, log=False)
    for name in ("succeeds", "fails"):
        _wait_for(lambda n=name: _logged(api, n, "line before the restart"), name)  # type: ignore[misc]
    submissions = [_submission(api, n) for n in ("succeeds", "fails")]
    server.stop()  # a clean stop leaves Ray jobs running, as a crash does

    flag.touch()
    ray = JobSubmissionClient(ray_address)
    done = (RayStatus.SUCCEEDED, RayStatus.FAILED, RayStatus.STOPPED)
    _wait_for(lambda: all(ray.get_job_status(s) in done for s in submissions), "ray jobs")

    revived = start_server(server.home, server.env, port=server.port)
    try:
        job = _final(api, "succeeds")
        logs = api.get("/jobs/succeeds/logs").text
        assert job["status"] == "Completed", (job, logs, revived.log())
        assert "line before the restart" in logs and "line after the restart" in logs
        run = api.get(f"/runs/{job['run_id']}").json()
        assert run["status"] == "FINISHED" and run["metrics"]["loss"]["value"] == 1.0

        job = _final(api, "fails")
        assert job["status"] == "Failed" and job["exit_code"] == 3, job
        assert "line after the restart" in api.get("/jobs/fails/logs").text
        assert api.get(f"/runs/{job['run_id']}").json()["status"] == "FAILED"
    finally:
        revived.stop()


def _lost_ray_job(services: Services, name: str, address: str, submission: str) -> None:
    """What a dead server leaves: a Running job on a ray compute with its submission recorded."""
    services.assets.put_compute("default", "ray", ComputeCreate(type="ray", address=address))
    services.jobs.submit(
        "default", JobCreate.model_validate({"command": "true", "compute": "ray"}), name
    )
    store = services.jobs.store
    store.transition("default", name, JobStatus.PREPARING, 1)
    store.set_state("default", name, {"ray_job_id": submission, "ray_address": address})
    store.transition("default", name, JobStatus.RUNNING, 2)


@pytest.mark.parametrize("reachable", [True, False])
def test_a_ray_job_that_cannot_be_found_again_fails_saying_why(
    services: Services, ray_address: str, reachable: bool
) -> None:
    address = ray_address if reachable else "http://127.0.0.1:9"
    _lost_ray_job(services, "lost", address, "trainyard-default-lost-000000")
    sched = Scheduler(services.jobs, idle_poll=0.5)
    sched.start()
    try:
        deadline = time.monotonic() + 30
        while not (job := services.jobs.get("default", "lost")).status.is_terminal:
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
    finally:
        sched.stop()
    assert job.status == JobStatus.FAILED
    error = job.error or ""
    assert "could not re-attach" in error, error
    if reachable:
        assert f"the Ray cluster at {address} does not know" in error, error
    else:
        assert "cannot reach the Ray cluster at http://127.0.0.1:9" in error, error
