"""Logged models used as run inputs (``log_inputs(models=...)``), with the real client."""

from __future__ import annotations

import httpx
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, LoggedModelInput

from tests.server.helpers import unique
from tests.server.mlflow.helpers import assert_mlflow_error

API = "/api/2.0/mlflow"


def _model(client: MlflowClient, exp_id: str, name: str = "clf") -> str:
    return str(client.create_logged_model(exp_id, name=name).model_id)


def test_model_inputs_show_in_get_run_once_in_order(client: MlflowClient) -> None:
    exp_id = client.create_experiment(unique("minputs"))
    first, second = _model(client, exp_id, "first"), _model(client, exp_id, "second")
    run_id = client.create_run(exp_id).info.run_id
    client.log_inputs(run_id, models=[LoggedModelInput(second)])
    client.log_inputs(run_id, models=[LoggedModelInput(first), LoggedModelInput(second)])
    client.log_inputs(run_id, models=[LoggedModelInput(first)])  # again: not duplicated
    got = client.get_run(run_id).inputs.model_inputs
    assert [m.model_id for m in got] == [second, first]
    assert client.get_run(run_id).inputs.dataset_inputs == []


def test_models_and_datasets_in_one_call_and_in_search(client: MlflowClient) -> None:
    exp_id = client.create_experiment(unique("minputs"))
    model = _model(client, exp_id)
    data = DatasetInput(Dataset("x", "abc", "http", '{"url": "https://example.com/x.csv"}'))
    a = client.create_run(exp_id).info.run_id
    b = client.create_run(exp_id).info.run_id
    client.log_inputs(a, datasets=[data], models=[LoggedModelInput(model)])
    runs = {r.info.run_id: r for r in client.search_runs([exp_id])}
    assert [m.model_id for m in runs[a].inputs.model_inputs] == [model]
    assert [d.dataset.name for d in runs[a].inputs.dataset_inputs] == ["x"]
    assert runs[b].inputs.model_inputs == []


def test_unknown_model_is_not_found_and_nothing_is_stored(root: httpx.Client) -> None:
    run_id = root.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"][
        "run_id"
    ]
    dataset = {"name": "d", "digest": "abc", "source_type": "http", "source": '{"url": "x"}'}
    body = {
        "run_id": run_id,
        "datasets": [{"dataset": dataset}],
        "models": [{"model_id": "m-" + "0" * 32}],
    }
    resp = root.post(f"{API}/runs/log-inputs", json=body)
    assert_mlflow_error(resp, 404, "RESOURCE_DOES_NOT_EXIST", "m-" + "0" * 32)
    got = root.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]
    assert got["inputs"] == {}  # the data set of the refused request was not stored either


def test_bad_model_inputs_are_invalid(root: httpx.Client) -> None:
    run_id = root.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"][
        "run_id"
    ]
    for models, field in [([{}], "models[0]"), ([{"model_id": 5}], "models[0]")]:
        resp = root.post(f"{API}/runs/log-inputs", json={"run_id": run_id, "models": models})
        assert_mlflow_error(resp, 400, "INVALID_PARAMETER_VALUE", field)
    long_id = {"model_id": "m" * 35}
    resp = root.post(f"{API}/runs/log-inputs", json={"run_id": run_id, "models": [long_id]})
    assert_mlflow_error(resp, 400, "INVALID_PARAMETER_VALUE", "models[0].model_id")


def test_model_of_another_workspace_is_not_found(root: httpx.Client) -> None:
    ws = unique("ws")
    assert root.put(f"/api/v1/workspaces/{ws}").status_code == 200
    headers = {"X-MLFLOW-WORKSPACE": ws}
    exp = root.post(f"/api/v1/workspaces/{ws}/experiments", json={"name": "x"}).json()
    made = root.post(
        f"{API}/logged-models",
        json={"experiment_id": exp["experiment_id"], "name": "elsewhere"},
        headers=headers,
    )
    assert made.status_code == 200, made.text
    model_id = made.json()["model"]["info"]["model_id"]
    run_id = root.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"][
        "run_id"
    ]
    body = {"run_id": run_id, "models": [{"model_id": model_id}]}
    assert_mlflow_error(
        root.post(f"{API}/runs/log-inputs", json=body), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    raw = root.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["inputs"]
    assert raw == {}
