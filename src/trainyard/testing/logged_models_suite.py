"""The contract every ``LoggedModelStore`` backend must meet, as plain functions.

Each check takes a freshly opened, empty store that is both a ``TrackingStore`` and a
``LoggedModelStore`` (the SQL store is). ``tests/store/test_logged_models_contract.py`` runs them
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from trainyard.core.entities import (
    Dataset,
    DatasetInput,
    LifecycleStage,
    LoggedModelStatus,
    ModelMetric,
    RunInputs,
)
from trainyard.errors import Conflict, InvalidArgument, NotFound

WS = "default"


def _expect(exc: type[Exception], fn: Callable[[], object]) -> None:
    try:
        fn()
    except exc:
        return
    raise AssertionError(f"expected {exc.__name__}")


def check_create_update_and_list(store: Any) -> None:
    """PENDING then READY; write-once params, upserted tags, soft delete; newest first."""
    exp = store.create_experiment(WS, "lm", {}, None)
    run = store.create_run(WS, exp.experiment_id, "r", 1, None, {})
    m = store.create_logged_model(WS, exp.experiment_id, "model", "sk", run.run_id, {"a": "1"}, {})
    assert m.model_id.startswith("m-") and len(m.model_id) == 34
    assert m.status == LoggedModelStatus.PENDING and m.source_run_id == run.run_id
    assert m.artifact_location == f"{exp.artifact_location}/models/{m.model_id}/artifacts"
    m = store.update_logged_model(
        WS, m.model_id, status=LoggedModelStatus.READY, params={"a": "1", "b": "2"}, tags={"t": "x"}
    )
    assert m.status == LoggedModelStatus.READY and m.params == {"a": "1", "b": "2"}
    _expect(Conflict, lambda: store.update_logged_model(WS, m.model_id, params={"a": "9"}))
    m = store.update_logged_model(WS, m.model_id, tags={"t": "y", "u": "z"}, delete_tag="u")
    assert m.tags == {"t": "y"}
    second = store.create_logged_model(WS, exp.experiment_id, "other", None, None, {}, {})
    listed = store.list_logged_models(WS, [exp.experiment_id], False)
    assert {x.model_id for x in listed} == {m.model_id, second.model_id}
    store.update_logged_model(WS, second.model_id, lifecycle_stage=LifecycleStage.DELETED)
    assert [x.model_id for x in store.list_logged_models(WS, [exp.experiment_id], False)] == [
        m.model_id
    ]
    assert len(store.list_logged_models(WS, [], True)) == 2
    assert store.get_logged_model(WS, second.model_id).lifecycle_stage == LifecycleStage.DELETED
    _expect(NotFound, lambda: store.get_logged_model(WS, "m-" + "0" * 32))
    store.ensure_workspace("other")
    _expect(NotFound, lambda: store.get_logged_model("other", m.model_id))
    _expect(NotFound, lambda: store.create_logged_model(WS, "424242", "x", None, None, {}, {}))
    _expect(NotFound, lambda: store.create_logged_model(WS, "0", "x", None, "f" * 32, {}, {}))
    store.set_experiment_stage(WS, exp.experiment_id, LifecycleStage.DELETED)
    _expect(
        InvalidArgument,
        lambda: store.create_logged_model(WS, exp.experiment_id, "x", None, None, {}, {}),
    )


def check_metrics_and_outputs(store: Any) -> None:
    """Metric points are deduplicated (NaN kept); run outputs are idempotent."""
    run = store.create_run(WS, "0", "r", 1, None, {})
    m = store.create_logged_model(WS, "0", "model", None, run.run_id, {}, {})
    points = [
        ModelMetric("rmse", 3.0, 10, 0, run.run_id, "train", "abc"),
        ModelMetric("nan", math.nan, 10, 0, run.run_id),
    ]
    store.log_model_metrics(WS, m.model_id, points)
    store.log_model_metrics(WS, m.model_id, points)  # a retry
    got = store.get_logged_model(WS, m.model_id).metrics
    assert len(got) == 2 and math.isnan(next(p for p in got if p.key == "nan").value)
    assert next(p for p in got if p.key == "rmse").dataset_name == "train"
    store.log_run_outputs(WS, run.run_id, [(m.model_id, 1)])
    store.log_run_outputs(WS, run.run_id, [(m.model_id, 1)])
    assert store.run_outputs([run.run_id, "x" * 32]) == {
        run.run_id: [(m.model_id, 1)],
        "x" * 32: [],
    }
    _expect(NotFound, lambda: store.log_run_outputs(WS, "0" * 32, [(m.model_id, 0)]))
    _expect(NotFound, lambda: store.log_run_outputs(WS, run.run_id, [("m-" + "0" * 32, 0)]))


def check_model_inputs(store: Any) -> None:
    """Models a run used: once each, in first-logged order, only models of the workspace, and
    nothing stored when one is unknown."""
    exp = store.create_experiment(WS, "inputs", {}, None)
    run = store.create_run(WS, exp.experiment_id, "r", 1, None, {})
    other = store.create_run(WS, exp.experiment_id, "o", 2, None, {})
    a = store.create_logged_model(WS, exp.experiment_id, "a", None, None, {}, {}).model_id
    b = store.create_logged_model(WS, exp.experiment_id, "b", None, None, {}, {}).model_id
    store.log_inputs(WS, run.run_id, [], [b, b])
    store.log_inputs(WS, run.run_id, [], [a, b])  # b is linked already: a retry is harmless
    data = Dataset("d", "1", "local", "{}")
    missing = "m-" + "0" * 32
    _expect(NotFound, lambda: store.log_inputs(WS, other.run_id, [DatasetInput(data)], [missing]))
    _expect(NotFound, lambda: store.log_inputs(WS, "0" * 32, [], [a]))
    store.ensure_workspace("elsewhere")
    far = store.create_experiment("elsewhere", "inputs", {}, None).experiment_id
    foreign = store.create_logged_model("elsewhere", far, "f", None, None, {}, {}).model_id
    _expect(NotFound, lambda: store.log_inputs(WS, other.run_id, [], [foreign]))
    got = store.run_inputs([run.run_id, other.run_id])
    assert got == {run.run_id: RunInputs([], [b, a]), other.run_id: RunInputs()}


ALL_CHECKS: list[Callable[[Any], None]] = [
    check_create_update_and_list,
    check_metrics_and_outputs,
    check_model_inputs,
]
