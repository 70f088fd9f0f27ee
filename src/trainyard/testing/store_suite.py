"""The contract every ``TrackingStore`` backend must meet, as plain test functions.

Each function takes a freshly opened, empty store. ``tests/store/test_contract.py`` runs all of
them against SQLite and PostgreSQL; a new backend runs them too.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from trainyard.core.entities import (
    Dataset,
    DatasetInput,
    LifecycleStage,
    Metric,
    RunInputs,
    RunStatus,
)
from trainyard.core.filters import parse_filter, parse_order_by
from trainyard.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from trainyard.store._base import TrackingStore

WS = "default"


def _expect(exc: type[Exception], fn: Callable[[], object]) -> Exception:
    try:
        fn()
    except exc as e:
        return e
    raise AssertionError(f"expected {exc.__name__}")


def check_default_workspace_and_experiment(store: TrackingStore) -> None:
    """A new store has the ``default`` workspace and its ``Default`` experiment, id 0."""
    assert [w.name for w in store.list_workspaces()] == ["default"]
    assert store.get_experiment(WS, "0").name == "Default"
    store.ensure_workspace("team-a")
    store.ensure_workspace("team-a")
    assert [w.name for w in store.list_workspaces()] == ["default", "team-a"]
    _expect(NotFound, lambda: store.get_workspace("nope"))


def check_experiments(store: TrackingStore) -> None:
    """Unique names per workspace, rename, tags, soft delete and restore, paging."""
    e = store.create_experiment(WS, "exp-a", {"team": "x"}, None)
    assert e.tags == {"team": "x"} and e.artifact_location == e.experiment_id
    _expect(AlreadyExists, lambda: store.create_experiment(WS, "exp-a", {}, None))
    store.ensure_workspace("other")
    other = store.create_experiment("other", "exp-a", {}, None)  # same name, other workspace
    _expect(NotFound, lambda: store.get_experiment(WS, other.experiment_id))
    assert store.get_experiment_by_name(WS, "exp-a").experiment_id == e.experiment_id
    renamed = store.update_experiment(WS, e.experiment_id, "exp-b", {"team": "y", "k": "v"})
    assert renamed.name == "exp-b" and renamed.tags == {"team": "y", "k": "v"}
    _expect(NotFound, lambda: store.get_experiment_by_name(WS, "exp-a"))
    store.create_experiment(WS, "exp-c", {}, None)
    _expect(AlreadyExists, lambda: store.update_experiment(WS, e.experiment_id, "exp-c", None))
    assert store.get_experiment(WS, e.experiment_id).name == "exp-b"
    store.set_experiment_stage(WS, e.experiment_id, LifecycleStage.DELETED)
    names = [x.name for x, _, _ in store.list_experiments(WS, None, False, 100, 0)[0]]
    assert names == ["Default", "exp-c"]
    all_names = [x.name for x, _, _ in store.list_experiments(WS, None, True, 100, 0)[0]]
    assert all_names == ["Default", "exp-b", "exp-c"]
    store.set_experiment_stage(WS, e.experiment_id, LifecycleStage.ACTIVE)
    page, more = store.list_experiments(WS, None, False, 2, 0)
    assert len(page) == 2 and more
    page, more = store.list_experiments(WS, "EXP-", False, 100, 0)
    assert [x.name for x, _, _ in page] == ["exp-b", "exp-c"] and not more
    _expect(NotFound, lambda: store.get_experiment(WS, "not-a-number"))
    _expect(InvalidArgument, lambda: store.set_experiment_stage(WS, "0", LifecycleStage.DELETED))


def check_runs_lifecycle(store: TrackingStore) -> None:
    """Create, finish (end time set), rename, nest, soft delete and restore."""
    e = store.create_experiment(WS, "runs", {}, None)
    r = store.create_run(WS, e.experiment_id, "first", 1000, None, {"t": "1"})
    assert r.status == RunStatus.RUNNING and r.end_time is None and r.tags == {"t": "1"}
    assert r.artifact_uri == f"{e.artifact_location}/{r.run_id}/artifacts"
    child = store.create_run(WS, e.experiment_id, "child", 1001, r.run_id, {})
    assert child.parent_run_id == r.run_id
    _expect(NotFound, lambda: store.create_run(WS, e.experiment_id, "x", 1, "missing", {}))
    done = store.update_run(WS, r.run_id, RunStatus.FINISHED, 5000, "renamed", None)
    assert done.status == RunStatus.FINISHED and done.end_time == 5000 and done.name == "renamed"
    failed = store.update_run(WS, child.run_id, RunStatus.FAILED, None, None, "boom")
    assert failed.end_time is not None and failed.status_message == "boom"
    store.set_run_stage(WS, r.run_id, LifecycleStage.DELETED)
    assert store.get_run(WS, r.run_id).lifecycle_stage == LifecycleStage.DELETED
    runs, _ = store.search_runs(WS, [e.experiment_id], [], [], False, 100, 0)
    assert [x.run_id for x in runs] == [child.run_id]
    store.set_run_stage(WS, r.run_id, LifecycleStage.ACTIVE)
    _expect(
        NotFound,
        lambda: store.get_run("other", r.run_id) if store.ensure_workspace("other") else None,
    )
    store.set_experiment_stage(WS, e.experiment_id, LifecycleStage.DELETED)
    _expect(InvalidArgument, lambda: store.create_run(WS, e.experiment_id, "x", 1, None, {}))


def check_params_tags_metrics(store: TrackingStore) -> None:
    """Write-once params, upserted tags, deduplicated metric history, latest value, NaN."""
    e = store.create_experiment(WS, "log", {}, None)
    r = store.create_run(WS, e.experiment_id, "r", 1, None, {})
    pts = [Metric("loss", 1.0 / (i + 1), 100 + i, i) for i in range(50)]
    store.log_batch(WS, r.run_id, pts, {"alpha": "0.1"}, {"team": "a"})
    store.log_batch(WS, r.run_id, pts[:10], {"alpha": "0.1"}, {"team": "b"})  # a retry: no dupes
    hist, more = store.metric_history(WS, r.run_id, "loss", 1000, 0)
    assert len(hist) == 50 and not more
    assert [m.step for m in hist] == list(range(50))
    page, more = store.metric_history(WS, r.run_id, "loss", 20, 40)
    assert len(page) == 10 and not more and page[0].step == 40
    got = store.get_run(WS, r.run_id)
    assert got.metrics["loss"].step == 49 and got.params == {"alpha": "0.1"}
    assert got.tags == {"team": "b"}
    # a batch with a conflicting param stores nothing at all
    err = _expect(
        Conflict,
        lambda: store.log_batch(WS, r.run_id, [Metric("acc", 0.5, 1, 0)], {"alpha": "0.2"}, {}),
    )
    assert "alpha" in str(err)
    assert "acc" not in store.get_run(WS, r.run_id).metrics
    # an older step does not replace the latest value
    store.log_batch(WS, r.run_id, [Metric("loss", 99.0, 1, 3)], {}, {})
    assert store.get_run(WS, r.run_id).metrics["loss"].value == 1.0 / 50
    store.log_batch(WS, r.run_id, [Metric("nan", math.nan, 5, 0)], {}, {})
    assert math.isnan(store.get_run(WS, r.run_id).metrics["nan"].value)
    store.delete_tag(WS, r.run_id, "team")
    _expect(NotFound, lambda: store.delete_tag(WS, r.run_id, "team"))
    _expect(NotFound, lambda: store.log_batch(WS, "missing", [], {"a": "b"}, {}))


def check_search(store: TrackingStore) -> None:
    """Filters on metrics, params, tags and attributes; order with missing values last; paging."""
    e = store.create_experiment(WS, "search", {}, None)
    ids = []
    for i in range(12):
        r = store.create_run(WS, e.experiment_id, f"run-{i:02d}", 1000 + i, None, {})
        metrics = [Metric("rmse", float(60 - i), 1, 0)] if i != 5 else []
        store.log_batch(
            WS, r.run_id, metrics, {"alpha": str(i / 10)}, {"team": "x" if i % 2 else "y"}
        )
        if i < 3:
            store.update_run(WS, r.run_id, RunStatus.FINISHED, None, None, None)
        ids.append(r.run_id)

    def search(f: str, order: list[str] | None = None, n: int = 100, off: int = 0) -> list[str]:
        runs, _ = store.search_runs(
            WS, [e.experiment_id], parse_filter(f), parse_order_by(order), False, n, off
        )
        return [x.name for x in runs]

    assert search("metrics.rmse < 50") == ["run-11"]
    assert search("metrics.rmse <= 50", ["metrics.rmse DESC"]) == ["run-10", "run-11"]
    assert search("params.alpha = '0.3'") == ["run-03"]
    assert search("tags.team = 'x' and metrics.rmse >= 55", ["attributes.start_time"]) == [
        "run-01",
        "run-03",
    ]
    assert search("attributes.status = 'FINISHED'", ["run_name"]) == ["run-00", "run-01", "run-02"]
    assert search("attributes.run_name LIKE 'run-1%'", ["run_name DESC"]) == [
        "run-11",
        "run-10",
    ]
    assert search("attributes.run_name ILIKE 'RUN-0_'", ["run_name"])[:2] == ["run-00", "run-01"]
    assert search("params.alpha IN ('0.1', '0.2')", ["run_name"]) == ["run-01", "run-02"]
    ordered = search("", ["metrics.rmse ASC"])
    assert ordered[0] == "run-11" and ordered[-1] == "run-05"  # missing value last
    assert search("", ["metrics.rmse ASC"], n=5, off=5) == ordered[5:10]
    assert search("metrics.missing > 0") == []
    _, more = store.search_runs(WS, [e.experiment_id], [], [], False, 12, 0)
    assert not more


def check_dataset_inputs(store: TrackingStore) -> None:
    """Data sets once per (name, digest) in an experiment, linked once per run, and searched."""
    e = store.create_experiment(WS, "inputs", {}, None)
    a = store.create_run(WS, e.experiment_id, "a", 1, None, {})
    b = store.create_run(WS, e.experiment_id, "b", 2, None, {})
    train = Dataset("iris", "d1", "local", '{"uri": "/tmp/iris.csv"}', '{"cols": 4}', "{}")
    test = Dataset("iris-test", "d2", "http", '{"url": "https://x"}')
    ctx = "mlflow.data.context"
    store.log_inputs(WS, a.run_id, [DatasetInput(train, {ctx: "training"})])
    store.log_inputs(WS, a.run_id, [DatasetInput(train, {ctx: "other"})])  # no-op: linked
    store.log_inputs(WS, a.run_id, [DatasetInput(test, {ctx: "eval"}), DatasetInput(test, {})])
    store.log_inputs(WS, b.run_id, [DatasetInput(train, {})])
    got = store.run_inputs([a.run_id, b.run_id, "missing"])
    assert got[a.run_id].datasets == [
        DatasetInput(train, {ctx: "training"}),
        DatasetInput(test, {ctx: "eval"}),
    ]
    assert got[b.run_id] == RunInputs([DatasetInput(train, {})]) and got["missing"] == RunInputs()
    _expect(NotFound, lambda: store.log_inputs(WS, "missing", [DatasetInput(train, {})]))

    def search(f: str) -> list[str]:
        runs, _ = store.search_runs(WS, [e.experiment_id], parse_filter(f), [], False, 10, 0)
        return sorted(x.name for x in runs)

    assert search("datasets.name = 'iris'") == ["a", "b"]
    assert search("datasets.name != 'iris'") == ["a"]  # one of a's data sets is not iris
    assert search("datasets.digest IN ('d2', 'zz')") == ["a"]
    assert search("datasets.context = 'training' and datasets.name = 'iris-test'") == ["a"]
    assert search("datasets.context NOT IN ('training')") == ["a"]
    assert search("datasets.context = 'eval' and attributes.run_name = 'b'") == []


def check_concurrent_writers(store: TrackingStore) -> None:
    """Many threads logging at once lose nothing and corrupt nothing."""
    e = store.create_experiment(WS, "threads", {}, None)
    runs = [store.create_run(WS, e.experiment_id, f"t{i}", 1, None, {}) for i in range(4)]
    errors: list[BaseException] = []

    def work(run_id: str) -> None:
        try:
            for b in range(10):
                pts = [Metric("m", float(i), 1, b * 100 + i) for i in range(100)]
                store.log_batch(WS, run_id, pts, {f"p{b}": "v"}, {})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(r.run_id,)) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for r in runs:
        hist, _ = store.metric_history(WS, r.run_id, "m", 10_000, 0)
        assert len(hist) == 1000
        assert len(store.get_run(WS, r.run_id).params) == 10


def check_tokens(store: TrackingStore) -> None:
    """Tokens are found by hash until revoked."""
    tokens = store  # the SQL store implements TokenStore too
    tokens.create_token("t1", "ci", "h" * 64, {"default": "reader"}, 1)  # type: ignore[attr-defined]
    found = tokens.find_token("h" * 64)  # type: ignore[attr-defined]
    assert found is not None and found["roles"] == {"default": "reader"}
    tokens.revoke_token("t1", 2)  # type: ignore[attr-defined]
    assert tokens.find_token("h" * 64) is None  # type: ignore[attr-defined]
    _expect(NotFound, lambda: tokens.revoke_token("missing", 3))  # type: ignore[attr-defined]


ALL_CHECKS: list[Callable[[TrackingStore], None]] = [
    check_default_workspace_and_experiment,
    check_experiments,
    check_runs_lifecycle,
    check_params_tags_metrics,
    check_search,
    check_dataset_inputs,
    check_concurrent_writers,
    check_tokens,
]
