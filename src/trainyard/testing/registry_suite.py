"""The contract every ``RegistryStore`` backend must meet, as plain functions.

Each check takes a :class:`RegistryStores` over a freshly opened, empty database.
``tests/store/test_registry_contract.py`` runs them on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from trainyard.core.model_ref import is_model_id
from trainyard.core.registry import ModelSource, ModelVersionStatus, NewModelVersion
from trainyard.errors import AlreadyExists, Conflict, NotFound
from trainyard.store._base import TrackingStore
from trainyard.store._registry_base import Placement, RegistryStore

WS = "default"


@dataclass(frozen=True)
class RegistryStores:
    """The stores under test, sharing one database."""

    tracking: TrackingStore
    registry: RegistryStore


def _expect(exc: type[Exception], fn: Callable[[], object]) -> Exception:
    try:
        fn()
    except exc as e:
        return e
    raise AssertionError(f"expected {exc.__name__}")


def _new(**kw: object) -> NewModelVersion:
    fields: dict[str, object] = {"source": ModelSource.UPLOAD, "sha256": "0" * 64, "size": 3}
    return NewModelVersion(**{**fields, **kw})  # type: ignore[arg-type]


def _place(n: int) -> Placement:
    return f"models/{WS}/m/{n}/model.onnx", None


def check_models(s: RegistryStores) -> None:
    """Unique names per workspace, description and tags, paging, name filter, NotFound."""
    reg = s.registry
    m = reg.create_model(WS, "churn", "predicts churn", {"team": "growth"})
    assert (m.name, m.description, m.tags, m.latest_version, m.version_count) == (
        "churn",
        "predicts churn",
        {"team": "growth"},
        None,
        0,
    )
    _expect(AlreadyExists, lambda: reg.create_model(WS, "churn", "", {}))
    s.tracking.ensure_workspace("other")
    reg.create_model("other", "churn", "", {})  # same name, another workspace
    for name in ("alpha", "beta", "Churn-2"):
        reg.create_model(WS, name, "", {})
    page, more = reg.list_models(WS, None, 2, 0)
    assert [x.name for x in page] == ["Churn-2", "alpha"] and more
    page, more = reg.list_models(WS, None, 2, 2)
    assert [x.name for x in page] == ["beta", "churn"] and not more
    assert [x.name for x in reg.list_models(WS, "CHURN", 10, 0)[0]] == ["Churn-2", "churn"]
    assert reg.list_models(WS, "%", 10, 0)[0] == []  # LIKE wildcards are literal
    upd = reg.update_model(WS, "churn", "new text", {"stage": "prod"})
    assert upd.description == "new text" and upd.tags == {"team": "growth", "stage": "prod"}
    assert reg.update_model(WS, "churn", None, None).description == "new text"
    _expect(NotFound, lambda: reg.get_model(WS, "nope"))
    _expect(NotFound, lambda: reg.update_model(WS, "nope", "x", None))


def check_version_numbers_are_never_reused(s: RegistryStores) -> None:
    """1, 2, 3; an expected number that is not next is a Conflict; a deleted number stays used."""
    reg = s.registry
    reg.create_model(WS, "m", "", {})
    placed: list[int] = []

    def place(n: int) -> Placement:
        placed.append(n)
        return _place(n)

    vs = [reg.create_version(WS, "m", _new(tags={"i": str(i)}), place) for i in range(3)]
    assert [v.version for v in vs] == [1, 2, 3] and placed == [1, 2, 3]
    assert all(is_model_id(v.model_id) for v in vs) and len({v.model_id for v in vs}) == 3
    assert vs[0].storage_key == "models/default/m/1/model.onnx" and vs[0].tags == {"i": "0"}
    err = _expect(Conflict, lambda: reg.create_version(WS, "m", _new(), place, 7))
    assert getattr(err, "details", None) == {"next_version": 4} and placed == [1, 2, 3]
    reg.delete_version(WS, "m", 3)
    _expect(NotFound, lambda: reg.get_version(WS, "m", 3))
    assert reg.create_version(WS, "m", _new(), place, expected_version=4).version == 4
    m = reg.get_model(WS, "m")
    assert (m.latest_version, m.version_count) == (4, 3)
    _expect(NotFound, lambda: reg.create_version(WS, "nope", _new(), place))


def check_failed_placement_writes_nothing(s: RegistryStores) -> None:
    """When ``place`` raises, no row appears and the number is not consumed."""
    reg = s.registry
    reg.create_model(WS, "m", "", {})

    def broken(n: int) -> Placement:
        raise OSError("disk full")

    _expect(OSError, lambda: reg.create_version(WS, "m", _new(), broken))
    assert reg.list_versions(WS, "m", 10, 0) == ([], False)
    assert reg.create_version(WS, "m", _new(), _place).version == 1


def check_version_fields_and_lookups(s: RegistryStores) -> None:
    """JSON fields round-trip; by id, latest READY, newest-first paging; FAILED is skipped."""
    reg = s.registry
    reg.create_model(WS, "m", "", {})
    sig = {"inputs": [{"name": "X", "type": "float32", "shape": [None, 3]}], "outputs": []}
    parity = {"passed": False, "max_abs_diff": 0.5, "rtol": 1e-4, "atol": 1e-5}
    v1 = reg.create_version(
        WS,
        "m",
        _new(
            source=ModelSource.RUN,
            run_id="a" * 32,
            artifact_path="model/model.onnx",
            signature=sig,
            metrics={"rmse": 1.5},
            parity=parity,
            forced=True,
            description="first",
        ),
        lambda n: (f"k/{n}.onnx", f"k/{n}.pkl"),
    )
    assert (v1.signature, v1.metrics, v1.parity, v1.forced) == (sig, {"rmse": 1.5}, parity, True)
    assert (v1.source, v1.run_id, v1.native_key) == (ModelSource.RUN, "a" * 32, "k/1.pkl")
    failed = reg.create_version(
        WS,
        "m",
        _new(status=ModelVersionStatus.FAILED, status_reason="conversion failed"),
        lambda n: (None, None),
    )
    assert failed.status is ModelVersionStatus.FAILED and failed.storage_key is None
    assert reg.latest_version(WS, "m").version == 1
    assert reg.get_version_by_id(WS, v1.model_id).version == 1
    s.tracking.ensure_workspace("other")
    _expect(NotFound, lambda: reg.get_version_by_id("other", v1.model_id))
    page, more = reg.list_versions(WS, "m", 1, 0)
    assert [v.version for v in page] == [2] and more
    reg.create_model(WS, "empty", "", {})
    _expect(NotFound, lambda: reg.latest_version(WS, "empty"))


def check_aliases(s: RegistryStores) -> None:
    """Set, move, resolve, list on the model and the version; FAILED refused; delete."""
    reg = s.registry
    reg.create_model(WS, "m", "", {})
    for _ in range(2):
        reg.create_version(WS, "m", _new(), _place)
    bad = reg.create_version(
        WS, "m", _new(status=ModelVersionStatus.FAILED, status_reason="x"), lambda n: (None, None)
    )
    assert reg.set_alias(WS, "m", "champion", 1).aliases == ["champion"]
    reg.set_alias(WS, "m", "challenger", 2)
    assert reg.get_model(WS, "m").aliases == {"challenger": 2, "champion": 1}
    moved = reg.set_alias(WS, "m", "champion", 2)
    assert moved.version == 2 and moved.aliases == ["challenger", "champion"]
    assert reg.resolve_alias(WS, "m", "champion").version == 2
    assert reg.get_version(WS, "m", 1).aliases == []
    _expect(Conflict, lambda: reg.set_alias(WS, "m", "champion", bad.version))
    _expect(NotFound, lambda: reg.set_alias(WS, "m", "champion", 99))
    assert reg.resolve_alias(WS, "m", "champion").version == 2  # unchanged by the refusals
    reg.delete_alias(WS, "m", "challenger")
    _expect(NotFound, lambda: reg.delete_alias(WS, "m", "challenger"))
    _expect(NotFound, lambda: reg.resolve_alias(WS, "m", "challenger"))
    reg.delete_version(WS, "m", 2)  # the alias on it goes with it
    _expect(NotFound, lambda: reg.resolve_alias(WS, "m", "champion"))
    assert reg.get_model(WS, "m").aliases == {}


def check_alias_moves_atomically(s: RegistryStores) -> None:
    """While an alias flips between two versions, every reader resolves it to one of them."""
    reg = s.registry
    reg.create_model(WS, "m", "", {})
    for _ in range(2):
        reg.create_version(WS, "m", _new(), _place)
    reg.set_alias(WS, "m", "live", 1)
    seen: set[int] = set()
    errors: list[Exception] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                seen.add(reg.resolve_alias(WS, "m", "live").version)
            except Exception as exc:  # a reader must never miss the alias
                errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    for i in range(30):
        reg.set_alias(WS, "m", "live", 1 + i % 2)
    stop.set()
    for t in readers:
        t.join()
    assert not errors and seen <= {1, 2}


def check_concurrent_registrations_get_distinct_numbers(s: RegistryStores) -> None:
    """Eight threads registering at once get versions 1..8, each with its own file key."""
    reg = s.registry
    reg.create_model(WS, "m", "", {})
    got: list[int] = []

    def register() -> None:
        got.append(reg.create_version(WS, "m", _new(), _place).version)

    threads = [threading.Thread(target=register) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(1, 9))


def check_delete_model(s: RegistryStores) -> None:
    """Deleting a model returns its versions and frees the name (numbering starts again)."""
    reg = s.registry
    reg.create_model(WS, "m", "", {})
    for _ in range(2):
        reg.create_version(WS, "m", _new(), _place)
    reg.set_alias(WS, "m", "champion", 2)
    gone = reg.delete_model(WS, "m")
    assert sorted(v.version for v in gone) == [1, 2]
    assert [v.aliases for v in sorted(gone, key=lambda v: v.version)] == [[], ["champion"]]
    _expect(NotFound, lambda: reg.get_model(WS, "m"))
    _expect(NotFound, lambda: reg.get_version_by_id(WS, gone[0].model_id))
    _expect(NotFound, lambda: reg.delete_model(WS, "m"))
    reg.create_model(WS, "m", "", {})
    assert reg.create_version(WS, "m", _new(), _place).version == 1


def check_rename_and_updates(s: RegistryStores) -> None:
    """Renaming keeps versions, ids and aliases and moves file keys; tags upsert and delete."""
    reg = s.registry
    reg.create_model(WS, "old", "", {"a": "1", "b": "2"})
    reg.create_model(WS, "taken", "", {})
    first = reg.create_version(WS, "old", _new(tags={"x": "1"}), _place)
    reg.set_alias(WS, "old", "champion", 1)
    assert reg.update_model(WS, "old", None, {"c": "3"}, ["a", "nope"]).tags == {"b": "2", "c": "3"}
    v = reg.update_version(WS, "old", 1, "text", {"y": "2"}, ["x"])
    assert (v.description, v.tags) == ("text", {"y": "2"})
    assert reg.update_version(WS, "old", 1, None, None).description == "text"
    _expect(NotFound, lambda: reg.update_version(WS, "old", 9, "x", None))
    _expect(AlreadyExists, lambda: reg.rename_model(WS, "old", "taken", lambda v: (None, None)))
    assert reg.get_version(WS, "old", 1).storage_key == f"models/{WS}/m/1/model.onnx"
    moved = reg.rename_model(WS, "old", "new", lambda v: (f"new/{v.version}", None))
    assert (moved.name, moved.aliases, moved.tags) == ("new", {"champion": 1}, {"b": "2", "c": "3"})
    got = reg.get_version(WS, "new", 1)
    assert (got.model_id, got.storage_key, got.aliases) == (first.model_id, "new/1", ["champion"])
    _expect(NotFound, lambda: reg.get_model(WS, "old"))
    assert reg.create_version(WS, "new", _new(), _place).version == 2


ALL_CHECKS: list[Callable[[RegistryStores], None]] = [
    check_models,
    check_version_numbers_are_never_reused,
    check_failed_placement_writes_nothing,
    check_version_fields_and_lookups,
    check_aliases,
    check_alias_moves_atomically,
    check_concurrent_registrations_get_distinct_numbers,
    check_delete_model,
    check_rename_and_updates,
]
