"""Endpoints, deployments and scoring against a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.server.helpers import assert_error, unique
from tests.server.test_models import upload
from tests.serving.models import IRIS_COLUMNS, iris_classifier, mixed_classifier, scale_model
from tests.support import RunningServer

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]


def register(api: httpx.Client, content: bytes, name: str | None = None) -> str:
    """A new model with ``content`` as version 1; its name."""
    name = name or unique("m")
    if api.get(f"/models/{name}").status_code == 404:
        assert api.post("/models", json={"name": name}).status_code == 201
    latest = api.get(f"/models/{name}").json()["latest_version"] or 0
    resp = upload(api, name, latest + 1, content)
    assert resp.status_code == 201, resp.text
    return name


def endpoint(api: httpx.Client, auth: str = "none", **deployments: str) -> str:
    """A new endpoint with deployments ``name=model_ref``; its name."""
    name = unique("ep")
    assert api.post("/endpoints", json={"name": name, "auth": auth}).status_code == 201
    for d, model in deployments.items():
        resp = api.post(f"/endpoints/{name}/deployments", json={"name": d, "model": model})
        assert resp.status_code == 201, resp.text
    return name


@pytest.fixture(scope="module")
def iris(server: RunningServer) -> str:
    with httpx.Client(base_url=server.api, timeout=60) as api:
        return register(api, iris_classifier())


def test_endpoint_crud_and_bad_input(api: httpx.Client, iris: str) -> None:
    name = unique("ep")
    created = api.post("/endpoints", json={"name": name, "description": "iris in real time"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["auth"], body["traffic"], body["deployments"]) == ("key", {}, [])
    assert body["scoring_path"] == f"/endpoints/{name}/score" and "primary" not in body
    assert_error(api.post("/endpoints", json={"name": name}), 409, "ALREADY_EXISTS", contains=name)
    for bad in (
        {"name": "9lives"},
        {"name": "has space"},
        {"name": "ok", "auth": "maybe"},
        {"name": "ok", "colour": 1},
    ):
        assert_error(api.post("/endpoints", json=bad), 400, "INVALID_ARGUMENT")
    assert name in [e["name"] for e in api.get("/endpoints").json()["endpoints"]]
    patched = api.patch(f"/endpoints/{name}", json={"auth": "none", "description": "open"})
    assert (patched.json()["auth"], patched.json()["description"]) == ("none", "open")
    assert_error(api.get("/endpoints/nope"), 404, "NOT_FOUND", contains="nope")

    d = api.post(f"/endpoints/{name}/deployments", json={"name": "blue", "model": f"{iris}@latest"})
    assert d.status_code == 201, d.text
    assert (d.json()["model_ref"], d.json()["model_version"]) == (f"{iris}@latest", 1)
    assert api.get(f"/endpoints/{name}").json()["traffic"] == {"blue": 100}
    for bad, status, code in (
        ({"name": "blue", "model": iris}, 409, "ALREADY_EXISTS"),
        ({"name": "red", "model": f"{iris}:9"}, 404, "NOT_FOUND"),
        ({"name": "red", "model": "bad ref!"}, 400, "INVALID_ARGUMENT"),
        ({"name": "red", "model": iris, "replicas": 0}, 400, "INVALID_ARGUMENT"),
        ({"name": "red", "model": iris, "limits": {"max_rows": 0}}, 400, "INVALID_ARGUMENT"),
    ):
        assert_error(api.post(f"/endpoints/{name}/deployments", json=bad), status, code)
    got = api.get(f"/endpoints/{name}/deployments/blue").json()
    assert got["limits"] == {"max_rows": 10000, "max_body_bytes": 16 << 20, "timeout_ms": 10000}
    upd = api.patch(f"/endpoints/{name}/deployments/blue", json={"limits": {"max_rows": 5}})
    assert upd.json()["limits"]["max_rows"] == 5 and upd.json()["model_version"] == 1
    assert_error(api.get(f"/endpoints/{name}/deployments/nope"), 404, "NOT_FOUND")
    assert api.delete(f"/endpoints/{name}").status_code == 204
    assert_error(api.get(f"/endpoints/{name}"), 404, "NOT_FOUND")


def test_traffic_is_validated_and_set_at_once(api: httpx.Client, iris: str) -> None:
    name = endpoint(api, blue=iris, green=iris)
    put = api.put(f"/endpoints/{name}/traffic", json={"traffic": {"blue": 90, "green": 10}})
    assert put.status_code == 200 and put.json()["traffic"] == {"blue": 90, "green": 10}
    for bad, words in (
        ({"traffic": {"blue": 90}}, "sum to 100"),
        ({"traffic": {"blue": 50, "red": 50}}, "'red'"),
        ({"traffic": {"blue": 100}, "mirror": {"blue": 5}}, "cannot also be the mirror"),
    ):
        assert_error(
            api.put(f"/endpoints/{name}/traffic", json=bad), 400, "INVALID_ARGUMENT", contains=words
        )
    assert_error(
        api.put(f"/endpoints/{name}/traffic", json={"traffic": {"blue": 50.5}}),
        400,
        "INVALID_ARGUMENT",
    )
    assert_error(
        api.delete(f"/endpoints/{name}/deployments/green"), 409, "CONFLICT", contains="move it"
    )
    api.put(f"/endpoints/{name}/traffic", json={"traffic": {"blue": 100}, "mirror": {"green": 5}})
    assert api.delete(f"/endpoints/{name}/deployments/green").status_code == 204
    assert api.get(f"/endpoints/{name}").json()["mirror"] == {}  # mirroring stops with it


def score(root: httpx.Client, name: str, doc: Any, **headers: str) -> httpx.Response:
    return root.post(f"/endpoints/{name}/score", json=doc, headers=headers)


def test_each_payload_form_scores_the_same(
    api: httpx.Client, root: httpx.Client, iris: str
) -> None:
    name = endpoint(api, blue=iris)
    forms = [
        {"inputs": ROWS},
        [dict(zip(IRIS_COLUMNS, r, strict=True)) for r in ROWS],
        {"dataframe_split": {"columns": IRIS_COLUMNS[::-1], "data": [r[::-1] for r in ROWS]}},
    ]
    answers = [score(root, name, form) for form in forms]
    for resp in answers:
        assert resp.status_code == 200, resp.text
        assert resp.headers["x-trainyard-deployment"] == "blue"
        assert resp.headers["x-trainyard-model-version"] == f"{iris}:1"
    bodies = [r.json() for r in answers]
    assert bodies[0]["predictions"] == [0, 2] and len(bodies[0]["probabilities"][0]) == 3
    assert (bodies[0]["deployment"], bodies[0]["model"], bodies[0]["model_version"]) == (
        "blue",
        iris,
        1,
    )
    assert bodies[0] == bodies[1] == bodies[2]


def test_signature_errors_name_the_column(api: httpx.Client, root: httpx.Client, iris: str) -> None:
    name = endpoint(api, blue=iris)
    full = dict(zip(IRIS_COLUMNS, ROWS[0], strict=True))
    missing = {k: v for k, v in full.items() if k != "petal width (cm)"}
    for doc, column in (
        ([missing], "petal width (cm)"),
        ([{**full, "colour": 3}], "colour"),
        ([{**full, "sepal width (cm)": "wide"}], "sepal width (cm)"),
        (
            {"dataframe_split": {"columns": IRIS_COLUMNS[:3], "data": [[1, 2, 3]]}},
            "petal width (cm)",
        ),
    ):
        err = assert_error(score(root, name, doc), 400, "INVALID_ARGUMENT", contains=column)
        assert err["details"]["column"] == column
    assert_error(
        score(root, name, {"inputs": [[1, 2, 3]]}),
        400,
        "INVALID_ARGUMENT",
        contains="has 3 values; the model takes 4",
    )
    resp = root.post(f"/endpoints/{name}/score", content=b"{nope")
    assert_error(resp, 400, "INVALID_ARGUMENT", contains="not valid JSON")
    assert_error(score(root, "nope", {"inputs": ROWS}), 404, "NOT_FOUND")


def test_one_input_per_column_models(api: httpx.Client, root: httpx.Client) -> None:
    name = endpoint(api, blue=register(api, mixed_classifier()))
    resp = score(root, name, [{"age": 61, "income": 40_000.0, "city": "tokyo"}])
    assert resp.status_code == 200 and resp.json()["predictions"] in ([0], [1])
    err = assert_error(score(root, name, {"inputs": [[61, 1.5, 7]]}), 400, "INVALID_ARGUMENT")
    assert err["details"]["column"] == "city"


def test_open_inference_protocol_routes(api: httpx.Client, root: httpx.Client, iris: str) -> None:
    name = endpoint(api, blue=iris)
    assert root.get("/v2/health/live").json() == {"live": True}
    assert root.get("/v2/health/ready").status_code == 200
    meta = root.get(f"/v2/models/{name}").json()
    assert meta["name"] == name and meta["versions"] == ["1"]
    assert meta["inputs"] == [{"name": "X", "datatype": "FP32", "shape": [-1, 4]}]
    assert [o["name"] for o in meta["outputs"]] == ["label", "probabilities"]
    assert root.get(f"/v2/models/{name}/ready").json() == {"name": name, "ready": True}
    req = {"id": "7", "inputs": [{"name": "X", "shape": [2, 4], "datatype": "FP32", "data": ROWS}]}
    out = root.post(f"/v2/models/{name}/infer", json=req)
    assert out.status_code == 200, out.text
    doc = out.json()
    assert (doc["model_name"], doc["model_version"], doc["id"]) == (name, "1", "7")
    assert doc["outputs"][0] == {"name": "label", "shape": [2], "datatype": "INT64", "data": [0, 2]}
    bad = {"inputs": [{"name": "X", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]}
    resp = root.post(f"/v2/models/{name}/infer", json=bad)
    assert resp.status_code == 400 and "input 'X'" in resp.json()["error"]
    assert root.get("/v2/models/nope").status_code == 404
    empty = endpoint(api)
    assert root.get(f"/v2/models/{empty}/ready").status_code == 503


def test_open_inference_protocol_version_routes(
    api: httpx.Client, root: httpx.Client, iris: str
) -> None:
    """``/versions/{v}`` picks the deployment serving that model version, traffic or not."""
    other = register(api, scale_model(2.0))
    register(api, scale_model(3.0), name=other)  # version 2 of the same model
    name = endpoint(api, blue=f"{other}:1", green=f"{other}:2")
    assert api.get(f"/endpoints/{name}").json()["traffic"] == {"blue": 100, "green": 0}
    meta = root.get(f"/v2/models/{name}").json()
    assert meta["versions"] == ["1", "2"] and meta["parameters"]["deployment"] == "blue"
    meta2 = root.get(f"/v2/models/{name}/versions/2").json()
    assert (meta2["version"], meta2["parameters"]["deployment"]) == ("2", "green")
    assert root.get(f"/v2/models/{name}/versions/2/ready").json() == {"name": name, "ready": True}
    assert root.get(f"/v2/models/{name}/versions/7/ready").status_code == 503
    req = {"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [1.5, 1, 2]}]}
    for version, deployment, scale in (("1", "blue", 2.0), ("2", "green", 3.0)):
        out = root.post(f"/v2/models/{name}/versions/{version}/infer", json=req)
        assert out.status_code == 200, out.text
        doc = out.json()
        assert (doc["model_version"], doc["parameters"]["deployment"]) == (version, deployment)
        assert doc["outputs"][0]["data"] == [1.5 * scale, scale, 2 * scale]
    missing = root.post(f"/v2/models/{name}/versions/7/infer", json=req)
    assert missing.status_code == 404 and "versions served: [1, 2]" in missing.json()["error"]
    assert root.get(f"/v2/models/{name}/versions/7").status_code == 404
    mismatch = root.post(
        f"/v2/models/{name}/versions/2/infer", json=req, headers={"X-Trainyard-Deployment": "blue"}
    )
    assert mismatch.status_code == 404 and "on deployment 'blue'" in mismatch.json()["error"]
    assert root.post(f"/v2/models/{name}/versions/2/extra/infer", json=req).status_code in (
        404,
        405,
    )


def test_key_auth_401_and_regeneration(api: httpx.Client, root: httpx.Client, iris: str) -> None:
    name = endpoint(api, auth="key", blue=iris)
    keys = api.get(f"/endpoints/{name}/keys").json()
    assert set(keys) == {"primary", "secondary"} and keys["primary"] != keys["secondary"]
    assert_error(
        score(root, name, {"inputs": ROWS}), 401, "UNAUTHENTICATED", contains="needs a key"
    )
    assert_error(
        score(root, name, {"inputs": ROWS}, Authorization="Bearer tyk_wrong"),
        401,
        "UNAUTHENTICATED",
    )
    assert root.get(f"/v2/models/{name}").status_code == 401
    for which in ("primary", "secondary"):
        ok = score(root, name, {"inputs": ROWS}, Authorization=f"Bearer {keys[which]}")
        assert ok.status_code == 200, ok.text
    fresh = api.post(f"/endpoints/{name}/keys/regenerate", json={"key": "primary"}).json()
    assert fresh["secondary"] == keys["secondary"] and fresh["primary"] != keys["primary"]
    old = score(root, name, {"inputs": ROWS}, Authorization=f"Bearer {keys['primary']}")
    assert_error(old, 401, "UNAUTHENTICATED")
    assert score(
        root, name, {"inputs": ROWS}, Authorization=f"Bearer {fresh['primary']}"
    ).is_success


def test_limits_deployment_header_and_workspace_header(
    api: httpx.Client, root: httpx.Client, server: RunningServer
) -> None:
    model = register(api, scale_model(2.0))
    register(api, scale_model(3.0), model)
    name = endpoint(api, blue=f"{model}:1", green=f"{model}:2")
    row = {"inputs": [[1.0, 1.0, 1.0]]}
    assert score(root, name, row).json()["predictions"] == [[2.0, 2.0, 2.0]]
    green = score(root, name, row, **{"X-Trainyard-Deployment": "green"})
    assert green.json()["deployment"] == "green"
    assert_error(score(root, name, row, **{"X-Trainyard-Deployment": "red"}), 404, "NOT_FOUND")
    api.patch(
        f"/endpoints/{name}/deployments/blue",
        json={"limits": {"max_rows": 2, "max_body_bytes": 200}},
    )
    assert_error(
        score(root, name, {"inputs": [[1, 1, 1]] * 3}), 413, "INVALID_ARGUMENT", contains="max_rows"
    )
    assert_error(
        score(root, name, {"inputs": [[1.123456789, 1, 1]] * 2, "pad": "x" * 300}),
        413,
        "INVALID_ARGUMENT",
        contains="max_body_bytes",
    )
    other = unique("ws")
    assert root.put(f"/api/v1/workspaces/{other}").status_code == 200
    with httpx.Client(base_url=f"{server.url}/api/v1/workspaces/{other}") as api2:
        there = endpoint(api2, blue=register(api2, scale_model(5.0)))
    assert_error(score(root, there, row), 404, "NOT_FOUND", contains="default")
    answer = score(root, there, row, **{"X-Trainyard-Workspace": other})
    assert answer.json()["predictions"] == [[5.0, 5.0, 5.0]]


def test_metrics_count_requests_and_errors(
    api: httpx.Client, root: httpx.Client, iris: str
) -> None:
    name = endpoint(api, blue=iris)
    for _ in range(3):
        score(root, name, {"inputs": ROWS})
    score(root, name, {"inputs": [[1]]})
    text = root.get("/metrics").text
    labels = f'deployment="blue",endpoint="{name}",workspace="default"'
    assert f"trainyard_scoring_requests_total{{{labels}}} 4.0" in text
    assert f'trainyard_scoring_errors_total{{code="INVALID_ARGUMENT",{labels}}} 1.0' in text
    assert f"trainyard_scoring_rows_total{{{labels}}} 6.0" in text
    assert f"trainyard_scoring_latency_seconds_count{{{labels}}} 4.0" in text


def test_batching_is_validated_shown_and_switched_off(api: httpx.Client, iris: str) -> None:
    name = endpoint(api)
    path = f"/endpoints/{name}/deployments"
    for bad, field in (
        ({"batching": {"max_rows": 1}}, "batching.max_rows"),
        ({"batching": {"max_rows": 64}, "limits": {"max_rows": 32}}, "batching.max_rows"),
        ({"batching": {"max_wait_us": 0}}, "batching.max_wait_us"),
        ({"batching": {"max_wait_us": 100_001}}, "batching.max_wait_us"),
        ({"batching": {"max_rows": 8, "wait_us": 5}}, "batching.wait_us"),
    ):
        body = {"name": "blue", "model": iris, **bad}
        assert_error(api.post(path, json=body), 400, "INVALID_ARGUMENT", field=field)
    assert api.get(f"/endpoints/{name}").json()["deployments"] == []
    plain = api.post(path, json={"name": "plain", "model": iris})
    assert plain.status_code == 201 and plain.json()["batching"] is None
    created = api.post(
        path, json={"name": "blue", "model": iris, "batching": {"max_rows": 8, "max_wait_us": 700}}
    )
    assert created.status_code == 201, created.text
    assert created.json()["batching"] == {"max_rows": 8, "max_wait_us": 700}
    shown = {d["name"]: d["batching"] for d in api.get(f"/endpoints/{name}").json()["deployments"]}
    assert shown == {"blue": {"max_rows": 8, "max_wait_us": 700}, "plain": None}
    blue = f"{path}/blue"
    assert_error(
        api.patch(blue, json={"limits": {"max_rows": 4}}),
        400,
        "INVALID_ARGUMENT",
        field="batching.max_rows",
        contains="limits.max_rows",
    )
    assert api.patch(blue, json={"log_requests": True}).json()["batching"]["max_rows"] == 8
    changed = api.patch(blue, json={"batching": {"max_rows": 16}}).json()["batching"]
    assert changed == {"max_rows": 16, "max_wait_us": 500}  # a new setting, defaults filled in
    assert api.patch(blue, json={"batching": None}).json()["batching"] is None
    assert api.get(blue).json()["batching"] is None


def _batch_samples(root: httpx.Client, name: str) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    found = {}
    for family in text_string_to_metric_families(root.get("/metrics").text):
        for sample in family.samples:
            if (
                sample.name.startswith("trainyard_scoring_")
                and sample.labels.get("endpoint") == name
                and "le" not in sample.labels
                and "code" not in sample.labels
            ):
                found[sample.name] = sample.value
    return found


def test_concurrent_single_rows_are_batched_over_http(
    api: httpx.Client, root: httpx.Client, server: RunningServer, iris: str
) -> None:
    import concurrent.futures

    name = endpoint(api)
    body = {"name": "blue", "model": iris, "batching": {"max_rows": 16, "max_wait_us": 3000}}
    assert api.post(f"/endpoints/{name}/deployments", json=body).status_code == 201
    rows = [[4.0 + i / 20, 3.0, 1.0 + i / 8, i / 20] for i in range(40)]
    expected = score(root, name, {"inputs": rows}).json()  # 40 rows: more than a batch takes

    def client(part: list[int]) -> list[tuple[int, Any]]:
        with httpx.Client(base_url=server.url, timeout=30) as c:  # a connection of its own
            answers = []
            for i in part:
                resp = c.post(f"/endpoints/{name}/score", json={"inputs": [rows[i]]})
                assert resp.status_code == 200, resp.text
                assert resp.headers["x-trainyard-deployment"] == "blue"
                answers.append((i, resp.json()))
            return answers

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        parts = [list(range(k, 40, 8)) for k in range(8)]
        answers = [a for done in pool.map(client, parts) for a in done]
    for i, answer in answers:
        assert answer["predictions"] == [expected["predictions"][i]]
        assert answer["probabilities"][0] == pytest.approx(expected["probabilities"][i], rel=1e-5)
    samples = _batch_samples(root, name)
    assert samples["trainyard_scoring_requests_total"] == 41
    assert samples["trainyard_scoring_rows_total"] == 80
    assert samples["trainyard_scoring_batch_rows_sum"] == 40  # the 40-row request ran alone
    assert samples["trainyard_scoring_batch_rows_count"] < 40, samples  # fewer runs than rows
