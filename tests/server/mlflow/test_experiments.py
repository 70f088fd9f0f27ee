"""MLflow's experiment routes with the real client, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import ViewType

from tests.server.helpers import create_experiment, unique
from tests.server.mlflow.conftest import use_server
from tests.server.mlflow.helpers import assert_mlflow_error, raises_code
from tests.support import RunningServer, start_server
from trainyard._version import __version__

API = "/api/2.0/mlflow"


def test_default_experiment_and_proxied_artifact_location(client: MlflowClient) -> None:
    default = client.get_experiment("0")
    assert default.name == "Default"
    assert default.artifact_location == "mlflow-artifacts:/0"
    assert default.lifecycle_stage == "active"

    name = unique("mlexp")
    exp_id = mlflow.create_experiment(name, tags={"team": "a"})
    assert exp_id.isdigit()
    exp = client.get_experiment(exp_id)
    assert exp.name == name
    assert exp.artifact_location == f"mlflow-artifacts:/{exp_id}"
    assert exp.tags == {"team": "a"}
    assert exp.creation_time > 0
    assert client.get_experiment_by_name(name).experiment_id == exp_id
    assert client.get_experiment_by_name(unique("missing")) is None


def test_set_experiment_creates_once(tracking_uri: str) -> None:
    name = unique("setexp")
    first = mlflow.set_experiment(name)
    again = mlflow.set_experiment(name)
    assert first.experiment_id == again.experiment_id


def test_errors_use_mlflow_codes_and_statuses(client: MlflowClient, root: httpx.Client) -> None:
    name = unique("dup")
    client.create_experiment(name)
    raises_code("RESOURCE_ALREADY_EXISTS", lambda: client.create_experiment(name))
    raises_code("RESOURCE_DOES_NOT_EXIST", lambda: client.get_experiment("987654"))
    assert_mlflow_error(
        root.post(f"{API}/experiments/create", json={"name": name}), 400, "RESOURCE_ALREADY_EXISTS"
    )
    assert_mlflow_error(
        root.get(f"{API}/experiments/get", params={"experiment_id": "987654"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert_mlflow_error(
        root.post(f"{API}/experiments/create", json={}),
        400,
        "INVALID_PARAMETER_VALUE",
        "Missing value for required parameter 'name'",
    )
    assert_mlflow_error(
        root.post(f"{API}/experiments/create", content=b"{nope"), 400, "INVALID_PARAMETER_VALUE"
    )
    assert_mlflow_error(root.get(f"{API}/webhooks"), 404, "ENDPOINT_NOT_FOUND")
    assert_mlflow_error(root.get(f"{API}/runs/create"), 404, "ENDPOINT_NOT_FOUND")


def test_search_filter_order_and_pages(client: MlflowClient) -> None:
    prefix = unique("srch")
    ids = [client.create_experiment(f"{prefix}-{i}", tags={"i": str(i)}) for i in range(5)]
    found = client.search_experiments(
        filter_string=f"name LIKE '{prefix}-%'", order_by=["name DESC"]
    )
    assert [e.experiment_id for e in found] == ids[::-1]
    tagged = client.search_experiments(filter_string=f"name LIKE '{prefix}%' AND tags.i = '3'")
    assert [e.experiment_id for e in tagged] == [ids[3]]
    # default order: newest first
    page = client.search_experiments(filter_string=f"name LIKE '{prefix}%'", max_results=2)
    assert len(page) == 2 and page.token
    rest = client.search_experiments(
        filter_string=f"name LIKE '{prefix}%'", max_results=10, page_token=page.token
    )
    assert len(rest) == 3 and not rest.token
    assert {e.experiment_id for e in [*page, *rest]} == set(ids)
    raises_code(
        "INVALID_PARAMETER_VALUE", lambda: client.search_experiments(filter_string="nope = 'x'")
    )


def test_update_tags_delete_and_restore(client: MlflowClient) -> None:
    name = unique("life")
    exp_id = client.create_experiment(name)
    client.rename_experiment(exp_id, name + "-new")
    client.set_experiment_tag(exp_id, "k", "v")
    client.set_experiment_tag(exp_id, "gone", "x")
    client.delete_experiment_tag(exp_id, "gone")
    exp = client.get_experiment(exp_id)
    assert exp.name == name + "-new" and exp.tags == {"k": "v"}

    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    flt = f"name = '{name}-new'"
    assert client.search_experiments(filter_string=flt) == []
    deleted = client.search_experiments(view_type=ViewType.DELETED_ONLY, filter_string=flt)
    assert [e.experiment_id for e in deleted] == [exp_id]
    raises_code("RESOURCE_ALREADY_EXISTS", lambda: client.create_experiment(name + "-new"))
    client.restore_experiment(exp_id)
    assert [e.experiment_id for e in client.search_experiments(filter_string=flt)] == [exp_id]


def test_one_store_both_ways(client: MlflowClient, api: httpx.Client) -> None:
    made_by_mlflow = client.create_experiment(unique("frommlflow"))
    native = api.get(f"/experiments/{made_by_mlflow}").json()
    assert native["artifact_location"] == made_by_mlflow

    made_natively = create_experiment(api, tags={"origin": "native"})
    seen = client.get_experiment_by_name(made_natively["name"])
    assert seen is not None
    assert seen.experiment_id == made_natively["experiment_id"]
    assert seen.tags == {"origin": "native"}
    assert seen.artifact_location == f"mlflow-artifacts:/{made_natively['artifact_location']}"


def test_workspace_header_selects_the_workspace(
    client: MlflowClient, root: httpx.Client, api: httpx.Client
) -> None:
    ws = unique("ws")
    assert root.put(f"/api/v1/workspaces/{ws}").status_code == 200
    name = unique("inws")
    mlflow.set_workspace(ws)
    try:
        exp_id = mlflow.create_experiment(name)
        assert mlflow.get_experiment(exp_id).workspace == ws
    finally:
        mlflow.set_workspace(None)
    assert client.get_experiment_by_name(name) is None  # not in "default"
    listed = root.get(f"/api/v1/workspaces/{ws}/experiments").json()["experiments"]
    assert [e["name"] for e in listed] == [name]
    assert_mlflow_error(
        root.get(
            f"{API}/experiments/get-by-name",
            params={"experiment_name": name},
            headers={"X-MLFLOW-WORKSPACE": "no-such-ws"},
        ),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_probes_answer(root: httpx.Client) -> None:
    info = root.get("/api/3.0/mlflow/server-info").json()
    assert info["multipart_uploads_enabled"] is False
    assert root.get("/health").text == "OK"
    assert root.get("/version").text == __version__
    ajax = root.get("/ajax-api/2.0/mlflow/experiments/get", params={"experiment_id": "0"})
    assert ajax.json()["experiment"]["name"] == "Default"


@pytest.fixture
def auth_server(tmp_path: Path) -> Iterator[RunningServer]:
    srv = start_server(tmp_path, {"TRAINYARD_AUTH": "required"})
    try:
        yield srv
    finally:
        srv.stop()


def test_bearer_token_from_mlflow_tracking_token(
    auth_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = (auth_server.home / "admin.token").read_text().strip()
    client = MlflowClient(auth_server.url)
    for _ in use_server(auth_server, monkeypatch):
        raises_code("UNAUTHENTICATED", lambda: client.get_experiment("0"))
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
        exp_id = client.create_experiment(unique("authed"))
        assert client.get_experiment(exp_id).lifecycle_stage == "active"
    resp = httpx.get(f"{auth_server.url}{API}/experiments/get", params={"experiment_id": "0"})
    assert_mlflow_error(resp, 401, "UNAUTHENTICATED")
