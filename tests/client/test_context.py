"""The current job's run: ``trainyard.get_run()`` and ``trainyard.log()``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import trainyard
from trainyard import errors
from trainyard.client import Workspace, context

from .fake_server import FakeServer


@pytest.fixture
def job_env(ws: Workspace, fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A run started by a 'job', its id in the environment, the SDK pointed at the fake."""
    run_id = ws.experiment("jobs").start_run().run_id
    monkeypatch.setenv("TRAINYARD_RUN_ID", run_id)
    monkeypatch.setattr(context, "Workspace", lambda: Workspace(transport=fake.transport()))
    context._reset()
    yield run_id
    context._reset()


def test_get_run_attaches_to_the_job_run_once(job_env: str, fake: FakeServer) -> None:
    before = len(fake.requests)
    run = trainyard.get_run()
    assert run.run_id == job_env
    assert trainyard.get_run() is run
    assert [r.url.path.rsplit("/", 2)[-2:] for r in fake.requests[before:]] == [["runs", job_env]]


def test_module_level_log(job_env: str, fake: FakeServer) -> None:
    for i in range(5):
        trainyard.log("loss", 1.0 / (i + 1))
    trainyard.get_run().flush()
    assert [p["step"] for p in fake.metrics[job_env]] == [0, 1, 2, 3, 4]


def test_an_attached_run_is_flushed_but_not_completed(job_env: str, fake: FakeServer) -> None:
    with trainyard.get_run() as run:
        run.log("a", 1.0)
    assert fake.runs[job_env]["status"] == "RUNNING"
    assert len(fake.metrics[job_env]) == 1


def test_without_a_job_get_run_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRAINYARD_RUN_ID", raising=False)
    context._reset()
    with pytest.raises(errors.InvalidArgument, match=r"start_run\(\).*inside a Trainyard job"):
        trainyard.get_run()
    with pytest.raises(errors.InvalidArgument):
        trainyard.log("a", 1.0)
