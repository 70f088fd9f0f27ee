"""The scheduler in-process: FIFO on a full compute, cancel, timeout, recovery after a crash."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.jobs.conftest import Services
from trainyard.core.jobs import JobStatus
from trainyard.jobs import Scheduler
from trainyard.jobs.executors.local import group_alive
from trainyard.schemas.assets import ComputeCreate
from trainyard.schemas.jobs import JobCreate


@pytest.fixture
def scheduler(services: Services) -> Iterator[Scheduler]:
    sched = Scheduler(services.jobs, idle_poll=0.5)
    sched.start()
    yield sched
    sched.stop()


def _submit(services: Services, name: str, command: str, **fields: object) -> None:
    spec = JobCreate.model_validate({"command": command, **fields})
    services.jobs.submit("default", spec, name)


def _wait(services: Services, name: str, timeout: float = 30) -> JobStatus:
    deadline = time.monotonic() + timeout
    while True:
        status = services.jobs.get("default", name).status
        if status.is_terminal:
            return status
        assert time.monotonic() < deadline, f"{name} still {status}"
        time.sleep(0.05)


def _started_at(services: Services, name: str) -> int:
    job = services.jobs.get("default", name)
    return next(h.time for h in job.status_history if h.status == JobStatus.RUNNING)


def test_a_one_slot_compute_runs_jobs_one_at_a_time_in_order(
    services: Services, scheduler: Scheduler
) -> None:
    services.assets.put_compute("default", "one", ComputeCreate(type="local", slots=1))
    for i in range(4):
        _submit(services, f"fifo-{i}", "sleep 0.2", compute="one")
    assert [_wait(services, f"fifo-{i}") for i in range(4)] == [JobStatus.COMPLETED] * 4
    jobs = [services.jobs.get("default", f"fifo-{i}") for i in range(4)]
    starts = [_started_at(services, j.name) for j in jobs]
    ends = [j.status_history[-1].time for j in jobs]
    assert starts == sorted(starts)
    assert all(starts[i + 1] >= ends[i] - 50 for i in range(3)), (starts, ends)


def test_cancel_a_queued_and_a_running_job(services: Services, scheduler: Scheduler) -> None:
    services.assets.put_compute("default", "one", ComputeCreate(type="local", slots=1))
    _submit(services, "long", "echo up; sleep 60", compute="one")
    _submit(services, "waiting", "true", compute="one")
    deadline = time.monotonic() + 20
    while services.jobs.get("default", "long").status != JobStatus.RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert services.jobs.cancel("default", "waiting").status == JobStatus.CANCELED
    services.jobs.cancel("default", "long")
    assert _wait(services, "long", 15) == JobStatus.CANCELED
    pgid = services.jobs.store.get_job("default", "long").state["pgid"]
    assert not group_alive(pgid)
    run = services.tracking.get_run("default", services.jobs.get("default", "long").run_id or "")
    assert run.status.value == "KILLED"


def test_timeout_fails_the_job_and_ends_its_group(services: Services, scheduler: Scheduler) -> None:
    _submit(services, "slow", "sleep 60 & sleep 60", limits={"timeout": 1})
    assert _wait(services, "slow", 20) == JobStatus.FAILED
    job = services.jobs.get("default", "slow")
    assert "timed out after 1 s" in (job.error or "")
    assert not group_alive(services.jobs.store.get_job("default", "slow").state["pgid"])


def test_restart_fails_live_jobs_ends_their_processes_and_keeps_queued_ones(
    services: Services,
) -> None:
    _submit(services, "was-running", "true")
    _submit(services, "still-queued", "echo ran")
    store = services.jobs.store
    # what a killed server leaves: a Running job whose process group lives on, with its logs
    workdir = services.home / "jobs" / "default" / "was-running"
    (workdir / "logs").mkdir(parents=True)
    (workdir / "logs" / "stdout.log").write_text("epoch 1\n")
    orphan = subprocess.Popen(
        ["sleep", "60"],
        start_new_session=True,
        env={**os.environ, "TRAINYARD_JOB": "default/was-running"},
    )
    store.transition("default", "was-running", JobStatus.PREPARING, 1)
    store.transition("default", "was-running", JobStatus.RUNNING, 2)
    store.set_state(
        "default",
        "was-running",
        {"workdir": str(workdir)},  # died before recording its pid: found by its marker
    )
    sched = Scheduler(services.jobs, idle_poll=0.5)
    sched.start()
    try:
        assert orphan.wait(10) is not None
        job = services.jobs.get("default", "was-running")
        assert job.status == JobStatus.FAILED and "server stopped" in (job.error or "")
        assert services.jobs.read_log("default", "was-running", "stdout").data == b"epoch 1\n"
        assert _wait(services, "still-queued") == JobStatus.COMPLETED
    finally:
        sched.stop()
