"""MLflow's model registry routes on Trainyard's registry, with the real client (both backends).

Versions made from sources outside Trainyard's artifact store are cheap (nothing to convert:
they are FAILED in Trainyard, READY for MLflow); the ones made by ``log_model`` are converted.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, Ridge

from tests.server.helpers import unique
from tests.server.mlflow.helpers import assert_mlflow_error, raises_code
from tests.server.test_models import tiny_onnx, upload
from tests.support import RunningServer

API = "/api/2.0/mlflow"
OUTSIDE = "s3://elsewhere/model"
FAST = {"pip_requirements": []}  # skips the client's requirement inference (a subprocess)


def _versions(client: MlflowClient, name: str, count: int) -> list[str]:
    return [client.create_model_version(name, OUTSIDE).version for _ in range(count)]


def test_registered_model_routes(
    client: MlflowClient, root: httpx.Client, api: httpx.Client
) -> None:
    name = unique("rm")
    made = client.create_registered_model(name, tags={"team": "a"}, description="first")
    assert (made.name, made.tags, made.description) == (name, {"team": "a"}, "first")
    raises_code("RESOURCE_ALREADY_EXISTS", lambda: client.create_registered_model(name))
    assert_mlflow_error(
        root.post(f"{API}/registered-models/create", json={"name": name}),
        400,
        "RESOURCE_ALREADY_EXISTS",
    )
    assert_mlflow_error(
        root.get(f"{API}/registered-models/get", params={"name": "nope-" + name}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert_mlflow_error(
        root.post(f"{API}/registered-models/create", json={}), 400, "INVALID_PARAMETER_VALUE"
    )
    raises_code("INVALID_PARAMETER_VALUE", lambda: client.create_registered_model("a b/c"))
    raises_code(
        "INVALID_PARAMETER_VALUE",
        lambda: client.set_registered_model_tag(name, "trainyard.mlflow.source", "x"),
    )

    client.update_registered_model(name, description="second")
    client.set_registered_model_tag(name, "stage", "prod")
    client.delete_registered_model_tag(name, "team")
    client.delete_registered_model_tag(name, "never-set")  # not an error, as in MLflow
    got = client.get_registered_model(name)
    assert (got.description, got.tags) == ("second", {"stage": "prod"})
    native = api.get(f"/models/{name}").json()  # one registry: Trainyard sees the same model
    assert (native["description"], native["tags"]) == ("second", {"stage": "prod"})

    _versions(client, name, 2)
    client.set_registered_model_alias(name, "champion", "2")
    new = unique("renamed")
    client.rename_registered_model(name, new)
    assert client.get_registered_model(new).aliases == {"champion": "2"}
    raises_code("RESOURCE_DOES_NOT_EXIST", lambda: client.get_registered_model(name))
    assert [v.version for v in client.search_model_versions(f"name = '{new}'")] == ["2", "1"]
    other = client.create_registered_model(unique("other")).name
    raises_code("RESOURCE_ALREADY_EXISTS", lambda: client.rename_registered_model(new, other))

    client.delete_registered_model(new)
    raises_code("RESOURCE_DOES_NOT_EXIST", lambda: client.get_registered_model(new))
    raises_code("RESOURCE_DOES_NOT_EXIST", lambda: client.delete_registered_model(new))
    assert api.get(f"/models/{new}").status_code == 404


def test_workspace_header_selects_the_registry(client: MlflowClient, root: httpx.Client) -> None:
    ws = unique("ws")
    assert root.put(f"/api/v1/workspaces/{ws}").status_code == 200
    name = unique("wsm")
    mlflow.set_workspace(ws)
    try:
        client.create_registered_model(name)
        client.create_model_version(name, OUTSIDE)
        assert [m.name for m in client.search_registered_models()] == [name]
    finally:
        mlflow.set_workspace(None)
    raises_code("RESOURCE_DOES_NOT_EXIST", lambda: client.get_registered_model(name))
    listed = root.get(f"/api/v1/workspaces/{ws}/models").json()["models"]
    assert [(m["name"], m["version_count"]) for m in listed] == [(name, 1)]


def test_search_registered_models(client: MlflowClient, root: httpx.Client) -> None:
    prefix = unique("search")
    names = [f"{prefix}-{i}" for i in range(5)]
    for i, name in enumerate(names):
        client.create_registered_model(name, tags={"parity": str(i % 2)})
    found = client.search_registered_models(f"name LIKE '{prefix}-%'")
    assert [m.name for m in found] == names
    assert [m.name for m in client.search_registered_models(f"name = '{names[3]}'")] == [names[3]]
    odd = client.search_registered_models(f"name LIKE '{prefix}%' and tags.parity = '1'")
    assert [m.name for m in odd] == [names[1], names[3]]
    desc = client.search_registered_models(f"name LIKE '{prefix}%'", order_by=["name DESC"])
    assert [m.name for m in desc] == names[::-1]
    pages: list[str] = []
    token = None
    while True:
        page = client.search_registered_models(
            f"name ILIKE '{prefix.upper()}%'", max_results=2, page_token=token
        )
        pages += [m.name for m in page]
        token = page.token
        if not token:
            break
    assert pages == names
    for bad in ("metrics.x > 1", "name = 'a' OR name = 'b'", "nope = 'x'"):
        assert_mlflow_error(
            root.get(f"{API}/registered-models/search", params={"filter": bad}),
            400,
            "INVALID_PARAMETER_VALUE",
        )
    assert_mlflow_error(
        root.get(f"{API}/registered-models/search", params={"max_results": "1001"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_model_version_routes(
    client: MlflowClient, root: httpx.Client, api: httpx.Client, run: dict[str, Any]
) -> None:
    name = client.create_registered_model(unique("mv")).name
    v = client.create_model_version(name, OUTSIDE, tags={"k": "v"}, description="d")
    assert (v.version, v.source, v.status, v.tags, v.description) == (
        "1",
        OUTSIDE,
        "READY",  # MLflow's files are where MLflow said; only Trainyard could not convert it
        {"k": "v"},
        "d",
    )
    native = api.get(f"/models/{name}/versions/1").json()
    assert native["status"] == "FAILED" and "artifact store" in native["status_reason"]
    assert "Trainyard could not convert" in (v.status_message or "")
    assert client.get_model_version_download_uri(name, "1") == OUTSIDE

    client.update_model_version(name, "1", description="new")
    client.set_model_version_tag(name, "1", "k2", "v2")
    client.delete_model_version_tag(name, "1", "k")
    got = client.get_model_version(name, "1")
    assert (got.description, got.tags) == ("new", {"k2": "v2"})
    assert api.get(f"/models/{name}/versions/1").json()["description"] == "new"

    raises_code("RESOURCE_DOES_NOT_EXIST", lambda: client.get_model_version(name, "9"))
    raises_code("RESOURCE_DOES_NOT_EXIST", lambda: client.create_model_version("nope-x", OUTSIDE))
    assert_mlflow_error(
        root.get(f"{API}/model-versions/get", params={"name": name, "version": "abc"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "version",
    )
    assert_mlflow_error(
        root.post(f"{API}/model-versions/create", json={"name": name}),
        400,
        "INVALID_PARAMETER_VALUE",
        "source",
    )
    assert_mlflow_error(
        root.post(f"{API}/model-versions/create", json={"name": name, "source": "models:/m-nope"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )

    _versions(client, name, 2)
    client.delete_model_version(name, "2")
    raises_code("RESOURCE_DOES_NOT_EXIST", lambda: client.get_model_version(name, "2"))
    assert [x.version for x in client.search_model_versions(f"name = '{name}'")] == ["3", "1"]
    assert client.create_model_version(name, OUTSIDE).version == "4"  # numbers are not reused

    # a FAILED version recorded through Trainyard's own API has no MLflow files at all
    failed = api.post(f"/models/{name}/versions", json={"run_id": run["run_id"], "failure": "no"})
    assert failed.status_code == 201, failed.text
    mv = client.get_model_version(name, "5")
    assert (mv.status, mv.status_message, mv.run_id) == ("FAILED_REGISTRATION", "no", run["run_id"])
    raises_code("INVALID_PARAMETER_VALUE", lambda: client.get_model_version_download_uri(name, "5"))


def test_a_served_version_is_not_deleted(
    client: MlflowClient, root: httpx.Client, api: httpx.Client
) -> None:
    name = client.create_registered_model(unique("served")).name
    assert upload(api, name, 1, tiny_onnx()).status_code == 201
    ep = unique("ep")
    assert api.post("/endpoints", json={"name": ep, "auth": "none"}).status_code == 201
    made = api.post(f"/endpoints/{ep}/deployments", json={"name": "blue", "model": f"{name}:1"})
    assert made.status_code == 201, made.text

    served = f"{name}:1 is served by deployment 'blue' of endpoint '{ep}'"
    refused = raises_code("INVALID_PARAMETER_VALUE", lambda: client.delete_model_version(name, "1"))
    assert served in refused.message
    refused = raises_code("INVALID_PARAMETER_VALUE", lambda: client.delete_registered_model(name))
    assert f"model '{name}' cannot be deleted" in refused.message and served in refused.message
    assert_mlflow_error(
        root.request("DELETE", f"{API}/model-versions/delete", json={"name": name, "version": "1"}),
        400,
        "INVALID_PARAMETER_VALUE",
        served,
    )
    assert client.get_model_version(name, "1").status == "READY"

    assert api.delete(f"/endpoints/{ep}").status_code == 204
    client.delete_model_version(name, "1")
    client.delete_registered_model(name)
    raises_code("RESOURCE_DOES_NOT_EXIST", lambda: client.get_registered_model(name))


@pytest.mark.filterwarnings("ignore:.*stages:FutureWarning")
def test_search_model_versions_and_stages(client: MlflowClient, root: httpx.Client) -> None:
    name = client.create_registered_model(unique("sv")).name
    _versions(client, name, 4)
    client.set_model_version_tag(name, "2", "good", "yes")
    assert [v.version for v in client.search_model_versions(f"name='{name}'")] == [
        "4",
        "3",
        "2",
        "1",
    ]
    tagged = client.search_model_versions(f"name = '{name}' and tags.good = 'yes'")
    assert [v.version for v in tagged] == ["2"]
    ordered = client.search_model_versions(
        f"name = '{name}'", order_by=["version_number ASC"], max_results=3
    )
    assert [v.version for v in ordered] == ["1", "2", "3"] and ordered.token
    rest = client.search_model_versions(
        f"name = '{name}'", order_by=["version_number ASC"], page_token=ordered.token
    )
    assert [v.version for v in rest] == ["4"] and not rest.token
    assert client.search_model_versions(f"name = '{name}' and run_id = 'abc'") == []
    assert_mlflow_error(
        root.get(f"{API}/model-versions/search", params={"filter": "params.a = 'b'"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )

    client.transition_model_version_stage(name, "1", "Production")
    client.transition_model_version_stage(name, "3", "production", archive_existing_versions=True)
    assert client.get_model_version(name, "1").current_stage == "Archived"
    latest = client.get_latest_versions(name, stages=["Production"])
    assert [(v.version, v.current_stage) for v in latest] == [("3", "Production")]
    every = {v.current_stage: v.version for v in client.get_latest_versions(name)}
    assert every == {"None": "4", "Production": "3", "Archived": "1"}
    raises_code(
        "INVALID_PARAMETER_VALUE",
        lambda: client.transition_model_version_stage(name, "2", "Shipped"),
    )


def test_aliases_are_trainyards(
    tracking_uri: str, client: MlflowClient, root: httpx.Client, api: httpx.Client
) -> None:
    X, y = load_diabetes(return_X_y=True)
    name = unique("alias")
    mlflow.set_experiment(unique("alias-exp"))
    with mlflow.start_run():
        mlflow.sklearn.log_model(
            Ridge().fit(X, y), name="m", input_example=X[:3], registered_model_name=name, **FAST
        )
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(Ridge(alpha=2.0).fit(X, y), name="m", input_example=X[:3], **FAST)
    again = mlflow.register_model(f"runs:/{run.info.run_id}/m", name)  # the name exists
    assert (again.version, again.run_id) == ("2", run.info.run_id)
    assert api.get(f"/models/{name}/versions/2").json()["parity"]["passed"]
    client.delete_model_version(name, "2")
    copy = client.copy_model_version(f"models:/{name}/1", unique("copy"))
    assert copy.source == f"models:/{name}/1"
    assert api.get(f"/models/{copy.name}/versions/1").json()["status"] == "READY"
    uri = client.get_model_version_download_uri(copy.name, "1")
    assert uri == client.get_model_version_download_uri(name, "1")
    assert uri.startswith("mlflow-artifacts:/") and "/models/m-" in uri
    client.create_model_version(name, OUTSIDE)  # version 3: FAILED for Trainyard
    client.set_registered_model_alias(name, "champion", "1")
    assert client.get_model_version_by_alias(name, "champion").version == "1"
    assert api.get(f"/models/{name}/aliases/champion").json()["version"] == 1

    # set through Trainyard, seen by MLflow
    assert api.put(f"/models/{name}/aliases/staging", json={"version": 1}).status_code == 200
    assert client.get_registered_model(name).aliases == {"champion": "1", "staging": "1"}

    # an alias on a version Trainyard cannot serve is kept for MLflow only
    client.set_registered_model_alias(name, "challenger", "3")
    got = client.get_model_version_by_alias(name, "challenger")
    assert (got.version, got.aliases) == ("3", ["challenger"])
    assert api.get(f"/models/{name}/aliases/challenger").status_code == 404
    client.set_registered_model_alias(name, "champion", "3")  # moves off Trainyard's
    assert api.get(f"/models/{name}/aliases/champion").status_code == 404
    assert client.get_registered_model(name).aliases == {
        "challenger": "3",
        "champion": "3",
        "staging": "1",
    }
    client.set_registered_model_alias(name, "champion", "1")  # and back
    assert api.get(f"/models/{name}/aliases/champion").json()["version"] == 1

    client.delete_registered_model_alias(name, "staging")
    client.delete_registered_model_alias(name, "challenger")
    client.delete_registered_model_alias(name, "never-set")  # not an error, as in MLflow
    assert client.get_registered_model(name).aliases == {"champion": "1"}
    err = raises_code(
        "INVALID_PARAMETER_VALUE", lambda: client.get_model_version_by_alias(name, "staging")
    )
    assert "alias staging not found" in err.message
    for reserved in ("latest", "v3"):
        raises_code(
            "INVALID_PARAMETER_VALUE",
            lambda a=reserved: client.set_registered_model_alias(name, a, "1"),  # type: ignore[misc]
        )
    raises_code(
        "RESOURCE_DOES_NOT_EXIST", lambda: client.set_registered_model_alias(name, "x", "9")
    )
    assert_mlflow_error(
        root.get(f"{API}/registered-models/alias", params={"name": "nope-x", "alias": "a"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )

    # renaming moves the files: a new model under the old name does not touch them
    sha = api.get(f"/models/{name}/versions/1").json()["sha256"]
    renamed = unique("alias-renamed")
    client.rename_registered_model(name, renamed)
    with mlflow.start_run():
        mlflow.sklearn.log_model(
            Ridge(alpha=9.0).fit(X, y), name="m", input_example=X[:3], registered_model_name=name
        )
    moved = api.get(f"/models/{renamed}/versions/1/download")
    assert moved.status_code == 200 and hashlib.sha256(moved.content).hexdigest() == sha
    assert api.get(f"/models/{name}/versions/1").json()["sha256"] != sha

    client.delete_model_version(renamed, "1")  # aliases go with their version
    assert client.get_registered_model(renamed).aliases == {}


def _logged_version(name: str, log: Any) -> dict[str, Any]:
    mlflow.set_experiment(unique("flavors"))
    with mlflow.start_run():
        info = log(name)
    return {"version": info.registered_model_version, "model_id": info.model_id}


@pytest.mark.parametrize("flavor", ["sklearn-pickle", "lightgbm", "xgboost", "no-example"])
def test_flavors_are_converted_to_onnx(
    server: RunningServer, tracking_uri: str, client: MlflowClient, api: httpx.Client, flavor: str
) -> None:
    X, y = load_iris(return_X_y=True)
    name = unique(flavor)
    if flavor == "sklearn-pickle":  # pickled: loaded because a contributor logged it here
        model: Any = LogisticRegression(max_iter=300).fit(X, y)
        kw: dict[str, Any] = {"serialization_format": "cloudpickle", "input_example": X[:5]}
        log = mlflow.sklearn.log_model
    elif flavor == "lightgbm":
        import lightgbm

        model = lightgbm.LGBMClassifier(n_estimators=5, verbose=-1).fit(X, y)
        kw, log = {"input_example": X[:5]}, mlflow.lightgbm.log_model
    elif flavor == "xgboost":
        import xgboost

        model = xgboost.XGBRegressor(n_estimators=5).fit(X, y)
        kw, log = {"input_example": X[:5]}, mlflow.xgboost.log_model
    else:
        model = LogisticRegression(max_iter=300).fit(X, y)
        kw, log = {}, mlflow.sklearn.log_model
    got = _logged_version(
        name, lambda n: log(model, name="m", registered_model_name=n, **kw, **FAST)
    )
    native = api.get(f"/models/{name}/versions/{got['version']}").json()
    mv = client.get_model_version(name, got["version"])
    assert (mv.status, mv.source) == ("READY", f"models:/{got['model_id']}")
    if flavor == "no-example":
        assert native["status"] == "FAILED" and "input example" in native["status_reason"]
        assert "input example" in (mv.status_message or "")
        return
    assert native["status"] == "READY", native
    assert (native["format"], native["parity"]["passed"]) == ("onnx", True)
    assert native["run_id"] == mv.run_id
    loaded = mlflow.pyfunc.load_model(f"models:/{name}/{got['version']}")
    np.testing.assert_allclose(loaded.predict(X[:10]), model.predict(X[:10]))
