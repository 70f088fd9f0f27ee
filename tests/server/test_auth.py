"""Tokens and roles on servers that require them (SQLite is enough here)."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.helpers import assert_error, unique
from tests.support import RunningServer, free_port, start_server


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A loopback server with ``TRAINYARD_AUTH=required``."""
    srv = start_server(tmp_path_factory.mktemp("authhome"), {"TRAINYARD_AUTH": "required"})
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def admin_secret(auth_server: RunningServer) -> str:
    return (auth_server.home / "admin.token").read_text().strip()


@pytest.fixture
def admin(auth_server: RunningServer, admin_secret: str) -> Iterator[httpx.Client]:
    """A client holding the bootstrap owner token."""
    headers = {"Authorization": f"Bearer {admin_secret}"}
    with httpx.Client(base_url=auth_server.url, headers=headers, timeout=60) as client:
        yield client


def _client(server: RunningServer, secret: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=60)


def _new_token(
    admin: httpx.Client, roles: dict[str, str], name: str | None = None
) -> dict[str, Any]:
    resp = admin.post("/api/v1/tokens", json={"name": name or unique("tok"), "roles": roles})
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


def _team_workspace(admin: httpx.Client) -> str:
    ws = unique("team")
    assert admin.put(f"/api/v1/workspaces/{ws}").status_code == 200
    return ws


def _unauthenticated(resp: httpx.Response) -> None:
    assert_error(resp, 401, "UNAUTHENTICATED")
    assert resp.headers["www-authenticate"].lower().startswith("bearer")


