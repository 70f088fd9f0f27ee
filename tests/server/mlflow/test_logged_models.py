"""MLflow 3 logged models: ``log_model`` and ``runs:/`` / ``models:/`` loading, and the routes."""

from __future__ import annotations

import time

import httpx
import mlflow
import numpy as np
from mlflow import MlflowClient
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

from tests.server.helpers import unique
from tests.server.mlflow.helpers import assert_mlflow_error, raises_code

API = "/api/2.0/mlflow"


def test_log_model_then_load_it_back(tracking_uri: str, api: httpx.Client) -> None:
    X, y = load_diabetes(return_X_y=True)
    model = Ridge(alpha=0.5).fit(X, y)
    mlflow.set_experiment(unique("models"))
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", "0.5")
        mlflow.log_metric("rmse", 53.5)
        info = mlflow.sklearn.log_model(model, name="model", input_example=X[:2])
    run_id = run.info.run_id

    for uri in (f"runs:/{run_id}/model", info.model_uri):
        loaded = mlflow.pyfunc.load_model(uri)
        np.testing.assert_allclose(loaded.predict(X[:20]), model.predict(X[:20]))

    logged = mlflow.get_logged_model(info.model_id)
    assert logged.status.to_proto() == mlflow.entities.LoggedModelStatus.READY.to_proto()
    assert logged.source_run_id == run_id and logged.name == "model"
    assert logged.params == {"alpha": "0.5"}  # the client copies the run's params
    assert [m.key for m in logged.metrics] == ["rmse"]
    outputs = mlflow.get_run(run_id).outputs.model_outputs
    assert [o.model_id for o in outputs] == [info.model_id]
    found = mlflow.search_logged_models(filter_string="name = 'model'", output_format="list")
    assert [m.model_id for m in found] == [info.model_id]
    files = api.get(f"/runs/{run_id}/artifacts").json()["files"]
    assert files == []  # the model's files live under the model, not the run


def test_logged_model_routes(client: MlflowClient, root: httpx.Client) -> None:
    exp_id = client.create_experiment(unique("lm"))
    run_id = client.create_run(exp_id).info.run_id
    made = root.post(
        f"{API}/logged-models",
        json={
            "experiment_id": exp_id,
            "name": "clf",
            "model_type": "sklearn",
            "source_run_id": run_id,
            "params": [{"key": "p", "value": "1"}],
            "tags": [{"key": "t", "value": "x"}],
        },
    )
    assert made.status_code == 200, made.text
    info = made.json()["model"]["info"]
    model_id = info["model_id"]
    assert model_id.startswith("m-") and len(model_id) == 34
    assert info["status"] == "LOGGED_MODEL_PENDING"
    assert info["artifact_uri"] == f"mlflow-artifacts:/{exp_id}/models/{model_id}/artifacts"
    assert isinstance(info["creation_timestamp_ms"], int)

    client.set_logged_model_tags(model_id, {"u": "y"})
    client.delete_logged_model_tag(model_id, "t")
    client.log_model_params(model_id, {"q": "2"})
    ok = root.patch(
        f"{API}/logged-models/{model_id}",
        json={"model_id": model_id, "status": "LOGGED_MODEL_READY"},
    )
    assert ok.json()["model"]["info"]["status"] == "LOGGED_MODEL_READY"
    assert_mlflow_error(
        root.patch(f"{API}/logged-models/{model_id}", json={"status": "NOPE"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    got = client.get_logged_model(model_id)
    assert got.tags == {"u": "y"} and got.params == {"p": "1", "q": "2"}
    raises_code("INVALID_PARAMETER_VALUE", lambda: client.log_model_params(model_id, {"q": "3"}))

    ts = int(time.time() * 1000)
    second = client.create_logged_model(exp_id, name="clf", source_run_id=run_id)
    for model, rmse in ((model_id, 10.0), (second.model_id, 5.0)):
        client.log_batch(
            run_id, metrics=[mlflow.entities.Metric("rmse", rmse, ts, 0, model_id=model)]
        )
    ordered = client.search_logged_models(
        [exp_id], order_by=[{"field_name": "metrics.rmse", "ascending": True}]
    )
    assert [m.model_id for m in ordered] == [second.model_id, model_id]
    newest = client.search_logged_models([exp_id], filter_string="metrics.rmse > 7")
    assert [m.model_id for m in newest] == [model_id]
    page = client.search_logged_models([exp_id], max_results=1)
    assert [m.model_id for m in page] == [second.model_id] and page.token

    client.delete_logged_model(model_id)
    raises_code("RESOURCE_DOES_NOT_EXIST", lambda: client.get_logged_model(model_id))
    deleted = root.get(f"{API}/logged-models/{model_id}", params={"allow_deleted": "true"})
    assert deleted.status_code == 200
    assert [m.model_id for m in client.search_logged_models([exp_id])] == [second.model_id]
    assert_mlflow_error(
        root.get(f"{API}/logged-models/m-{'0' * 32}"), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    assert_mlflow_error(
        root.post(f"{API}/logged-models", json={"experiment_id": "987654"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
