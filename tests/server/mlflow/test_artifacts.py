"""The artifact proxy with the real client: one artifact store behind both APIs."""

from __future__ import annotations

from pathlib import Path

import httpx
import mlflow
from mlflow import MlflowClient

from tests.server.helpers import create_run, raw_request, unique
from tests.server.mlflow.helpers import assert_mlflow_error
from tests.support import RunningServer

PROXY = "/api/2.0/mlflow-artifacts/artifacts"


def _files(client: MlflowClient, run_id: str, path: str | None = None) -> list[tuple[str, bool]]:
    return [(f.path, f.is_dir) for f in client.list_artifacts(run_id, path)]


def test_log_list_download(client: MlflowClient, api: httpx.Client, tmp_path: Path) -> None:
    run_id = client.create_run("0").info.run_id
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "a.csv").write_text("x,y\n1,2\n")
    (tmp_path / "plots" / "deep").mkdir()
    (tmp_path / "plots" / "deep" / "b.bin").write_bytes(bytes(range(256)) * 5000)
    client.log_artifact(run_id, str(tmp_path / "notes.txt"))
    client.log_artifacts(run_id, str(tmp_path / "plots"), artifact_path="plots")
    client.log_text(run_id, "text", "sub/t.txt")

    assert _files(client, run_id) == [("notes.txt", False), ("plots", True), ("sub", True)]
    assert _files(client, run_id, "plots") == [("plots/a.csv", False), ("plots/deep", True)]
    sizes = {f.path: f.file_size for f in client.list_artifacts(run_id, "plots/deep")}
    assert sizes == {"plots/deep/b.bin": 256 * 5000}

    out = tmp_path / "out"
    out.mkdir()
    got = Path(client.download_artifacts(run_id, "plots", str(out)))
    assert (got / "deep" / "b.bin").read_bytes() == bytes(range(256)) * 5000
    text = mlflow.artifacts.load_text(f"runs:/{run_id}/sub/t.txt")
    assert text == "text"

    native = api.get(f"/runs/{run_id}/artifacts", params={"recursive": "true"}).json()["files"]
    assert sorted(f["path"] for f in native) == [
        "notes.txt",
        "plots/a.csv",
        "plots/deep/b.bin",
        "sub/t.txt",
    ]
    assert api.get(f"/runs/{run_id}/artifacts/notes.txt").content == b"hello"


def test_native_uploads_are_seen_by_mlflow(
    client: MlflowClient, api: httpx.Client, experiment: dict[str, str], tmp_path: Path
) -> None:
    run = create_run(api, experiment["experiment_id"])
    put = api.put(f"/runs/{run['run_id']}/artifacts/outputs/model.pkl", content=b"\x00pickle")
    assert put.status_code == 201, put.text
    assert _files(client, run["run_id"], "outputs") == [("outputs/model.pkl", False)]
    local = client.download_artifacts(run["run_id"], "outputs/model.pkl", str(tmp_path))
    assert Path(local).read_bytes() == b"\x00pickle"


def test_proxy_answers_and_path_safety(
    client: MlflowClient, root: httpx.Client, server: RunningServer
) -> None:
    run = client.create_run("0").info
    key = run.artifact_uri.removeprefix("mlflow-artifacts:/")
    put = root.put(f"{PROXY}/{key}/a/b.txt", content=b"bytes")
    assert put.status_code == 200 and put.json() == {}
    listed = root.get(PROXY, params={"path": f"{key}/a"}).json()
    assert listed == {"files": [{"path": "b.txt", "is_dir": False, "file_size": 5}]}
    assert root.get(PROXY, params={"path": f"{key}/a/b.txt"}).json() == {}  # a file
    assert root.get(PROXY, params={"path": f"{key}/none"}).json() == {}  # missing folder
    assert root.get(PROXY, params={"path": "0"}).json() == {}  # not a run's root
    got = root.get(f"{PROXY}/{key}/a/b.txt")
    assert got.content == b"bytes" and got.headers["content-type"].startswith("text/plain")

    assert_mlflow_error(root.get(f"{PROXY}/{key}/a/none.txt"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_mlflow_error(root.get(f"{PROXY}/{key}/a"), 400, "INVALID_PARAMETER_VALUE")
    assert_mlflow_error(
        root.put(f"{PROXY}/0/loose.txt", content=b"x"), 400, "INVALID_PARAMETER_VALUE"
    )
    assert_mlflow_error(
        root.put(f"{PROXY}/0/{'0' * 32}/artifacts/x", content=b"x"), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    traversal = raw_request(server, "PUT", f"{PROXY}/{key}/../../escape.txt", body=b"x")
    assert_mlflow_error(traversal, 400, "INVALID_PARAMETER_VALUE", "'..'")
    assert root.get(f"{PROXY}/escape.txt").status_code == 404


def test_another_workspace_is_out_of_reach(root: httpx.Client) -> None:
    ws = unique("ws")
    assert root.put(f"/api/v1/workspaces/{ws}").status_code == 200
    exp = root.post(f"/api/v1/workspaces/{ws}/experiments", json={"name": "x"}).json()
    run = root.post(
        f"/api/v1/workspaces/{ws}/runs", json={"experiment_id": exp["experiment_id"]}
    ).json()
    path = f"{run['artifact_uri']}/secret.txt"
    headers = {"X-MLFLOW-WORKSPACE": ws}
    assert root.put(f"{PROXY}/{path}", content=b"s", headers=headers).status_code == 200
    assert root.get(f"{PROXY}/{path}", headers=headers).content == b"s"
    assert_mlflow_error(root.get(f"{PROXY}/{path}"), 404, "RESOURCE_DOES_NOT_EXIST")
