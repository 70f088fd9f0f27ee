"""The contract every ``ServingStore`` backend must meet, as plain functions.

Each check takes a fresh :class:`ServingStores` over an empty, migrated database;
``tests/store/test_serving_contract.py`` runs them on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from trainyard.core.deployment_history import ChangeReason, DeploymentEvent
from trainyard.core.serving import AuthMode, Batching, Deployment, Endpoint, EndpointKeys
from trainyard.errors import AlreadyExists, InvalidArgument, NotFound
from trainyard.store._base import TrackingStore
from trainyard.store._serving_base import EndpointChange, ServingStore

WS = "default"


@dataclass(frozen=True)
class ServingStores:
    """The stores under test, sharing one database."""

    tracking: TrackingStore
    serving: ServingStore


def _endpoint(name: str, workspace: str = WS) -> Endpoint:
    return Endpoint(workspace, name, AuthMode.KEY, EndpointKeys("k1", "k2"), "", {}, {}, {}, 1, 1)


def _deployment(name: str, endpoint: str = "ep") -> Deployment:
    return Deployment(WS, endpoint, name, "m:1", "m", 1, "mv-" + "0" * 32, created_at=1)


def _expect(exc: type[Exception], fn: Callable[[], object]) -> None:
    try:
        fn()
    except exc:
        return
    raise AssertionError(f"expected {exc.__name__}")


def check_endpoints(s: ServingStores) -> None:
    """Unique names per workspace, NotFound, paging by name, keys kept as given."""
    st = s.serving
    created = st.create_endpoint(_endpoint("ep"))
    assert (created.keys, created.auth, created.deployments) == (
        EndpointKeys("k1", "k2"),
        AuthMode.KEY,
        {},
    )
    _expect(AlreadyExists, lambda: st.create_endpoint(_endpoint("ep")))
    s.tracking.ensure_workspace("other")
    st.create_endpoint(_endpoint("ep", "other"))
    _expect(NotFound, lambda: st.get_endpoint(WS, "nope"))
    for name in ("b", "c", "a"):
        st.create_endpoint(_endpoint(name))
    page, more = st.list_endpoints(WS, 2, 0)
    assert [e.name for e in page] == ["a", "b"] and more
    page, more = st.list_endpoints(WS, 2, 2)
    assert [e.name for e in page] == ["c", "ep"] and not more


def check_changes_are_atomic_and_counted(s: ServingStores) -> None:
    """A change writes all of itself or nothing, and moves the revision once."""
    st = s.serving
    start = st.revision()
    st.create_endpoint(_endpoint("ep"))
    assert st.revision() == start + 1
    blue = _deployment("blue")
    e = st.change_endpoint(
        WS, "ep", lambda e: EndpointChange(traffic={"blue": 100}, put_deployment=blue), 5
    )
    assert e.traffic == {"blue": 100} and e.deployments["blue"] == blue and e.updated_at == 5
    assert st.revision() == start + 2

    def refuse(e: Endpoint) -> EndpointChange:
        raise InvalidArgument("no")

    _expect(InvalidArgument, lambda: st.change_endpoint(WS, "ep", refuse, 6))
    assert st.revision() == start + 2 and st.get_endpoint(WS, "ep").updated_at == 5
    green = replace(_deployment("green"), replicas=3)
    st.change_endpoint(
        WS,
        "ep",
        lambda e: EndpointChange(
            auth=AuthMode.NONE,
            keys=EndpointKeys("k3", "k2"),
            mirror={"green": 10},
            put_deployment=green,
            delete_deployments=("blue",),
            traffic={"green": 100},
        ),
        7,
    )
    e = st.get_endpoint(WS, "ep")
    assert (e.auth, e.keys.primary, e.mirror, list(e.deployments)) == (
        AuthMode.NONE,
        "k3",
        {"green": 10},
        ["green"],
    )
    assert e.deployments["green"].replicas == 3
    _expect(NotFound, lambda: st.change_endpoint(WS, "nope", lambda e: EndpointChange(), 8))


def check_concurrent_changes_do_not_lose_updates(s: ServingStores) -> None:
    """Eight writers, each adding a deployment computed from what it read: all eight remain."""
    st = s.serving
    st.create_endpoint(_endpoint("ep"))
    errors: list[BaseException] = []

    def add(i: int) -> None:
        def mutate(e: Endpoint) -> EndpointChange:
            traffic = {**e.traffic, f"d{i}": 0}
            return EndpointChange(traffic=traffic, put_deployment=_deployment(f"d{i}"))

        try:
            st.change_endpoint(WS, "ep", mutate, i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    e = st.get_endpoint(WS, "ep")
    assert sorted(e.deployments) == sorted(e.traffic) == [f"d{i}" for i in range(8)]


def check_snapshot_and_delete(s: ServingStores) -> None:
    """The snapshot holds every workspace's endpoints; deleting takes the deployments along."""
    st = s.serving
    s.tracking.ensure_workspace("other")
    for ws in (WS, "other"):
        st.create_endpoint(_endpoint("ep", ws))
    st.change_endpoint(WS, "ep", lambda e: EndpointChange(put_deployment=_deployment("b")), 2)
    revision, found = st.snapshot()
    assert revision == st.revision()
    assert [(e.workspace, e.name, sorted(e.deployments)) for e in found] == [
        (WS, "ep", ["b"]),
        ("other", "ep", []),
    ]
    gone = st.delete_endpoint(WS, "ep")
    assert list(gone.deployments) == ["b"] and st.revision() == revision + 1
    _expect(NotFound, lambda: st.get_endpoint(WS, "ep"))
    st.create_endpoint(_endpoint("ep"))  # the name is free again, without old deployments
    assert st.get_endpoint(WS, "ep").deployments == {}


