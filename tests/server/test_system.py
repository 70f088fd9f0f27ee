"""Health, identity, workspaces, the OpenAPI document and unknown routes."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.server.helpers import assert_error, unique
from trainyard._version import __version__

DOC = Path(__file__).resolve().parents[2] / "docs" / "rest-api.md"
WS = "/api/v1/workspaces/{}"

# Every route the server has: the documented ones plus DELETE .../tags/{key}, which
# docs/rest-api.md does not list.
EXPECTED_ROUTES = {
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/whoami"),
    ("GET", "/api/v1/workspaces"),
    ("PUT", "/api/v1/workspaces/{}"),
    ("POST", "/api/v1/tokens"),
    ("GET", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/{}"),
    ("GET", WS + "/experiments"),
    ("POST", WS + "/experiments"),
    ("GET", WS + "/experiments/by-name"),
    ("GET", WS + "/experiments/{}"),
    ("PATCH", WS + "/experiments/{}"),
    ("DELETE", WS + "/experiments/{}"),
    ("POST", WS + "/experiments/{}/restore"),
    ("POST", WS + "/runs"),
    ("GET", WS + "/runs/{}"),
    ("PATCH", WS + "/runs/{}"),
    ("DELETE", WS + "/runs/{}"),
    ("POST", WS + "/runs/{}/restore"),
    ("POST", WS + "/runs/{}/log-batch"),
    ("GET", WS + "/runs/{}/metric-history"),
    ("POST", WS + "/runs/search"),
    ("PUT", WS + "/runs/{}/artifacts/{}"),
    ("GET", WS + "/runs/{}/artifacts"),
    ("GET", WS + "/runs/{}/artifacts/{}"),
    ("DELETE", WS + "/runs/{}/tags/{}"),
    # jobs and their assets (docs/jobs.md)
    ("GET", WS + "/computes"),
    ("GET", WS + "/computes/{}"),
    ("PUT", WS + "/computes/{}"),
    ("GET", WS + "/environments"),
    ("GET", WS + "/environments/{}/versions/{}"),
    ("PUT", WS + "/environments/{}/versions/{}"),
    ("GET", WS + "/data"),
    ("GET", WS + "/data/{}/versions/{}"),
    ("PUT", WS + "/data/{}/versions/{}"),
    ("PUT", WS + "/data/{}/versions/{}/files/{}"),
    ("GET", WS + "/data/{}/versions/{}/files"),
    ("GET", WS + "/data/{}/versions/{}/files/{}"),
    ("GET", WS + "/datastores"),
    ("GET", WS + "/datastores/{}"),
    ("PUT", WS + "/datastores/{}"),
    ("POST", WS + "/jobs/{}/outputs/{}/register"),
    ("GET", WS + "/code"),
    ("GET", WS + "/code/{}/versions/{}"),
    ("PUT", WS + "/code/{}/versions/{}"),
    ("PUT", WS + "/code/{}/versions/{}/files/{}"),
    ("GET", WS + "/jobs"),
    ("POST", WS + "/jobs"),
    ("GET", WS + "/jobs/{}"),
    ("PUT", WS + "/jobs/{}"),
    ("POST", WS + "/jobs/{}/cancel"),
    ("GET", WS + "/jobs/{}/logs"),
    # the model registry (docs/models.md)
    ("POST", WS + "/models"),
    ("GET", WS + "/models"),
    ("GET", WS + "/models/{}"),
    ("PATCH", WS + "/models/{}"),
    ("DELETE", WS + "/models/{}"),
    ("GET", WS + "/models/{}/versions"),
    ("POST", WS + "/models/{}/versions"),
    ("PUT", WS + "/models/{}/versions/{}"),
    ("GET", WS + "/models/{}/versions/{}"),
    ("DELETE", WS + "/models/{}/versions/{}"),
    ("GET", WS + "/models/{}/versions/{}/download"),
    ("GET", WS + "/models/{}/aliases/{}"),
    ("PUT", WS + "/models/{}/aliases/{}"),
    ("DELETE", WS + "/models/{}/aliases/{}"),
    ("GET", WS + "/model-versions/{}"),
    ("GET", WS + "/model-versions/{}/download"),
    # online endpoints (docs/serving.md); scoring itself is at the root, outside the API
    ("POST", WS + "/endpoints"),
    ("GET", WS + "/endpoints"),
    ("GET", WS + "/endpoints/{}"),
    ("PATCH", WS + "/endpoints/{}"),
    ("DELETE", WS + "/endpoints/{}"),
    ("GET", WS + "/endpoints/{}/keys"),
    ("POST", WS + "/endpoints/{}/keys/regenerate"),
    ("PUT", WS + "/endpoints/{}/traffic"),
    ("POST", WS + "/endpoints/{}/deployments"),
    ("GET", WS + "/endpoints/{}/deployments/{}"),
    ("PATCH", WS + "/endpoints/{}/deployments/{}"),
    ("DELETE", WS + "/endpoints/{}/deployments/{}"),
    ("POST", WS + "/endpoints/{}/deployments/{}/rollback"),
    ("GET", WS + "/endpoints/{}/deployments/{}/history"),
}


def _shape(path: str) -> str:
    """A path template with its parameter names dropped: ``/runs/{run_id}`` -> ``/runs/{}``."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def _documented_routes() -> set[tuple[str, str]]:
    """(method, path) of every row of the tables in docs/rest-api.md."""
    routes = set()
    for line in DOC.read_text().splitlines():
        m = re.match(r"\|\s*(GET|POST|PUT|PATCH|DELETE)\s+`([^`?]+)", line)
        if not m:
            continue
        method, path = m.groups()
        if not path.startswith("/api/"):
            path = "/api/v1/workspaces/{ws}" + path
        routes.add((method, _shape(path)))
    return routes


