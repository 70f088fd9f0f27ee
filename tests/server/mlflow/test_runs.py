"""MLflow's run routes with the real client, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import time

import httpx
import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType

from tests.server.helpers import create_run, get_run, history, unique
from tests.server.mlflow.helpers import assert_mlflow_error, raises_code

API = "/api/2.0/mlflow"
FLOAT_MAX = 1.7976931348623157e308


def _now() -> int:
    return int(time.time() * 1000)


def test_create_get_and_names_kept_in_sync(client: MlflowClient, api: httpx.Client) -> None:
    exp_id = client.create_experiment(unique("runs"))
    run = client.create_run(exp_id, run_name="first", tags={"team": "a"})
    info = run.info
    assert info.run_name == "first" and info.status == "RUNNING"
    assert info.artifact_uri == f"mlflow-artifacts:/{exp_id}/{info.run_id}/artifacts"
    assert run.data.tags["mlflow.runName"] == "first"
    assert get_run(api, info.run_id)["name"] == "first"

    client.set_tag(info.run_id, "mlflow.runName", "second")
    assert get_run(api, info.run_id)["name"] == "second"
    client.update_run(info.run_id, name="third")
    assert client.get_run(info.run_id).data.tags["mlflow.runName"] == "third"
    api.patch(f"/runs/{info.run_id}", json={"name": "fourth"})
    got = client.get_run(info.run_id)
    assert got.info.run_name == "fourth" and got.data.tags["mlflow.runName"] == "fourth"

    client.set_terminated(info.run_id, "FINISHED")
    done = client.get_run(info.run_id).info
    assert done.status == "FINISHED" and done.end_time is not None


def test_run_uuid_echo_and_defaults(root: httpx.Client, experiment: dict[str, str]) -> None:
    resp = root.post(f"{API}/runs/create", json={"experiment_id": experiment["experiment_id"]})
    assert resp.status_code == 200, resp.text
    info = resp.json()["run"]["info"]
    assert info["run_uuid"] == info["run_id"] and len(info["run_id"]) == 32
    assert info["run_name"]  # generated
    assert "end_time" not in info and isinstance(info["start_time"], int)
    got = root.get(f"{API}/runs/get", params={"run_uuid": info["run_id"]}).json()["run"]
    assert got["info"] == info
    assert "metrics" not in got["data"] and "params" not in got["data"]


def test_metrics_params_tags_history_and_nan(client: MlflowClient, api: httpx.Client) -> None:
    run_id = client.create_run("0").info.run_id
    for step, value in enumerate([3.0, 2.0, 1.0]):
        client.log_metric(run_id, "loss", value, step=step)
    client.log_metric(run_id, "odd", math.nan)
    client.log_metric(run_id, "big", math.inf)
    client.log_metric(run_id, "small", -math.inf)
    client.log_param(run_id, "alpha", "0.1")
    client.set_tag(run_id, "k", "v")
    data = client.get_run(run_id).data
    assert data.metrics["loss"] == 1.0
    assert math.isnan(data.metrics["odd"])
    assert data.metrics["big"] == FLOAT_MAX and data.metrics["small"] == -FLOAT_MAX
    assert data.params == {"alpha": "0.1"} and data.tags["k"] == "v"
    points = client.get_metric_history(run_id, "loss")
    assert [(p.step, p.value) for p in points] == [(0, 3.0), (1, 2.0), (2, 1.0)]
    assert [p["value"] for p in history(api, run_id, "loss")] == [3.0, 2.0, 1.0]

    client.delete_tag(run_id, "k")
    assert "k" not in client.get_run(run_id).data.tags
    raises_code("RESOURCE_DOES_NOT_EXIST", lambda: client.delete_tag(run_id, "k"))


def test_params_are_write_once_but_idempotent(client: MlflowClient, root: httpx.Client) -> None:
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "alpha", "1")
    client.log_param(run_id, "alpha", "1")  # the same value again: fine
    client.log_batch(run_id, params=[Param("alpha", "1")])
    raises_code("INVALID_PARAMETER_VALUE", lambda: client.log_param(run_id, "alpha", "2"))
    assert_mlflow_error(
        root.post(
            f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "alpha", "value": "2"}
        ),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert client.get_run(run_id).data.params == {"alpha": "1"}


def test_a_retried_identical_batch_stores_each_point_once(
    client: MlflowClient, root: httpx.Client, api: httpx.Client
) -> None:
    run_id = client.create_run("0").info.run_id
    ts = _now()
    batch = {
        "run_id": run_id,
        "metrics": [{"key": "m", "value": float(i), "timestamp": ts, "step": i} for i in range(50)]
        + [{"key": "n", "value": "NaN", "timestamp": ts, "step": 0}],
        "params": [{"key": "p", "value": "1"}],
        "tags": [{"key": "t", "value": "x"}],
    }
    for _ in range(3):  # what the client's retry after a lost answer does
        resp = root.post(f"{API}/runs/log-batch", json=batch)
        assert resp.status_code == 200 and resp.json() == {}, resp.text
    assert len(history(api, run_id, "m")) == 50
    assert len(history(api, run_id, "n")) == 1
    metrics = [Metric("m2", 1.0, ts, 0), Metric("m2", 2.0, ts, 1)]
    client.log_batch(run_id, metrics=metrics)
    client.log_batch(run_id, metrics=metrics)
    assert len(client.get_metric_history(run_id, "m2")) == 2


def test_batch_limits(client: MlflowClient, root: httpx.Client) -> None:
    run_id = client.create_run("0").info.run_id
    ts = _now()
    too_many = [{"key": "m", "value": 1.0, "timestamp": ts, "step": i} for i in range(1001)]
    for body, what in [
        ({"metrics": too_many}, "1000 metrics"),
        ({"params": [{"key": f"p{i}", "value": "v"} for i in range(101)]}, "100 params"),
        ({"tags": [{"key": f"t{i}", "value": "v"} for i in range(101)]}, "100 tags"),
        ({"params": [{"key": "p", "value": "1"}, {"key": "p", "value": "1"}]}, "Duplicate"),
        ({"metrics": [{"key": "m", "value": 1.0}]}, "'timestamp'"),
        ({"metrics": [{"key": "m", "value": "abc", "timestamp": ts}]}, "'value'"),
    ]:
        resp = root.post(f"{API}/runs/log-batch", json={"run_id": run_id, **body})
        assert_mlflow_error(resp, 400, "INVALID_PARAMETER_VALUE", what)
    assert client.get_run(run_id).data.metrics == {}
    # the client splits a large batch into requests within the limits
    client.log_batch(run_id, tags=[RunTag(f"t{i}", "v") for i in range(150)])
    assert len([k for k in client.get_run(run_id).data.tags if k.startswith("t")]) == 150


def test_search_filters_order_and_pages(client: MlflowClient) -> None:
    exp_id = client.create_experiment(unique("search"))
    ids = []
    for i, (rmse, alpha) in enumerate([(50.0, "0.1"), (40.0, "0.2"), (60.0, "0.1"), (45.0, "0.3")]):
        run = client.create_run(exp_id, run_name=f"r{i}", start_time=1000 + i)
        client.log_metric(run.info.run_id, "rmse", rmse)
        client.log_param(run.info.run_id, "alpha", alpha)
        if i % 2 == 0:
            client.set_terminated(run.info.run_id)
        ids.append(run.info.run_id)
    client.create_run(exp_id, run_name="no-metric", start_time=2000)

    def names(**kw: object) -> list[str]:
        return [r.info.run_name for r in client.search_runs([exp_id], **kw)]  # type: ignore[arg-type]

    assert names(order_by=["metrics.rmse ASC"]) == ["r1", "r3", "r0", "r2", "no-metric"]
    assert names(filter_string="metrics.rmse < 55 and params.alpha = '0.1'") == ["r0"]
    assert names(filter_string="tags.mlflow.runName = 'r2'") == ["r2"]
    assert names(filter_string="attributes.run_name LIKE 'r%'", order_by=["start_time ASC"]) == [
        "r0",
        "r1",
        "r2",
        "r3",
    ]
    assert names(
        filter_string="attributes.status = 'FINISHED'", order_by=["metrics.rmse DESC"]
    ) == [
        "r2",
        "r0",
    ]
    assert names(filter_string="params.alpha IN ('0.2', '0.3')", order_by=["params.alpha"]) == [
        "r1",
        "r3",
    ]
    user = client.get_run(ids[1]).info.user_id
    assert user
    assert names(filter_string=f"attributes.user_id = '{user}' and run_id = '{ids[1]}'") == ["r1"]
    assert names(filter_string=f"attributes.user_id != '{user}' and run_id = '{ids[1]}'") == []
    assert names()[0] == "no-metric"  # default order: newest start_time first

    page = client.search_runs([exp_id], max_results=2, order_by=["metrics.rmse ASC"])
    assert [r.info.run_name for r in page] == ["r1", "r3"] and page.token
    more = client.search_runs(
        [exp_id], max_results=10, order_by=["metrics.rmse ASC"], page_token=page.token
    )
    assert [r.info.run_name for r in more] == ["r0", "r2", "no-metric"] and not more.token

    frame = mlflow.search_runs([exp_id], order_by=["metrics.rmse ASC"])
    assert list(frame["tags.mlflow.runName"])[:2] == ["r1", "r3"]
    for bad in ["metrics.rmse < 'a'", "nope.x = 1", "metrics.rmse < 1 OR metrics.rmse > 2"]:
        raises_code("INVALID_PARAMETER_VALUE", lambda b=bad: client.search_runs([exp_id], b))  # type: ignore[misc]


def test_delete_restore_and_view_types(client: MlflowClient) -> None:
    exp_id = client.create_experiment(unique("del"))
    keep = client.create_run(exp_id).info.run_id
    gone = client.create_run(exp_id).info.run_id
    client.delete_run(gone)
    assert client.get_run(gone).info.lifecycle_stage == "deleted"
    active = {r.info.run_id for r in client.search_runs([exp_id])}
    deleted = {
        r.info.run_id for r in client.search_runs([exp_id], run_view_type=ViewType.DELETED_ONLY)
    }
    both = {r.info.run_id for r in client.search_runs([exp_id], run_view_type=ViewType.ALL)}
    assert (active, deleted, both) == ({keep}, {gone}, {keep, gone})
    client.restore_run(gone)
    assert {r.info.run_id for r in client.search_runs([exp_id])} == {keep, gone}


def test_missing_run_errors(client: MlflowClient, root: httpx.Client) -> None:
    missing = "0" * 32
    raises_code("RESOURCE_DOES_NOT_EXIST", lambda: client.get_run(missing))
    raises_code("RESOURCE_DOES_NOT_EXIST", lambda: client.log_metric(missing, "m", 1.0))
    assert_mlflow_error(
        root.get(f"{API}/runs/get", params={"run_id": missing}), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    assert_mlflow_error(root.get(f"{API}/runs/get"), 400, "INVALID_PARAMETER_VALUE", "run_id")
    # MLflow answers the history of an unknown run with an empty message
    resp = root.get(f"{API}/metrics/get-history", params={"run_id": missing, "metric_key": "m"})
    assert resp.status_code == 200 and resp.json() == {}
    raises_code("RESOURCE_DOES_NOT_EXIST", lambda: client.create_run("987654"))


def test_nested_runs_and_inputs(tracking_uri: str, api: httpx.Client) -> None:
    mlflow.set_experiment(unique("nested"))
    with mlflow.start_run() as parent, mlflow.start_run(nested=True) as child:
        mlflow.log_metric("x", 1.0)
        frame = pd.DataFrame({"a": [1, 2]})
        mlflow.log_input(mlflow.data.from_pandas(frame), "training")
    found = mlflow.search_runs(
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'", output_format="list"
    )
    assert [r.info.run_id for r in found] == [child.info.run_id]
    assert get_run(api, child.info.run_id)["parent_run_id"] == parent.info.run_id
    assert mlflow.get_run(child.info.run_id).info.status == "FINISHED"


def test_mlflow_runs_are_trainyard_runs_and_back(client: MlflowClient, api: httpx.Client) -> None:
    exp_id = client.create_experiment(unique("both"))
    run_id = client.create_run(exp_id, run_name="via-mlflow").info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("rmse", 41.5, _now(), 0)],
        params=[Param("alpha", "0.5")],
        tags=[RunTag("source", "mlflow")],
    )
    native = api.post(
        "/runs/search",
        json={"experiment_ids": [exp_id], "filter": "metrics.rmse < 42 and params.alpha = '0.5'"},
    ).json()["runs"]
    assert [r["run_id"] for r in native] == [run_id]
    assert native[0]["name"] == "via-mlflow" and native[0]["tags"]["source"] == "mlflow"

    made = create_run(api, exp_id, name="via-native", tags={"source": "native"})
    ok = api.post(
        f"/runs/{made['run_id']}/log-batch",
        json={"metrics": [{"key": "rmse", "value": 39.0, "step": 0}], "params": {"alpha": "0.7"}},
    )
    assert ok.status_code == 200, ok.text
    seen = client.search_runs([exp_id], "params.alpha = '0.7'")
    assert [r.info.run_id for r in seen] == [made["run_id"]]
    assert seen[0].info.run_name == "via-native"
    assert seen[0].data.tags["mlflow.runName"] == "via-native"
    assert seen[0].data.metrics == {"rmse": 39.0}
    by_tag = client.search_runs([exp_id], "tags.mlflow.runName = 'via-native'")
    assert [r.info.run_id for r in by_tag] == [made["run_id"]]
