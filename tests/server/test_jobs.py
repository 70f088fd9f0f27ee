"""The jobs and assets API with curl-like calls, on both backends: good and bad input.

A bad reference, a misspelt key or a missing input answers a precise 400/404 and creates
nothing; a good job runs, is shown back as submitted, and streams its logs.
"""

from __future__ import annotations

import os

import httpx

from tests.server.helpers import assert_error, unique, wait_job


def _upload(api: httpx.Client, kind: str, name: str, version: str, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        resp = api.put(f"/{kind}/{name}/versions/{version}/files/{path}", content=data)
        assert resp.status_code == 201, resp.text
        assert resp.json()["size"] == len(data)


def test_computes_local_by_default_and_ray_needs_an_address(api: httpx.Client) -> None:
    local = api.get("/computes").json()["computes"][0]
    assert (local["name"], local["type"], local["slots"]) == ("local", "local", os.cpu_count())
    assert_error(
        api.put("/computes/r", json={"type": "ray"}), 400, "INVALID_ARGUMENT", contains="address"
    )
    assert_error(
        api.put("/computes/r", json={"type": "k8s"}), 400, "INVALID_ARGUMENT", field="type"
    )
    ray = api.put("/computes/r", json={"type": "ray", "address": "http://127.0.0.1:8265"})
    assert ray.status_code == 200 and ray.json()["slots"] == 4
    assert api.get("/computes/r").json()["address"] == "http://127.0.0.1:8265"
    assert_error(api.get("/computes/nope"), 404, "NOT_FOUND", contains="compute 'nope'")


def test_environment_versions_are_idempotent_and_immutable(api: httpx.Client) -> None:
    name = unique("env")
    url = f"/environments/{name}/versions/1"
    first = api.put(url, json={"requirements": ["scikit-learn"], "tags": {"a": "1"}})
    assert first.status_code == 201 and first.json()["hash"]
    again = api.put(url, json={"requirements": ["scikit-learn"], "tags": {"a": "2"}})
    assert again.status_code == 200 and again.json()["tags"] == {"a": "2"}
    assert_error(
        api.put(url, json={"requirements": ["numpy"]}), 409, "CONFLICT", contains="cannot change"
    )
    assert_error(
        api.put(url, json={"requirement": ["x"]}), 400, "INVALID_ARGUMENT", field="requirement"
    )
    assert_error(api.put(f"/environments/{name}/versions/latest", json={}), 400, "INVALID_ARGUMENT")
    assert api.get(f"/environments/{name}/versions/latest").json()["version"] == "1"
    names = [e["name"] for e in api.get("/environments").json()["environments"]]
    assert names[0] == "python" and name in names
    assert_error(
        api.get(f"/environments/{name}/versions/9"), 404, "NOT_FOUND", contains=f"{name}:9"
    )


def test_data_and_code_uploads(api: httpx.Client) -> None:
    name = unique("iris")
    assert_error(
        api.put(f"/data/{name}/versions/1", json={"type": "uri_file"}),
        400,
        "INVALID_ARGUMENT",
        contains="no uploaded files",
    )
    assert_error(
        api.put(f"/data/{name}/versions/1", json={"type": "uri_file", "path": "/etc/passwd"}),
        400,
        "INVALID_ARGUMENT",
        contains="http(s) URL",
    )
    _upload(api, "data", name, "1", {"iris.csv": b"a,b\n1,2\n"})
    data = api.put(f"/data/{name}/versions/1", json={"type": "uri_file"})
    assert data.status_code == 201 and data.json()["path"].endswith("/iris.csv")
    late = api.put(f"/data/{name}/versions/1/files/more.csv", content=b"x")
    assert_error(late, 409, "CONFLICT", contains="cannot change")
    _upload(api, "data", name, "2", {"a.csv": b"1", "b.csv": b"2"})
    assert_error(
        api.put(f"/data/{name}/versions/2", json={"type": "uri_file"}),
        400,
        "INVALID_ARGUMENT",
        contains="holds one file",
    )
    assert api.put(f"/data/{name}/versions/2", json={"type": "table"}).json()["files"] == 2
    code = unique("src")
    _upload(api, "code", code, "1", {"train.py": b"print(1)\n", "lib/util.py": b"X = 1\n"})
    first = api.put(f"/code/{code}/versions/1", json={})
    assert first.status_code == 201 and first.json()["files"] == 2
    assert api.put(f"/code/{code}/versions/1", json={}).status_code == 200
    assert code in [c["name"] for c in api.get("/code").json()["code"]]
    traversal = api.put(f"/code/{code}/versions/2/files/..%2F..%2Fx.py", content=b"x")
    assert traversal.status_code in (400, 404)


def test_bad_documents_get_precise_errors_and_nothing_runs(api: httpx.Client) -> None:
    name = unique("bad")
    cases = [
        ({"commnd": "echo"}, 400, "INVALID_ARGUMENT", "commnd"),
        ({"command": "echo", "environment": "missing:1"}, 404, "NOT_FOUND", "environment"),
        ({"command": "echo", "code": "nocode:3"}, 404, "NOT_FOUND", "code nocode:3"),
        ({"command": "echo", "compute": "gpu"}, 404, "NOT_FOUND", "compute 'gpu'"),
        ({"command": "cat ${{inputs.iris}}"}, 400, "INVALID_ARGUMENT", "no input 'iris'"),
        (
            {"command": "cat ${{inputs.iris}}", "inputs": {"iris": {"type": "uri_file"}}},
            400,
            "INVALID_ARGUMENT",
            "path",
        ),
        (
            {"command": "x", "inputs": {"iris": {"type": "uri_file", "pth": "a:1"}}},
            400,
            "INVALID_ARGUMENT",
            "pth",
        ),
        ({"command": "x", "limits": {"timeout": 0}}, 400, "INVALID_ARGUMENT", "limits.timeout"),
        ({"command": "x", "type": "pipeline"}, 400, "INVALID_ARGUMENT", "type must be"),
        ({"command": "x", "name": "other"}, 400, "INVALID_ARGUMENT", "URL says"),
    ]
    for body, status, code, fragment in cases:
        assert_error(api.put(f"/jobs/{name}", json=body), status, code, contains=fragment)
    assert_error(api.get(f"/jobs/{name}"), 404, "NOT_FOUND", contains=name)
    assert name not in [j["name"] for j in api.get("/jobs").json()["jobs"]]


def test_a_job_runs_and_is_shown_as_submitted(api: httpx.Client) -> None:
    name = unique("job")
    doc = {
        "command": "python -c \"import sys; print('hello', '${{inputs.who}}'); sys.exit(0)\"",
        "inputs": {"who": "world"},
        "experiment_name": "rest-jobs",
        "tags": {"k": "v"},
    }
    created = api.put(f"/jobs/{name}", json=doc)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "Queued" and created.json()["run_id"]
    assert api.put(f"/jobs/{name}", json=doc).status_code == 200  # same document: same job
    assert_error(api.put(f"/jobs/{name}", json={**doc, "command": "true"}), 409, "ALREADY_EXISTS")
    job = wait_job(api, name)
    assert job["status"] == "Completed" and job["exit_code"] == 0, job
    assert [h["status"] for h in job["status_history"]] == [
        "Queued",
        "Preparing",
        "Running",
        "Completed",
    ]
    assert job["command"] == doc["command"] and job["inputs"] == {"who": "world"}
    assert job["resolved"]["environment"]["name"] == "python"
    logs = api.get(f"/jobs/{name}/logs", params={"stream": "stdout"})
    assert logs.text == "hello world\n"
    assert logs.headers["trainyard-log-complete"] == "true"
    assert logs.headers["trainyard-next-offset"] == str(len("hello world\n"))
    tail = api.get(f"/jobs/{name}/logs", params={"stream": "stdout", "offset": 6})
    assert tail.text == "world\n"
    assert_error(api.get(f"/jobs/{name}/logs", params={"stream": "x"}), 400, "INVALID_ARGUMENT")
    run = api.get(f"/runs/{job['run_id']}").json()
    assert run["status"] == "FINISHED" and run["tags"]["trainyard.job"] == name
    assert_error(api.post(f"/jobs/{name}/cancel"), 409, "CONFLICT", contains="Completed")
    generated = api.post("/jobs", json={"command": "exit 4"})
    assert generated.status_code == 201
    failed = wait_job(api, generated.json()["name"])
    assert failed["status"] == "Failed" and failed["exit_code"] == 4
    listed = api.get("/jobs", params={"max_results": 1}).json()
    assert listed["jobs"][0]["name"] == failed["name"] and listed["next_page_token"]
    only = api.get("/jobs", params={"status": "Failed"}).json()["jobs"]
    assert {j["status"] for j in only} == {"Failed"}