def test_health(root: httpx.Client) -> None:
    resp = root.get("/api/v1/health")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "version": __version__}


def test_whoami_on_loopback_is_the_anonymous_local_owner(root: httpx.Client) -> None:
    resp = root.get("/api/v1/whoami")
    assert resp.status_code == 200
    assert resp.json() == {"name": "local", "roles": {"*": "owner"}}


def test_the_default_workspace_always_exists(root: httpx.Client) -> None:
    resp = root.get("/api/v1/workspaces")
    assert resp.status_code == 200
    workspaces = resp.json()["workspaces"]
    assert "default" in [w["name"] for w in workspaces]
    assert all(set(w) == {"name", "created_at"} for w in workspaces)
    assert all(isinstance(w["created_at"], int) for w in workspaces)


def test_put_workspace_creates_once_and_is_idempotent(root: httpx.Client) -> None:
    name = unique("ws")
    first = root.put(f"/api/v1/workspaces/{name}")
    assert first.status_code == 200, first.text
    assert first.json()["name"] == name
    again = root.put(f"/api/v1/workspaces/{name}")
    assert again.status_code == 200
    assert again.json() == first.json()

    names = [w["name"] for w in root.get("/api/v1/workspaces").json()["workspaces"]]
    assert names.count(name) == 1
    assert root.get(f"/api/v1/workspaces/{name}/experiments").status_code == 200
    assert root.put("/api/v1/workspaces/default").status_code == 200


def test_a_63_character_workspace_name_is_accepted(root: httpx.Client) -> None:
    name = unique("w") + "x" * (63 - len(unique("w")))
    assert len(name) == 63
    resp = root.put(f"/api/v1/workspaces/{name}")
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize(
    "name", ["-leading-dash", "_leading", ".hidden", "a" * 64, "has%20space", "bang!", "caf%C3%A9"]
)
def test_a_bad_workspace_name_is_400_and_creates_nothing(root: httpx.Client, name: str) -> None:
    before = root.get("/api/v1/workspaces").json()
    assert_error(
        root.put(f"/api/v1/workspaces/{name}"), 400, "INVALID_ARGUMENT", contains="workspace"
    )
    assert root.get("/api/v1/workspaces").json() == before


def test_openapi_lists_exactly_the_routes(root: httpx.Client) -> None:
    resp = root.get("/openapi.json")
    assert resp.status_code == 200
    doc = resp.json()
    served = {
        (method.upper(), _shape(path))
        for path, ops in doc["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert served == EXPECTED_ROUTES


def test_openapi_lists_every_documented_route(root: httpx.Client) -> None:
    documented = _documented_routes()
    assert len(documented) == 26  # every row of the three tables was read
    served = {
        (method.upper(), _shape(path))
        for path, ops in root.get("/openapi.json").json()["paths"].items()
        for method in ops
    }
    assert documented - served == set()


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/api/v1/nope",
        "/api/v2/health",
        "/api/v1/workspaces/default/nope",
        "/api/v1/workspaces/default/runs/abc/nope",
    ],
)
def test_an_unknown_route_is_a_json_404(root: httpx.Client, path: str) -> None:
    assert_error(root.get(path), 404, "NOT_FOUND")


def test_a_wrong_method_is_a_json_405(root: httpx.Client) -> None:
    assert_error(root.post("/api/v1/health"), 405, "INVALID_ARGUMENT")
    assert_error(root.delete("/api/v1/workspaces"), 405, "INVALID_ARGUMENT")