def check_batching_round_trips(s: ServingStores) -> None:
    """A deployment's batching setting is kept as given; ``None`` (off) stays ``None``."""
    st = s.serving
    st.create_endpoint(_endpoint("ep"))
    plain = _deployment("plain")
    batched = replace(_deployment("batched"), batching=Batching(max_rows=16, max_wait_us=750))
    for d in (plain, batched):

        def put(e: Endpoint, d: Deployment = d) -> EndpointChange:
            return EndpointChange(put_deployment=d)

        st.change_endpoint(WS, "ep", put, 2)
    e = st.get_endpoint(WS, "ep")
    assert e.deployments["plain"].batching is None
    assert e.deployments["batched"].batching == Batching(16, 750)
    off = replace(batched, batching=None)
    st.change_endpoint(WS, "ep", lambda e: EndpointChange(put_deployment=off), 3)
    assert st.snapshot()[1][0].deployments["batched"] == off


def check_history_is_recorded_with_the_change(s: ServingStores) -> None:
    """A change with ``history`` records the version it puts, in the same transaction; pages
    come newest first; the history goes with its deployment and with its endpoint."""
    st = s.serving
    st.create_endpoint(_endpoint("ep"))
    v1 = _deployment("blue")
    v2 = replace(v1, model_ref="m@champion", model_version=2, model_id="mv-" + "2" * 32)

    def put(d: Deployment, why: ChangeReason | None, now: int, name: str = "ep") -> None:
        st.change_endpoint(WS, name, lambda e: EndpointChange(put_deployment=d, history=why), now)

    put(v1, ChangeReason.CREATED, 10)
    put(v2, ChangeReason.UPDATED, 11)
    put(replace(v2, replicas=4), None, 12)  # same version: nothing recorded
    put(v1, ChangeReason.ROLLED_BACK, 13)

    def refuse(e: Endpoint) -> EndpointChange:
        raise InvalidArgument("no")

    _expect(InvalidArgument, lambda: st.change_endpoint(WS, "ep", refuse, 14))
    found, more = st.list_history(WS, "ep", "blue", 10, 0)
    assert not more
    assert [(e.model_version, e.model_ref, e.reason, e.at) for e in found] == [
        (1, "m:1", ChangeReason.ROLLED_BACK, 13),
        (2, "m@champion", ChangeReason.UPDATED, 11),
        (1, "m:1", ChangeReason.CREATED, 10),
    ]
    assert found[1] == DeploymentEvent(
        WS, "ep", "blue", "m", 2, "mv-" + "2" * 32, "m@champion", ChangeReason.UPDATED, 11
    )
    assert st.get_endpoint(WS, "ep").deployments["blue"].replicas == 1  # rolled back as given
    page, more = st.list_history(WS, "ep", "blue", 2, 0)
    assert [e.at for e in page] == [13, 11] and more
    page, more = st.list_history(WS, "ep", "blue", 2, 2)
    assert [e.at for e in page] == [10] and not more
    assert st.list_history(WS, "ep", "nope", 10, 0) == ([], False)

    green = _deployment("green")
    put(green, ChangeReason.CREATED, 20)
    st.change_endpoint(WS, "ep", lambda e: EndpointChange(delete_deployments=("green",)), 21)
    put(green, ChangeReason.CREATED, 22)  # a new deployment of the same name starts afresh
    assert [e.at for e in st.list_history(WS, "ep", "green", 10, 0)[0]] == [22]
    s.tracking.ensure_workspace("other")
    st.create_endpoint(_endpoint("ep", "other"))
    assert st.list_history("other", "ep", "blue", 10, 0) == ([], False)
    st.delete_endpoint(WS, "ep")
    st.create_endpoint(_endpoint("ep"))
    assert st.list_history(WS, "ep", "blue", 10, 0) == ([], False)


ALL_CHECKS = [
    check_endpoints,
    check_changes_are_atomic_and_counted,
    check_concurrent_changes_do_not_lose_updates,
    check_snapshot_and_delete,
    check_batching_round_trips,
    check_history_is_recorded_with_the_change,
]
