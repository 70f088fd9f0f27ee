"""A run's inputs (data sets and models, logged through MLflow) in the native API and the SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import trainyard
from tests.server.helpers import create_experiment, create_run, get_run
from tests.support import RunningServer
from trainyard import schemas
from trainyard.client import Workspace

MLFLOW = "/api/2.0/mlflow"
SOURCE = '{"url": "https://example.com/iris.csv"}'
SCHEMA = '{"mlflow_colspec": [{"name": "x", "type": "double"}]}'


def _dataset(name: str, context: str | None = None, **tags: str) -> dict[str, Any]:
    dataset = {
        "name": name,
        "digest": f"{name}-d",
        "source_type": "http",
        "source": SOURCE,
        "schema": SCHEMA,
    }
    all_tags = dict(tags, **({"mlflow.data.context": context} if context else {}))
    return {"dataset": dataset, "tags": [{"key": k, "value": v} for k, v in all_tags.items()]}


def _model(root: httpx.Client, experiment_id: str) -> str:
    made = root.post(f"{MLFLOW}/logged-models", json={"experiment_id": experiment_id, "name": "m"})
    assert made.status_code == 200, made.text
    return str(made.json()["model"]["info"]["model_id"])


def _log(root: httpx.Client, run_id: str, datasets: list[Any], models: list[str]) -> None:
    body = {"run_id": run_id, "datasets": datasets, "models": [{"model_id": m} for m in models]}
    resp = root.post(f"{MLFLOW}/runs/log-inputs", json=body)
    assert resp.status_code == 200, resp.text


@pytest.fixture
def logged(root: httpx.Client, api: httpx.Client) -> dict[str, Any]:
    """An experiment with three runs: ``a`` used two data sets and a model, ``b`` one data set
    with an extra tag, ``c`` nothing."""
    exp = create_experiment(api)
    runs = {n: create_run(api, exp["experiment_id"], name=n)["run_id"] for n in "abc"}
    model = _model(root, exp["experiment_id"])
    _log(root, runs["a"], [_dataset("train", "training"), _dataset("holdout", "eval")], [model])
    _log(root, runs["b"], [_dataset("train", "tuning", origin="s3")], [])
    return {"experiment": exp, "runs": runs, "model": model}


def test_get_run_shows_inputs(api: httpx.Client, logged: dict[str, Any]) -> None:
    runs = logged["runs"]
    got = get_run(api, runs["a"])["inputs"]
    assert got == {
        "datasets": [
            {
                "name": "train",
                "digest": "train-d",
                "source_type": "http",
                "source": SOURCE,
                "schema": SCHEMA,
                "profile": None,
                "context": "training",
                "tags": {},
            },
            {
                "name": "holdout",
                "digest": "holdout-d",
                "source_type": "http",
                "source": SOURCE,
                "schema": SCHEMA,
                "profile": None,
                "context": "eval",
                "tags": {},
            },
        ],
        "models": [{"model_id": logged["model"]}],
    }
    b = get_run(api, runs["b"])["inputs"]["datasets"]
    assert [(d["context"], d["tags"]) for d in b] == [("tuning", {"origin": "s3"})]
    assert get_run(api, runs["c"])["inputs"] == {"datasets": [], "models": []}


def test_search_and_changes_show_inputs(api: httpx.Client, logged: dict[str, Any]) -> None:
    runs = logged["runs"]
    found = api.post(
        "/runs/search", json={"experiment_ids": [logged["experiment"]["experiment_id"]]}
    )
    assert found.status_code == 200, found.text
    by_name = {r["name"]: r["inputs"] for r in found.json()["runs"]}
    assert [d["name"] for d in by_name["a"]["datasets"]] == ["train", "holdout"]
    assert by_name["a"]["models"] == [{"model_id": logged["model"]}]
    assert [d["context"] for d in by_name["b"]["datasets"]] == ["tuning"]
    assert by_name["c"] == {"datasets": [], "models": []}
    page = api.post(
        "/runs/search",
        json={"experiment_ids": [logged["experiment"]["experiment_id"]], "max_results": 1},
    ).json()
    assert len(page["runs"]) == 1 and "inputs" in page["runs"][0]
    ended = api.patch(f"/runs/{runs['a']}", json={"status": "FINISHED"}).json()
    assert len(ended["inputs"]["datasets"]) == 2
    assert len(api.delete(f"/runs/{runs['a']}").json()["inputs"]["models"]) == 1


def test_openapi_documents_the_inputs(root: httpx.Client) -> None:
    spec = root.get("/openapi.json").json()["components"]["schemas"]
    assert set(spec["RunDatasetInput"]["properties"]) == {
        "name",
        "digest",
        "source_type",
        "source",
        "schema",
        "profile",
        "context",
        "tags",
    }
    assert "inputs" in spec["Run"]["properties"]


@pytest.fixture
def sdk(server: RunningServer) -> Iterator[Workspace]:
    """The SDK on the module's server."""
    with trainyard.connect(server.url) as ws:
        yield ws


def test_sdk_run_has_typed_inputs(sdk: Workspace, logged: dict[str, Any]) -> None:
    runs = logged["runs"]
    run = sdk.get_run(runs["a"])
    assert isinstance(run.inputs, schemas.RunInputs)
    train, holdout = run.inputs.datasets
    assert (train.name, train.context, holdout.context) == ("train", "training", "eval")
    assert json.loads(train.schema_ or "")["mlflow_colspec"][0]["name"] == "x"
    assert train.model_dump()["schema"] == SCHEMA  # dumped under its wire name
    assert [m.model_id for m in run.inputs.models] == [logged["model"]]
    assert sdk.get_run(runs["c"]).inputs == schemas.RunInputs()
    exp = sdk.get_experiment(logged["experiment"]["name"])
    seen = {r.info.name: r.inputs for r in exp.runs()}
    assert seen["b"].datasets[0].tags == {"origin": "s3"}
    assert seen["c"].models == []
