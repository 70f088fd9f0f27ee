"""The contract every ``AssetStore`` and ``JobStore`` backend must meet, as plain functions.

Each check takes a :class:`JobStores` over a freshly opened, empty database.
``tests/store/test_jobs_contract.py`` runs them on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from trainyard.core.jobs import AssetKind, Compute, Datastore, JobStatus
from trainyard.errors import AlreadyExists, Conflict, NotFound
from trainyard.store._base import TrackingStore
from trainyard.store._jobs_base import AssetStore, JobStore

WS = "default"


@dataclass(frozen=True)
class JobStores:
    """The stores under test, sharing one database."""

    tracking: TrackingStore
    assets: AssetStore
    jobs: JobStore


def _expect(exc: type[Exception], fn: Callable[[], object]) -> Exception:
    try:
        fn()
    except exc as e:
        return e
    raise AssertionError(f"expected {exc.__name__}")


def check_asset_versions(s: JobStores) -> None:
    """Create, idempotent re-put, tag update, immutable spec, newest version, isolation."""
    env = AssetKind.ENVIRONMENT
    a, created = s.assets.put_asset(env, WS, "lgbm", "1", {"requirements": ["x"]}, "d", {}, 10)
    assert created and a.version == "1" and a.spec == {"requirements": ["x"]}
    again, created = s.assets.put_asset(env, WS, "lgbm", "1", {"requirements": ["x"]}, "", {}, 11)
    assert not created and again.created_at == 10 and again.updated_at == 11
    tagged, _ = s.assets.put_asset(
        env, WS, "lgbm", "1", {"requirements": ["x"]}, "", {"a": "b"}, 12
    )
    assert tagged.tags == {"a": "b"}
    err = _expect(
        Conflict,
        lambda: s.assets.put_asset(env, WS, "lgbm", "1", {"requirements": ["y"]}, "", {}, 13),
    )
    assert "lgbm:1" in str(err)
    s.assets.put_asset(env, WS, "lgbm", "2", {"requirements": ["y"]}, "", {}, 20)
    assert s.assets.get_asset(env, WS, "lgbm", None).version == "2"
    assert s.assets.get_asset(env, WS, "lgbm", "1").spec == {"requirements": ["x"]}
    _expect(NotFound, lambda: s.assets.get_asset(env, WS, "lgbm", "3"))
    _expect(NotFound, lambda: s.assets.get_asset(AssetKind.DATA, WS, "lgbm", "1"))
    s.assets.put_asset(env, WS, "alpha", "1", {}, "", {}, 30)
    listed = [(x.name, x.version) for x in s.assets.list_assets(env, WS, None)]
    assert listed == [("alpha", "1"), ("lgbm", "2"), ("lgbm", "1")]
    assert [x.version for x in s.assets.list_assets(env, WS, "lgbm")] == ["2", "1"]
    s.tracking.ensure_workspace("other")
    assert s.assets.list_assets(env, "other", None) == []
    _expect(NotFound, lambda: s.assets.get_asset(env, "other", "lgbm", "1"))


def check_computes(s: JobStores) -> None:
    """Create, replace and list computes per workspace."""
    s.assets.put_compute(Compute(WS, "ray1", "ray", 2, "http://127.0.0.1:8265", "", 5))
    replaced = s.assets.put_compute(Compute(WS, "ray1", "ray", 4, "http://h:8265", "big", 6))
    assert (replaced.slots, replaced.address, replaced.created_at) == (4, "http://h:8265", 5)
    s.assets.put_compute(Compute(WS, "cpu", "local", 1, None, "", 7))
    assert [c.name for c in s.assets.list_computes(WS)] == ["cpu", "ray1"]
    _expect(NotFound, lambda: s.assets.get_compute(WS, "gpu"))


def check_datastores(s: JobStores) -> None:
    """Create, replace (created_at kept) and list datastores per workspace."""
    made, created = s.assets.put_datastore(Datastore(WS, "lake", "file:///a", "", {}, 5, 5))
    assert created and made.url == "file:///a" and made.created_at == 5
    moved, created = s.assets.put_datastore(
        Datastore(WS, "lake", "file:///b", "d", {"k": "v"}, 9, 9)
    )
    assert not created and (moved.url, moved.tags, moved.created_at, moved.updated_at) == (
        "file:///b",
        {"k": "v"},
        5,
        9,
    )
    s.assets.put_datastore(Datastore(WS, "archive", "s3://bucket/x", "", {}, 6, 6))
    assert [d.name for d in s.assets.list_datastores(WS)] == ["archive", "lake"]
    s.tracking.ensure_workspace("other")
    assert s.assets.list_datastores("other") == []
    _expect(NotFound, lambda: s.assets.get_datastore("other", "lake"))


def _job(s: JobStores, name: str, ws: str = WS, now: int = 1) -> None:
    s.jobs.create_job(ws, name, "local", {"command": "echo"}, {"environment": {}}, None, None, now)


def check_jobs_unique_listed_newest_first(s: JobStores) -> None:
    """Names are unique per workspace; lists are newest first, paged and filtered."""
    for i in range(5):
        _job(s, f"job-{i}", now=100 + i)
    job = s.jobs.get_job(WS, "job-0")
    assert job.status == JobStatus.QUEUED and job.document == {"command": "echo"}
    assert [(h.status, h.time) for h in job.history] == [(JobStatus.QUEUED, 100)]
    _expect(AlreadyExists, lambda: _job(s, "job-0"))
    s.tracking.ensure_workspace("other")
    _job(s, "job-0", ws="other")
    _expect(NotFound, lambda: s.jobs.get_job(WS, "nope"))
    page, more = s.jobs.list_jobs(WS, None, 2, 0)
    assert [j.name for j in page] == ["job-4", "job-3"] and more
    page, more = s.jobs.list_jobs(WS, None, 10, 4)
    assert [j.name for j in page] == ["job-0"] and not more
    s.jobs.transition(WS, "job-2", JobStatus.CANCELED, 200)
    page, _ = s.jobs.list_jobs(WS, JobStatus.CANCELED, 10, 0)
    assert [j.name for j in page] == ["job-2"]


def check_transitions_are_compare_and_set(s: JobStores) -> None:
    """Only allowed moves happen; each is recorded with its time, message and exit code."""
    _job(s, "life")
    assert s.jobs.transition(WS, "life", JobStatus.RUNNING, 2) is None
    assert s.jobs.transition(WS, "life", JobStatus.PREPARING, 3) is not None
    assert s.jobs.transition(WS, "life", JobStatus.RUNNING, 4, "pid 42") is not None
    done = s.jobs.transition(WS, "life", JobStatus.FAILED, 5, "exit 3", exit_code=3, error="boom")
    assert done is not None and done.exit_code == 3 and done.error == "boom"
    assert s.jobs.transition(WS, "life", JobStatus.COMPLETED, 6) is None
    job = s.jobs.get_job(WS, "life")
    assert [(h.status.value, h.time, h.message) for h in job.history] == [
        ("Queued", 1, None),
        ("Preparing", 3, None),
        ("Running", 4, "pid 42"),
        ("Failed", 5, "exit 3"),
    ]
    _expect(NotFound, lambda: s.jobs.transition(WS, "ghost", JobStatus.PREPARING, 1))


def check_fifo_across_workspaces(s: JobStores) -> None:
    """``jobs_in`` gives the oldest submissions first, whatever their workspace."""
    s.tracking.ensure_workspace("b")
    _job(s, "one")
    _job(s, "two", ws="b")
    _job(s, "three")
    s.jobs.transition(WS, "one", JobStatus.PREPARING, 2)
    queued = s.jobs.jobs_in(frozenset({JobStatus.QUEUED}), 10)
    assert [(j.workspace, j.name) for j in queued] == [("b", "two"), (WS, "three")]
    live = s.jobs.jobs_in(frozenset({JobStatus.PREPARING, JobStatus.RUNNING}), 10)
    assert [j.name for j in live] == ["one"]
    assert len(s.jobs.jobs_in(frozenset({JobStatus.QUEUED}), 1)) == 1


def check_cancel_flag_and_state(s: JobStores) -> None:
    """The cancel flag and the executor's state survive a re-read; state keys merge."""
    _job(s, "c")
    assert not s.jobs.get_job(WS, "c").cancel_requested
    assert s.jobs.request_cancel(WS, "c").cancel_requested
    s.jobs.set_state(WS, "c", {"pid": 1, "workdir": "/w"})
    s.jobs.set_state(WS, "c", {"pid": 2})
    assert s.jobs.get_job(WS, "c").state == {"pid": 2, "workdir": "/w"}
    _expect(NotFound, lambda: s.jobs.request_cancel(WS, "missing"))


def check_one_winner_among_racing_claims(s: JobStores) -> None:
    """Eight threads claim one queued job at once: exactly one succeeds."""
    _job(s, "race")
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        wins.append(s.jobs.transition(WS, "race", JobStatus.PREPARING, 9) is not None)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 7 + [True]
    assert len(s.jobs.get_job(WS, "race").history) == 2


ALL_CHECKS: list[Callable[[JobStores], None]] = [
    check_asset_versions,
    check_computes,
    check_datastores,
    check_jobs_unique_listed_newest_first,
    check_transitions_are_compare_and_set,
    check_fifo_across_workspaces,
    check_cancel_flag_and_state,
    check_one_winner_among_racing_claims,
]