ROUTES = [
    ("GET", "/api/v1/whoami", None),
    ("GET", "/api/v1/workspaces", None),
    ("PUT", "/api/v1/workspaces/sneaky", None),
    ("GET", "/api/v1/tokens", None),
    ("POST", "/api/v1/tokens", {"name": "x", "roles": {"*": "owner"}}),
    ("DELETE", "/api/v1/tokens/abc", None),
    ("GET", "/api/v1/workspaces/default/experiments", None),
    ("POST", "/api/v1/workspaces/default/experiments", {"name": "sneaky"}),
    ("GET", "/api/v1/workspaces/default/experiments/0", None),
    ("POST", "/api/v1/workspaces/default/runs", {"experiment_id": "0"}),
    ("POST", "/api/v1/workspaces/default/runs/search", {}),
    ("GET", "/api/v1/workspaces/default/runs/abc/artifacts", None),
]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ty_not-a-real-token", "Basic YWRtaW46YWRtaW4=", "Bearer", "ty_x"],
)
def test_without_a_valid_token_every_route_is_401(
    auth_server: RunningServer, admin: httpx.Client, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    with httpx.Client(base_url=auth_server.url, headers=headers, timeout=30) as anon:
        for method, path, body in ROUTES:
            _unauthenticated(anon.request(method, path, json=body))
    names = [
        e["name"] for e in admin.get("/api/v1/workspaces/default/experiments").json()["experiments"]
    ]
    assert "sneaky" not in names
    assert [t["name"] for t in admin.get("/api/v1/tokens").json()["tokens"]].count("x") == 0
    assert "sneaky" not in [w["name"] for w in admin.get("/api/v1/workspaces").json()["workspaces"]]


def test_health_needs_no_token(auth_server: RunningServer) -> None:
    assert httpx.get(f"{auth_server.url}/api/v1/health").status_code == 200


def test_the_bootstrap_owner_token(auth_server: RunningServer, admin_secret: str) -> None:
    path = auth_server.home / "admin.token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == admin_secret + "\n"
    assert admin_secret.startswith("ty_") and len(admin_secret) > 40

    with _client(auth_server, admin_secret) as admin:
        me = admin.get("/api/v1/whoami")
        assert me.status_code == 200
        assert me.json() == {"name": "admin", "roles": {"*": "owner"}}

    log = auth_server.log()
    assert str(path) in log
    assert admin_secret not in log
    assert admin_secret[3:20] not in log


def test_a_reader_reads_but_cannot_write(auth_server: RunningServer, admin: httpx.Client) -> None:
    ws = _team_workspace(admin)
    base = f"/api/v1/workspaces/{ws}"
    exp = admin.post(f"{base}/experiments", json={"name": "shared"}).json()
    run = admin.post(f"{base}/runs", json={"experiment_id": exp["experiment_id"]}).json()
    assert (
        admin.put(f"{base}/runs/{run['run_id']}/artifacts/a.txt", content=b"data").status_code
        == 201
    )
    token = _new_token(admin, {ws: "reader"})
    assert token["roles"] == {ws: "reader"}
    assert token["secret"].startswith("ty_")

    with _client(auth_server, token["secret"]) as reader:
        me = reader.get("/api/v1/whoami").json()
        assert me == {"name": token["name"], "roles": {ws: "reader"}}
        assert [w["name"] for w in reader.get("/api/v1/workspaces").json()["workspaces"]] == [ws]

        listed = reader.get(f"{base}/experiments")
        assert listed.status_code == 200
        assert [e["name"] for e in listed.json()["experiments"]] == ["shared"]
        assert reader.get(f"{base}/runs/{run['run_id']}").status_code == 200
        assert reader.post(f"{base}/runs/search", json={}).status_code == 200
        assert reader.get(f"{base}/runs/{run['run_id']}/artifacts/a.txt").content == b"data"

        for resp in (
            reader.post(f"{base}/experiments", json={"name": "mine"}),
            reader.patch(f"{base}/experiments/{exp['experiment_id']}", json={"name": "renamed"}),
            reader.delete(f"{base}/experiments/{exp['experiment_id']}"),
            reader.post(f"{base}/runs", json={"experiment_id": exp["experiment_id"]}),
            reader.post(f"{base}/runs/{run['run_id']}/log-batch", json={"params": {"p": "1"}}),
            reader.put(f"{base}/runs/{run['run_id']}/artifacts/a.txt", content=b"overwritten"),
        ):
            assert_error(resp, 403, "PERMISSION_DENIED", contains=ws)

        for resp in (
            reader.get("/api/v1/workspaces/default/experiments"),
            reader.post("/api/v1/workspaces/default/experiments", json={"name": "mine"}),
            reader.post("/api/v1/workspaces/default/runs/search", json={}),
        ):
            assert_error(resp, 403, "PERMISSION_DENIED", contains="default")

        assert_error(reader.get("/api/v1/tokens"), 403, "PERMISSION_DENIED")
        assert_error(
            reader.post("/api/v1/tokens", json={"name": "esc", "roles": {"*": "owner"}}),
            403,
            "PERMISSION_DENIED",
        )
        assert_error(reader.put(f"/api/v1/workspaces/{unique('ws')}"), 403, "PERMISSION_DENIED")

    # nothing the reader tried was stored
    assert [e["name"] for e in admin.get(f"{base}/experiments").json()["experiments"]] == ["shared"]
    stored = admin.get(f"{base}/runs/{run['run_id']}").json()
    assert stored["params"] == {}
    assert admin.get(f"{base}/runs/{run['run_id']}/artifacts/a.txt").content == b"data"
    assert admin.post(f"{base}/runs/search", json={}).json()["runs"] == [stored]
    assert "esc" not in [t["name"] for t in admin.get("/api/v1/tokens").json()["tokens"]]


def test_a_contributor_writes_in_its_workspace_only(
    auth_server: RunningServer, admin: httpx.Client
) -> None:
    ws = _team_workspace(admin)
    base = f"/api/v1/workspaces/{ws}"
    token = _new_token(admin, {ws: "contributor"})

    with _client(auth_server, token["secret"]) as contrib:
        exp = contrib.post(f"{base}/experiments", json={"name": "mine"})
        assert exp.status_code == 201, exp.text
        run = contrib.post(f"{base}/runs", json={"experiment_id": exp.json()["experiment_id"]})
        assert run.status_code == 201
        rid = run.json()["run_id"]
        logged = contrib.post(f"{base}/runs/{rid}/log-batch", json={"params": {"p": "1"}})
        assert logged.status_code == 200
        assert contrib.put(f"{base}/runs/{rid}/artifacts/m.bin", content=b"m").status_code == 201
        done = contrib.patch(f"{base}/runs/{rid}", json={"status": "FINISHED"})
        assert done.status_code == 200

        assert_error(
            contrib.post("/api/v1/workspaces/default/experiments", json={"name": "mine"}),
            403,
            "PERMISSION_DENIED",
        )
        assert_error(contrib.get("/api/v1/tokens"), 403, "PERMISSION_DENIED")
        assert_error(contrib.put(f"/api/v1/workspaces/{ws}"), 403, "PERMISSION_DENIED")

    stored = admin.get(f"{base}/runs/{rid}").json()
    assert (stored["params"], stored["status"]) == ({"p": "1"}, "FINISHED")


def test_a_wildcard_role_covers_every_workspace(
    auth_server: RunningServer, admin: httpx.Client
) -> None:
    ws = _team_workspace(admin)
    token = _new_token(admin, {"*": "reader", ws: "contributor"})
    with _client(auth_server, token["secret"]) as client:
        assert client.get("/api/v1/workspaces/default/experiments").status_code == 200
        assert_error(
            client.post("/api/v1/workspaces/default/experiments", json={"name": unique("e")}),
            403,
            "PERMISSION_DENIED",
        )
        resp = client.post(f"/api/v1/workspaces/{ws}/experiments", json={"name": unique("e")})
        assert resp.status_code == 201


def test_the_token_list_shows_no_secrets(
    auth_server: RunningServer, admin: httpx.Client, admin_secret: str
) -> None:
    made = [_new_token(admin, {"default": "reader"}) for _ in range(2)]

    resp = admin.get("/api/v1/tokens")
    assert resp.status_code == 200
    tokens = resp.json()["tokens"]
    by_id = {t["token_id"]: t for t in tokens}
    for t in made:
        assert by_id[t["token_id"]] == {k: v for k, v in t.items() if k != "secret"}
    for t in tokens:
        assert set(t) == {"token_id", "name", "roles", "created_at", "revoked_at"}
    for secret in [admin_secret] + [t["secret"] for t in made]:
        assert secret not in resp.text
        assert secret[3:] not in resp.text


def test_revoking_a_token_makes_it_401(auth_server: RunningServer, admin: httpx.Client) -> None:
    token = _new_token(admin, {"default": "contributor"})
    with _client(auth_server, token["secret"]) as client:
        assert client.get("/api/v1/whoami").status_code == 200

        resp = admin.delete(f"/api/v1/tokens/{token['token_id']}")
        assert resp.status_code == 200, resp.text
        revoked = resp.json()
        assert revoked["token_id"] == token["token_id"]
        assert isinstance(revoked["revoked_at"], int)
        assert "secret" not in revoked

        _unauthenticated(client.get("/api/v1/whoami"))
        _unauthenticated(client.get("/api/v1/workspaces/default/experiments"))

    listed = {t["token_id"]: t for t in admin.get("/api/v1/tokens").json()["tokens"]}
    assert listed[token["token_id"]]["revoked_at"] == revoked["revoked_at"]
    again = admin.delete(f"/api/v1/tokens/{token['token_id']}")
    assert again.status_code == 200
    assert again.json()["revoked_at"] == revoked["revoked_at"]
    assert_error(admin.delete(f"/api/v1/tokens/{unique('nope')}"), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "roles": {"default": "god"}}, "roles.default"),
        ({"name": "x", "roles": {}}, "roles"),
        ({"name": "", "roles": {"default": "reader"}}, "name"),
        ({"name": "x" * 101, "roles": {"default": "reader"}}, "name"),
        ({"roles": {"default": "reader"}}, "name"),
        ({"name": "x", "roles": {"default": "reader"}, "secret": "ty_mine"}, "secret"),
    ],
)
def test_a_bad_token_request_is_400_and_issues_nothing(
    admin: httpx.Client, body: dict[str, Any], field: str
) -> None:
    before = admin.get("/api/v1/tokens").json()
    assert_error(admin.post("/api/v1/tokens", json=body), 400, "INVALID_ARGUMENT", field=field)
    assert admin.get("/api/v1/tokens").json() == before


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_auth_off_on_a_public_address_refuses_to_start(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "TRAINYARD_HOME": str(tmp_path), "TRAINYARD_AUTH": "off"}
    env.pop("TRAINYARD_URI", None)
    proc = subprocess.run(
        [sys.executable, "-m", "trainyard", "up", "--host", "0.0.0.0", "--port", str(port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "TRAINYARD_AUTH" in output
    assert "Traceback" not in output
    assert not _listening(port)


def test_a_public_address_requires_tokens_by_default(tmp_path: Path) -> None:
    srv = start_server(tmp_path, {"TRAINYARD_AUTH": "auto"}, extra_args=["--host", "0.0.0.0"])
    try:
        url = f"http://127.0.0.1:{srv.port}"
        _unauthenticated(httpx.get(f"{url}/api/v1/workspaces/default/experiments"))
        _unauthenticated(httpx.get(f"{url}/api/v1/whoami"))
        token_file = tmp_path / "admin.token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        secret = token_file.read_text().strip()
        me = httpx.get(f"{url}/api/v1/whoami", headers={"Authorization": f"Bearer {secret}"})
        assert me.status_code == 200
        assert me.json()["roles"] == {"*": "owner"}
        assert secret not in srv.log()
    finally:
        srv.stop()
