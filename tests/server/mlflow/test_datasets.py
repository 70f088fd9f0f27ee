"""Dataset inputs (``mlflow.log_input``) with the real client, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from tests.server.helpers import unique
from tests.server.mlflow.conftest import use_server
from tests.server.mlflow.helpers import assert_mlflow_error
from tests.support import RunningServer

API = "/api/2.0/mlflow"
CONTEXT = "mlflow.data.context"


def _frame(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"x": list(range(n)), "y": [float(i) * 2 for i in range(n)]})


def _dataset(name: str, n: int = 3) -> Any:
    return mlflow.data.from_pandas(_frame(n), source=f"https://example.com/{name}.csv", name=name)


def _body(run_id: str, **dataset: Any) -> dict[str, Any]:
    full = {"name": "d", "digest": "abc", "source_type": "http", "source": '{"url": "x"}'}
    full.update(dataset)
    kept = {k: v for k, v in full.items() if v is not None}
    return {"run_id": run_id, "datasets": [{"tags": [], "dataset": kept}]}


def test_log_input_shows_in_get_run_once(tracking_uri: str) -> None:
    mlflow.set_experiment(unique("datasets"))
    train = _dataset("iris-train")
    with mlflow.start_run() as run:
        mlflow.log_input(train, context="training")
        mlflow.log_input(train, context="training")  # again: not duplicated
        mlflow.log_input(train, context="other")  # the same data: kept once, first tags stay
    inputs = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    got = inputs[0].dataset
    assert got.name == "iris-train" and got.digest == train.digest
    assert got.source_type == "http"
    assert json.loads(got.source) == {"url": "https://example.com/iris-train.csv"}
    assert json.loads(got.schema)["mlflow_colspec"][0]["name"] == "x"
    assert json.loads(got.profile) == {"num_rows": 3, "num_elements": 6}
    assert {t.key: t.value for t in inputs[0].tags} == {CONTEXT: "training"}


def test_several_inputs_in_order_and_in_search(tracking_uri: str, client: MlflowClient) -> None:
    exp_id = mlflow.set_experiment(unique("datasets")).experiment_id
    with mlflow.start_run() as a:
        mlflow.log_input(_dataset("train"), context="training")
        mlflow.log_input(_dataset("eval", 5), context="eval")
    with mlflow.start_run() as b:
        mlflow.log_input(_dataset("train"), context="tuning")
    with mlflow.start_run() as c:
        pass
    runs = {r.info.run_id: r for r in client.search_runs([exp_id])}
    assert [i.dataset.name for i in runs[a.info.run_id].inputs.dataset_inputs] == ["train", "eval"]
    b_inputs = runs[b.info.run_id].inputs.dataset_inputs
    assert [(i.dataset.name, i.tags[0].value) for i in b_inputs] == [("train", "tuning")]
    assert runs[c.info.run_id].inputs.dataset_inputs == []


def test_search_filters_on_datasets(tracking_uri: str, client: MlflowClient) -> None:
    exp_id = mlflow.set_experiment(unique("dsearch")).experiment_id
    train, holdout = _dataset("train"), _dataset("holdout", 4)
    with mlflow.start_run(run_name="a"):
        mlflow.log_input(train, context="training")
        mlflow.log_input(holdout, context="eval")
    with mlflow.start_run(run_name="b"):
        mlflow.log_input(train, context="training")
    with mlflow.start_run(run_name="c"):
        pass

    def names(f: str) -> list[str]:
        return sorted(r.info.run_name for r in client.search_runs([exp_id], f))

    assert names("datasets.name = 'train'") == ["a", "b"]
    assert names("dataset.name = 'holdout'") == ["a"]
    assert names("datasets.name != 'train'") == ["a"]  # a run matches if one data set does
    assert names(f"datasets.digest = '{holdout.digest}'") == ["a"]
    assert names(f"datasets.digest IN ('{train.digest}', 'nope')") == ["a", "b"]
    assert names("datasets.context = 'training'") == ["a", "b"]
    assert names("datasets.context != 'training'") == ["a"]
    assert names("datasets.context IN ('eval', 'x')") == ["a"]
    assert names("datasets.context NOT IN ('eval')") == ["a", "b"]
    assert names("datasets.name NOT IN ('train', 'holdout')") == []
    assert names("datasets.name = 'train' and attributes.run_name = 'b'") == ["b"]
    mine = mlflow.search_runs([exp_id], "datasets.context = 'eval'", output_format="list")
    assert [r.info.run_name for r in mine] == ["a"]


def test_bad_dataset_filters_are_invalid(root: httpx.Client) -> None:
    for f, words in [("datasets.size = 'x'", "'size'"), ("datasets.name > 'x'", "'name'")]:
        resp = root.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "filter": f})
        assert_mlflow_error(resp, 400, "INVALID_PARAMETER_VALUE", words)
    resp = root.post(
        f"{API}/runs/search", json={"experiment_ids": ["0"], "order_by": ["datasets.name"]}
    )
    assert_mlflow_error(resp, 400, "INVALID_PARAMETER_VALUE", "data sets")


@pytest.mark.parametrize("field", ["name", "digest", "source_type", "source"])
def test_missing_dataset_field_is_invalid(root: httpx.Client, field: str) -> None:
    run_id = root.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"][
        "run_id"
    ]
    resp = root.post(f"{API}/runs/log-inputs", json=_body(run_id, **{field: None}))
    assert_mlflow_error(resp, 400, "INVALID_PARAMETER_VALUE", f"datasets[0].dataset.{field}")
    got = root.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]
    assert got["inputs"] == {}  # nothing stored


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "n" * 501}, "datasets[0].dataset.name"),
        ({"digest": "d" * 37}, "datasets[0].dataset.digest"),
        ({"source_type": "s" * 37}, "datasets[0].dataset.source_type"),
        ({"source": "s" * 65_536}, "datasets[0].dataset.source"),
        ({"name": 5}, "datasets[0].dataset.name"),
    ],
)
def test_over_long_or_wrong_fields_are_invalid(
    root: httpx.Client, change: dict[str, Any], field: str
) -> None:
    run_id = root.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"][
        "run_id"
    ]
    resp = root.post(f"{API}/runs/log-inputs", json=_body(run_id, **change))
    assert_mlflow_error(resp, 400, "INVALID_PARAMETER_VALUE", field)


def test_input_tag_limits_and_raw_answer(root: httpx.Client) -> None:
    run_id = root.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"][
        "run_id"
    ]
    body = _body(run_id)
    body["datasets"][0]["tags"] = [{"key": CONTEXT, "value": "v" * 501}]
    resp = root.post(f"{API}/runs/log-inputs", json=body)
    assert_mlflow_error(resp, 400, "INVALID_PARAMETER_VALUE", "datasets[0].tags.value")
    body["datasets"][0]["tags"] = [{"key": CONTEXT, "value": "training"}]
    assert root.post(f"{API}/runs/log-inputs", json=body).status_code == 200
    got = root.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["inputs"]
    assert got == {
        "dataset_inputs": [
            {
                "tags": [{"key": CONTEXT, "value": "training"}],
                "dataset": {
                    "name": "d",
                    "digest": "abc",
                    "source_type": "http",
                    "source": '{"url": "x"}',
                },
            }
        ]
    }


def test_unknown_run_is_not_found(root: httpx.Client) -> None:
    resp = root.post(f"{API}/runs/log-inputs", json=_body("0" * 32))
    assert_mlflow_error(resp, 404, "RESOURCE_DOES_NOT_EXIST")
    resp = root.post(f"{API}/runs/log-inputs", json={"run_id": "0" * 32, "datasets": []})
    assert_mlflow_error(resp, 404, "RESOURCE_DOES_NOT_EXIST")
    resp = root.post(f"{API}/runs/log-inputs", json={"datasets": []})
    assert_mlflow_error(resp, 400, "INVALID_PARAMETER_VALUE", "run_id")


@pytest.fixture
def restartable(
    sqlite_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[RunningServer]]:
    """The SQLite server in a list, so a test can replace it with its restarted self."""
    holder = [sqlite_server]
    for _ in use_server(sqlite_server, monkeypatch):
        yield holder
    holder[-1].stop()


def test_inputs_survive_a_restart(restartable: list[RunningServer]) -> None:
    mlflow.set_experiment(unique("restart"))
    with mlflow.start_run() as run:
        mlflow.log_input(_dataset("kept"), context="training")
    restartable.append(restartable[0].restart())
    inputs = MlflowClient(restartable[-1].url).get_run(run.info.run_id).inputs.dataset_inputs
    assert [(i.dataset.name, i.tags[0].value) for i in inputs] == [("kept", "training")]
