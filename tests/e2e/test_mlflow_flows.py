"""Whole MLflow-instrumented flows against a real server, unchanged but for the tracking URI.

Seed 001 (ten Ridge runs on the diabetes data, pick the best, download its model) written with
MLflow calls, ``mlflow.sklearn.autolog()`` in a training script run as its own process, and the
same data read back through Trainyard's SDK: one store, two APIs.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

import trainyard
from tests.server.mlflow.conftest import use_server
from tests.support import RunningServer


@pytest.fixture
def tracking_uri(sqlite_server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from use_server(sqlite_server, monkeypatch)


def test_seed_001_diabetes_with_mlflow_calls(tracking_uri: str, tmp_path: Path) -> None:
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=66)
    exp = mlflow.set_experiment("diabetes-mlflow")
    for alpha in np.arange(0.0, 1.0, 0.1):
        with mlflow.start_run(run_name=f"ridge-{alpha:.1f}"):
            model = Ridge(alpha=alpha).fit(X_train, y_train)
            rmse = float(np.sqrt(mean_squared_error(y_test, model.predict(X_test))))
            mlflow.log_param("alpha", f"{alpha:.1f}")
            mlflow.log_metric("alpha_value", float(alpha))
            mlflow.log_metric("rmse", rmse)
            model_file = tmp_path / f"model_alpha_{alpha:.1f}.pkl"
            model_file.write_bytes(pickle.dumps(model))
            mlflow.log_artifact(str(model_file), artifact_path="outputs")

    runs = mlflow.search_runs(
        [exp.experiment_id], order_by=["metrics.rmse ASC"], output_format="list"
    )
    assert len(runs) == 10
    rmses = [r.data.metrics["rmse"] for r in runs]
    assert rmses == sorted(rmses)
    best = runs[0]
    files = [f.path for f in MlflowClient().list_artifacts(best.info.run_id, "outputs")]
    assert files == [f"outputs/model_alpha_{best.data.params['alpha']}.pkl"]
    local = mlflow.artifacts.download_artifacts(
        run_id=best.info.run_id, artifact_path=files[0], dst_path=str(tmp_path / "best")
    )
    restored = pickle.loads(Path(local).read_bytes())
    rmse = float(np.sqrt(mean_squared_error(y_test, restored.predict(X_test))))
    assert rmse == pytest.approx(best.data.metrics["rmse"])

    # the same runs, through Trainyard's own SDK
    ty_exp = trainyard.connect(tracking_uri).experiment("diabetes-mlflow")
    ty_best = ty_exp.best_run("rmse", goal="min")
    assert ty_best is not None and ty_best.run_id == best.info.run_id
    assert ty_best.get_file_names() == files
    assert len(list(ty_exp.runs())) == 10


def test_trainyard_sdk_runs_are_visible_to_mlflow(tracking_uri: str) -> None:
    exp = trainyard.connect(tracking_uri).experiment("from-sdk")
    with exp.start_run(name="sdk-run") as run:
        run.log_params({"alpha": "0.3"})
        for step in range(5):
            run.log("loss", 1.0 / (step + 1))
    found = mlflow.search_runs(
        [exp.experiment_id], filter_string="params.alpha = '0.3'", output_format="list"
    )
    assert [r.info.run_id for r in found] == [run.run_id]
    assert found[0].info.run_name == "sdk-run" and found[0].info.status == "FINISHED"
    history = MlflowClient().get_metric_history(run.run_id, "loss")
    assert [p.value for p in history] == [1.0 / (s + 1) for s in range(5)]


AUTOLOG_SCRIPT = textwrap.dedent(
    """
    import mlflow
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    mlflow.set_experiment("autolog")
    mlflow.sklearn.autolog()
    X, y = load_diabetes(return_X_y=True)
    with mlflow.start_run(run_name="auto") as run:
        Ridge(alpha=0.3).fit(X, y)
    print(run.info.run_id)
    """
)


def test_sklearn_autolog_script(tracking_uri: str, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(AUTOLOG_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k.startswith(("MLFLOW_", "DO_NOT", "PATH"))}
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr.decode()
    run_id = proc.stdout.decode().split()[-1]
    run = MlflowClient().get_run(run_id)
    assert run.data.params["alpha"] == "0.3"
    assert run.data.tags["estimator_name"] == "Ridge"
    assert "training_root_mean_squared_error" in run.data.metrics
    assert run.info.status == "FINISHED" and run.info.run_name == "auto"
    [output] = run.outputs.model_outputs
    X, y = load_diabetes(return_X_y=True)
    loaded = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    expected = Ridge(alpha=0.3).fit(X, y).predict(X[:10])
    np.testing.assert_allclose(loaded.predict(X[:10]), expected)
    assert mlflow.get_logged_model(output.model_id).source_run_id == run_id


def test_registered_model_alias_flow(tracking_uri: str) -> None:
    """The issue's flow: ``log_model`` with ``registered_model_name``, an alias, and
    ``models:/NAME@ALIAS`` loaded by MLflow; the same version is Trainyard's, in ONNX."""
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.2, random_state=66)
    model = Ridge(alpha=0.3).fit(X_train, y_train)
    mlflow.set_experiment("diabetes-registry")
    with mlflow.start_run() as run:
        mlflow.log_metric("rmse", 53.0)
        info = mlflow.sklearn.log_model(
            model, name="model", input_example=X_train[:5], registered_model_name="diabetes-ridge"
        )
    assert str(info.registered_model_version) == "1"
    client = MlflowClient()
    client.set_registered_model_alias("diabetes-ridge", "champion", "1")

    loaded = mlflow.pyfunc.load_model("models:/diabetes-ridge@champion")
    np.testing.assert_allclose(loaded.predict(X_test), model.predict(X_test))
    version = client.get_model_version_by_alias("diabetes-ridge", "champion")
    assert (version.version, version.run_id, version.status) == ("1", run.info.run_id, "READY")

    # the same registry through Trainyard's REST API: an ONNX version that passed parity
    with httpx.Client(base_url=f"{tracking_uri}/api/v1/workspaces/default") as api:
        ty_model = api.get("/models/diabetes-ridge").json()
        assert (ty_model["aliases"], ty_model["latest_version"]) == ({"champion": 1}, 1)
        v1 = api.get("/models/diabetes-ridge/versions/1").json()
    assert (v1["status"], v1["format"], v1["run_id"]) == ("READY", "onnx", run.info.run_id)
    assert v1["parity"]["passed"] and v1["parity"]["rows"] == 5
    assert v1["metrics"] == {"rmse": 53.0}

    # ... and through the SDK: the ONNX model predicts what the original does
    ws = trainyard.connect(tracking_uri)
    onnx_model = ws.models.get("diabetes-ridge@champion").load()
    np.testing.assert_allclose(onnx_model.predict(X_test), model.predict(X_test), rtol=1e-4)


class _Doubler(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        return np.asarray(model_input) * 2  # (no type hints: MLflow would read a schema off them)


@pytest.mark.filterwarnings("ignore::UserWarning")  # MLflow's advice on type hints
def test_unconvertible_flavor_still_works_through_mlflow(tracking_uri: str) -> None:
    """A flavor Trainyard cannot convert is registered, aliased and loaded as in MLflow; in
    Trainyard's registry it is a FAILED version saying why."""
    mlflow.set_experiment("custom-pyfunc")
    with mlflow.start_run():
        mlflow.pyfunc.log_model(
            name="doubler", python_model=_Doubler(), registered_model_name="doubler"
        )
    client = MlflowClient()
    client.set_registered_model_alias("doubler", "prod", "1")
    loaded = mlflow.pyfunc.load_model("models:/doubler@prod")
    np.testing.assert_allclose(loaded.predict(np.ones((2, 3))), np.full((2, 3), 2.0))
    with httpx.Client(base_url=f"{tracking_uri}/api/v1/workspaces/default") as api:
        v1 = api.get("/models/doubler/versions/1").json()
    assert v1["status"] == "FAILED" and "python_function" in v1["status_reason"]
