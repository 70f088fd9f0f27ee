"""The model registry API against a real server, on SQLite and PostgreSQL: good and bad input."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import onnx
import onnx.helper as h
import pytest

from tests.server.helpers import assert_error, unique
from tests.support import RunningServer


def tiny_onnx(scale: float = 2.0, op: str = "Mul", k_type: int = onnx.TensorProto.FLOAT) -> bytes:
    """A valid one-node model, y = x * scale (another scale gives other bytes)."""
    graph = h.make_graph(
        [h.make_node(op, ["x", "k"], ["y"])],
        "tiny",
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [None, 3])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [None, 3])],
        [h.make_tensor("k", k_type, [1], [int(scale) if k_type != 1 else scale])],
    )
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)], producer_name="test")
    model.ir_version = 8
    return model.SerializeToString()


PARITY_OK = {
    "passed": True,
    "rows": 100,
    "rtol": 1e-4,
    "atol": 1e-5,
    "compared": ["values"],
    "label_mismatches": 0,
    "value_mismatches": 0,
    "max_abs_diff": 1e-6,
    "max_rel_diff": 1e-7,
}
PARITY_BAD = {**PARITY_OK, "passed": False, "value_mismatches": 7, "max_abs_diff": 0.25}


def new_model(api: httpx.Client, **body: Any) -> str:
    name = unique("m")
    resp = api.post("/models", json={"name": name, **body})
    assert resp.status_code == 201, resp.text
    return name


def upload(api: httpx.Client, name: str, version: int, content: bytes) -> httpx.Response:
    return api.put(
        f"/models/{name}/versions/{version}",
        content=content,
        headers={"Content-Type": "application/octet-stream"},
    )


def model_files(server: RunningServer, name: str) -> list[Path]:
    root = server.home / "artifacts" / "models" / "default" / name
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_create_get_list_update(api: httpx.Client) -> None:
    name = new_model(api, description="churn model", tags={"team": "growth"})
    got = api.get(f"/models/{name}").json()
    assert got["description"] == "churn model" and got["tags"] == {"team": "growth"}
    assert got["latest_version"] is None and got["version_count"] == 0 and got["aliases"] == {}
    assert_error(api.post("/models", json={"name": name}), 409, "ALREADY_EXISTS", contains=name)
    listed = api.get("/models", params={"name_contains": name}).json()
    assert [m["name"] for m in listed["models"]] == [name]
    patched = api.patch(f"/models/{name}", json={"description": "new", "tags": {"k": "v"}})
    assert patched.json()["description"] == "new"
    assert patched.json()["tags"] == {"team": "growth", "k": "v"}


def test_bad_model_input(api: httpx.Client, server: RunningServer) -> None:
    assert_error(api.post("/models", json={"name": "bad name"}), 400, "INVALID_ARGUMENT")
    assert_error(api.post("/models", json={"name": "mv-" + "a" * 32}), 400, "INVALID_ARGUMENT")
    assert_error(api.post("/models", json={}), 400, "INVALID_ARGUMENT", field="name")
    assert_error(
        api.post("/models", json={"name": "x", "colour": 1}),
        400,
        "INVALID_ARGUMENT",
        field="colour",
    )
    assert_error(api.get("/models", params={"max_results": 0}), 400, "INVALID_ARGUMENT")
    assert_error(api.get("/models", params={"page_token": "nope"}), 400, "INVALID_ARGUMENT")
    other = httpx.post(f"{server.url}/api/v1/workspaces/nowhere/models", json={"name": "m"})
    assert_error(other, 404, "NOT_FOUND", contains="nowhere")


def test_unknown_model_is_404_everywhere(api: httpx.Client) -> None:
    for resp in (
        api.get("/models/nope"),
        api.patch("/models/nope", json={"description": "x"}),
        api.delete("/models/nope"),
        api.get("/models/nope/versions"),
        api.get("/models/nope/versions/1"),
        upload(api, "nope", 1, tiny_onnx()),
        api.put("/models/nope/aliases/champion", json={"version": 1}),
        api.get("/model-versions/nope@champion"),
        api.get("/model-versions/nope"),
        api.get("/model-versions/mv-" + "0" * 32),
    ):
        assert_error(resp, 404, "NOT_FOUND")


def test_upload_is_checked_numbered_and_idempotent(
    api: httpx.Client, server: RunningServer
) -> None:
    name = new_model(api)
    first = upload(api, name, 1, tiny_onnx(2.0))
    assert first.status_code == 201, first.text
    v1 = first.json()
    assert v1["version"] == 1 and v1["source"] == "upload" and v1["status"] == "READY"
    assert v1["model_id"].startswith("mv-") and v1["parity"] is None and not v1["forced"]
    assert v1["signature"]["inputs"] == [{"name": "x", "type": "float32", "shape": [None, 3]}]
    assert v1["signature"]["outputs"][0]["name"] == "y"
    again = upload(api, name, 1, tiny_onnx(2.0))  # a retried upload: same answer, 200
    assert again.status_code == 200 and again.json()["model_id"] == v1["model_id"]
    assert_error(upload(api, name, 1, tiny_onnx(3.0)), 409, "CONFLICT", contains="immutable")
    err = assert_error(upload(api, name, 5, tiny_onnx(3.0)), 409, "CONFLICT")
    assert err["details"] == {"next_version": 2}
    assert upload(api, name, 2, tiny_onnx(3.0)).status_code == 201
    assert_error(upload(api, name, 0, tiny_onnx(3.0)), 400, "INVALID_ARGUMENT")
    assert_error(upload(api, name, "x", tiny_onnx(3.0)), 400, "INVALID_ARGUMENT")  # type: ignore[arg-type]
    model = api.get(f"/models/{name}").json()
    assert (model["latest_version"], model["version_count"]) == (2, 2)
    assert len(model_files(server, name)) == 2
    download = api.get(f"/models/{name}/versions/1/download")
    assert download.content == tiny_onnx(2.0)
    assert download.headers["x-trainyard-model-id"] == v1["model_id"]
    assert f'filename="{name}-v1.onnx"' in download.headers["content-disposition"]
    native = api.get(f"/models/{name}/versions/1/download", params={"native": "true"})
    assert_error(native, 404, "NOT_FOUND", contains="without its native model")


@pytest.mark.parametrize(
    ("content", "check", "fragment"),
    [
        (b"", "empty", "is empty"),
        (b"PK\x03\x04 this is a zip file, not onnx", "parse", "not an ONNX model"),
        (tiny_onnx(op="NoSuchOp"), "onnx.checker", "fails the ONNX checker"),
        # float times int64: the checker does not infer types, ONNX Runtime refuses the graph
        (tiny_onnx(k_type=onnx.TensorProto.INT64), "onnxruntime", "ONNX Runtime cannot load it"),
    ],
    ids=["empty", "not-onnx", "checker", "onnxruntime"],
)
def test_corrupt_upload_is_refused_and_nothing_is_stored(
    api: httpx.Client, server: RunningServer, content: bytes, check: str, fragment: str
) -> None:
    name = new_model(api)
    err = assert_error(upload(api, name, 1, content), 400, "INVALID_ARGUMENT", contains=fragment)
    assert err["details"]["check"] == check
    assert api.get(f"/models/{name}/versions").json()["versions"] == []
    assert api.get(f"/models/{name}").json()["latest_version"] is None
    assert model_files(server, name) == []
    assert upload(api, name, 1, tiny_onnx()).json()["version"] == 1  # the number was not used


def test_aliases_resolve_move_and_refuse(api: httpx.Client) -> None:
    name = new_model(api)
    for i in (1, 2):
        assert upload(api, name, i, tiny_onnx(float(i))).status_code == 201
    v = api.put(f"/models/{name}/aliases/champion", json={"version": 1})
    assert v.status_code == 200 and v.json()["aliases"] == ["champion"]
    assert api.get(f"/models/{name}/aliases/champion").json()["version"] == 1
    assert api.get(f"/model-versions/{name}@champion").json()["version"] == 1
    assert api.get(f"/model-versions/{name}:2").json()["version"] == 2
    latest = api.get(f"/model-versions/{name}").json()
    assert latest["version"] == 2
    assert api.get(f"/model-versions/{latest['model_id']}").json()["version"] == 2
    ref_download = api.get(f"/model-versions/{name}@champion/download")
    assert ref_download.content == tiny_onnx(1.0)
    moved = api.put(f"/models/{name}/aliases/champion", json={"version": 2}).json()
    assert moved["version"] == 2 and api.get(f"/models/{name}").json()["aliases"] == {"champion": 2}
    assert_error(
        api.put(f"/models/{name}/aliases/champion", json={"version": 9}),
        404,
        "NOT_FOUND",
        contains="no version 9",
    )
    assert_error(
        api.put(f"/models/{name}/aliases/latest", json={"version": 1}), 400, "INVALID_ARGUMENT"
    )
    assert_error(
        api.put(f"/models/{name}/aliases/9x", json={"version": 1}), 400, "INVALID_ARGUMENT"
    )
    assert_error(
        api.put(f"/models/{name}/aliases/a", json={"version": 0}),
        400,
        "INVALID_ARGUMENT",
        field="version",
    )
    assert_error(api.get(f"/model-versions/{name}:x"), 400, "INVALID_ARGUMENT")
    assert_error(api.get(f"/model-versions/{name}@nope"), 404, "NOT_FOUND", contains="nope")
    assert api.delete(f"/models/{name}/aliases/champion").status_code == 204
    assert_error(api.delete(f"/models/{name}/aliases/champion"), 404, "NOT_FOUND")


def test_alias_moves_atomically_under_readers(api: httpx.Client, server: RunningServer) -> None:
    name = new_model(api)
    for i in (1, 2):
        upload(api, name, i, tiny_onnx(float(i)))
    api.put(f"/models/{name}/aliases/live", json={"version": 1})
    seen: list[int] = []
    stop = threading.Event()

    def read() -> None:
        with httpx.Client(base_url=server.api, timeout=30) as c:
            while not stop.is_set():
                resp = c.get(f"/model-versions/{name}@live")
                seen.append(resp.json()["version"] if resp.status_code == 200 else -1)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    for i in range(20):
        assert api.put(f"/models/{name}/aliases/live", json={"version": 1 + i % 2}).is_success
    stop.set()
    for t in readers:
        t.join()
    assert seen and set(seen) <= {1, 2}, set(seen)


def _run_with_file(api: httpx.Client, path: str, content: bytes, metrics: bool = True) -> str:
    exp = api.post("/experiments", json={"name": unique("exp")}).json()
    run = api.post("/runs", json={"experiment_id": exp["experiment_id"]}).json()
    assert api.put(f"/runs/{run['run_id']}/artifacts/{path}", content=content).status_code == 201
    if metrics:
        batch = {"metrics": [{"key": "rmse", "value": 1.5, "step": 0, "timestamp": 1}]}
        api.post(f"/runs/{run['run_id']}/log-batch", json=batch)
    return run["run_id"]  # type: ignore[no-any-return]


def test_version_from_a_run(api: httpx.Client, server: RunningServer) -> None:
    name = new_model(api)
    run_id = _run_with_file(api, "m/model.onnx", tiny_onnx(4.0))
    api.put(f"/runs/{run_id}/artifacts/m/model.pkl", content=b"pickle bytes")
    body = {
        "run_id": run_id,
        "artifact_path": "m/model.onnx",
        "native_artifact_path": "m/model.pkl",
        "parity": PARITY_OK,
        "tags": {"stage": "dev"},
    }
    resp = api.post(f"/models/{name}/versions", json=body)
    assert resp.status_code == 201, resp.text
    v = resp.json()
    assert (v["source"], v["run_id"], v["artifact_path"]) == ("run", run_id, "m/model.onnx")
    assert v["metrics"] == {"rmse": 1.5} and v["parity"] == PARITY_OK and v["has_native"]
    assert v["tags"] == {"stage": "dev"} and v["signature"]["inputs"][0]["name"] == "x"
    native = api.get(f"/models/{name}/versions/1/download", params={"native": True})
    assert native.content == b"pickle bytes"
    refused = api.post(f"/models/{name}/versions", json={**body, "parity": PARITY_BAD})
    err = assert_error(refused, 409, "CONFLICT", contains="7 values off")
    assert err["details"]["max_abs_diff"] == 0.25
    forced = api.post(
        f"/models/{name}/versions", json={**body, "parity": PARITY_BAD, "force": True}
    )
    assert forced.status_code == 201 and forced.json()["forced"] is True
    assert forced.json()["version"] == 2  # the refusal used no number


def test_bad_versions_from_a_run(api: httpx.Client, server: RunningServer) -> None:
    name = new_model(api)
    run_id = _run_with_file(api, "m/model.onnx", b"\x08\x07garbage")
    missing_run = {"run_id": "f" * 32, "artifact_path": "m/model.onnx"}
    assert_error(api.post(f"/models/{name}/versions", json=missing_run), 404, "NOT_FOUND")
    missing_file = {"run_id": run_id, "artifact_path": "nope.onnx"}
    assert_error(api.post(f"/models/{name}/versions", json=missing_file), 404, "NOT_FOUND")
    no_path = {"run_id": run_id}
    assert_error(api.post(f"/models/{name}/versions", json=no_path), 400, "INVALID_ARGUMENT")
    corrupt = {"run_id": run_id, "artifact_path": "m/model.onnx"}
    err = assert_error(api.post(f"/models/{name}/versions", json=corrupt), 400, "INVALID_ARGUMENT")
    assert run_id in err["message"]
    assert api.get(f"/models/{name}/versions").json()["versions"] == []
    assert model_files(server, name) == []
    bad_parity = {**corrupt, "parity": {"passed": "maybe"}}
    assert_error(
        api.post(f"/models/{name}/versions", json=bad_parity),
        400,
        "INVALID_ARGUMENT",
        field="parity.passed",
    )


def test_failed_version_records_why(api: httpx.Client) -> None:
    name = new_model(api)
    run_id = _run_with_file(api, "x.txt", b"x")
    body = {"run_id": run_id, "failure": "skl2onnx could not convert Foo"}
    v = api.post(f"/models/{name}/versions", json=body).json()
    assert (v["status"], v["status_reason"]) == ("FAILED", "skl2onnx could not convert Foo")
    assert v["metrics"] == {"rmse": 1.5}
    assert_error(api.get(f"/models/{name}/versions/1/download"), 409, "CONFLICT", contains="FAILED")
    assert_error(
        api.put(f"/models/{name}/aliases/champion", json={"version": 1}),
        409,
        "CONFLICT",
        contains="READY",
    )
    assert_error(api.get(f"/model-versions/{name}"), 404, "NOT_FOUND", contains="no READY")


def test_delete_version_and_model(api: httpx.Client, server: RunningServer) -> None:
    name = new_model(api)
    for i in (1, 2):
        upload(api, name, i, tiny_onnx(float(i)))
    api.put(f"/models/{name}/aliases/champion", json={"version": 2})
    assert api.delete(f"/models/{name}/versions/2").status_code == 204
    assert_error(api.get(f"/models/{name}/versions/2"), 404, "NOT_FOUND")
    assert_error(api.delete(f"/models/{name}/versions/2"), 404, "NOT_FOUND")
    assert api.get(f"/models/{name}").json()["aliases"] == {}
    assert len(model_files(server, name)) == 1
    assert upload(api, name, 3, tiny_onnx(3.0)).status_code == 201  # 2 is never reused
    assert api.delete(f"/models/{name}").status_code == 204
    assert_error(api.get(f"/models/{name}"), 404, "NOT_FOUND")
    assert model_files(server, name) == []


def _deploy(api: httpx.Client, endpoint: str, deployment: str, model: str) -> None:
    if api.get(f"/endpoints/{endpoint}").status_code == 404:
        assert api.post("/endpoints", json={"name": endpoint, "auth": "none"}).status_code == 201
    body = {"name": deployment, "model": model}
    resp = api.post(f"/endpoints/{endpoint}/deployments", json=body)
    assert resp.status_code == 201, resp.text


def test_a_served_version_cannot_be_deleted(api: httpx.Client, server: RunningServer) -> None:
    name = new_model(api)
    ids = [upload(api, name, i, tiny_onnx(float(i))).json()["model_id"] for i in (1, 2, 3)]
    ep = unique("ep")
    ep2 = ep + "-2"  # after ep: deployments are named by endpoint, then name
    _deploy(api, ep, "blue", f"{name}:1")
    _deploy(api, ep2, "green", f"{name}:2")

    err = assert_error(
        api.delete(f"/models/{name}/versions/1"),
        409,
        "CONFLICT",
        contains=f"{name}:1 is served by deployment 'blue' of endpoint '{ep}' (workspace "
        "default): update or delete that deployment first",
    )
    assert err["details"] == {
        "deployments": [
            {
                "endpoint": ep,
                "deployment": "blue",
                "model": name,
                "version": 1,
                "model_id": ids[0],
            }
        ]
    }
    download = api.get(f"/models/{name}/versions/1/download")
    assert download.status_code == 200 and download.content == tiny_onnx(1.0)

    err = assert_error(
        api.delete(f"/models/{name}"),
        409,
        "CONFLICT",
        contains=(
            f"model '{name}' cannot be deleted: {name}:1 is served by deployment 'blue' of "
            f"endpoint '{ep}'; {name}:2 is served by deployment 'green' of endpoint '{ep2}'",
            "update or delete those deployments first",
        ),
    )
    assert {
        (d["endpoint"], d["deployment"], d["version"]) for d in err["details"]["deployments"]
    } == {
        (ep, "blue", 1),
        (ep2, "green", 2),
    }
    assert api.get(f"/models/{name}").json()["version_count"] == 3
    assert len(model_files(server, name)) == 3

    assert api.delete(f"/models/{name}/versions/3").status_code == 204  # served by nobody
    moved = api.patch(f"/endpoints/{ep}/deployments/blue", json={"model": f"{name}:2"})
    assert moved.status_code == 200, moved.text
    assert api.delete(f"/models/{name}/versions/1").status_code == 204  # blue moved away
    assert_error(
        api.delete(f"/models/{name}/versions/2"),
        409,
        "CONFLICT",
        contains=(
            f"{name}:2 is served by deployment 'blue' of endpoint '{ep}' and deployment 'green' "
            f"of endpoint '{ep2}'",
            "update or delete those deployments first",
        ),
    )
    assert api.delete(f"/endpoints/{ep2}").status_code == 204
    assert api.delete(f"/endpoints/{ep}/deployments/blue").status_code == 204
    assert api.delete(f"/models/{name}").status_code == 204
    assert model_files(server, name) == []
    assert api.delete(f"/endpoints/{ep}").status_code == 204
