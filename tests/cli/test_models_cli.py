"""``trainyard model ...`` against a real server: tables, --json, exit codes, files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.test_models import tiny_onnx
from tests.support import RunningServer, start_server


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("cli-models-home"), {})
    yield server
    server.stop()


def cli(
    srv: RunningServer, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRAINYARD_URI": srv.url, "COLUMNS": "250"}
    env.pop("TRAINYARD_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "trainyard", "model", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def test_register_show_alias_download_delete(srv: RunningServer, tmp_path: Path) -> None:
    good = tmp_path / "model.onnx"
    good.write_bytes(tiny_onnx(2.0))
    res = cli(srv, "register", "cli-model", "--path", str(good), "--description", "first")
    assert res.returncode == 0, res.stderr
    assert "registered cli-model:1" in res.stdout and "mv-" in res.stdout
    good.write_bytes(tiny_onnx(3.0))
    data = json.loads(cli(srv, "register", "cli-model", "-p", str(good), "--json").stdout)
    assert data["version"] == 2 and data["signature"]["inputs"][0]["name"] == "x"

    listed = cli(srv, "list")
    assert listed.returncode == 0 and "cli-model" in listed.stdout
    models = json.loads(cli(srv, "list", "--json").stdout)
    assert [(m["name"], m["latest_version"]) for m in models] == [("cli-model", 2)]

    res = cli(srv, "alias", "cli-model", "champion", "1")
    assert res.returncode == 0 and "cli-model@champion -> version 1" in res.stdout
    shown = cli(srv, "show", "cli-model@champion")
    assert shown.returncode == 0
    assert "cli-model:1" in shown.stdout and "aliases: champion" in shown.stdout
    assert "float32" in shown.stdout and "[N, 3]" in shown.stdout
    version = json.loads(cli(srv, "show", "cli-model:2", "--json").stdout)
    assert version["version"] == 2 and version["source"] == "upload"
    overview = cli(srv, "show", "cli-model")
    assert overview.returncode == 0 and "Versions" in overview.stdout
    assert "champion" in overview.stdout
    full = json.loads(cli(srv, "show", "cli-model", "--json").stdout)
    assert [v["version"] for v in full["versions"]] == [2, 1]

    res = cli(srv, "download", "cli-model@champion", "-o", str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "cli-model-v1.onnx").read_bytes() == tiny_onnx(2.0)

    assert cli(srv, "alias", "cli-model", "champion", "--remove").returncode == 0
    missing_alias = cli(srv, "show", "cli-model@champion")
    assert missing_alias.returncode == 3 and "no alias 'champion'" in missing_alias.stderr
    assert cli(srv, "delete", "cli-model:1").returncode == 0
    assert json.loads(cli(srv, "list", "--json").stdout)[0]["version_count"] == 1
    assert cli(srv, "delete", "cli-model").returncode == 0
    assert json.loads(cli(srv, "list", "--json").stdout) == []


def test_errors_have_messages_and_exit_codes(srv: RunningServer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx")
    res = cli(srv, "register", "cli-bad", "--path", str(bad))
    assert res.returncode == 2 and "not an ONNX model" in res.stderr
    res = cli(srv, "show", "cli-nope:1")
    assert res.returncode == 3 and "does not exist" in res.stderr
    res = cli(srv, "show", "cli-nope:x")
    assert res.returncode == 2 and "must be a number" in res.stderr
    res = cli(srv, "alias", "cli-bad", "champion")
    assert res.returncode == 2 and "VERSION" in res.stderr
    res = cli(srv, "delete", "cli-bad@champion")
    assert res.returncode == 2 and "NAME or NAME:VERSION" in res.stderr


def test_delete_is_refused_while_a_deployment_serves(srv: RunningServer, tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(tiny_onnx(2.0))
    assert cli(srv, "register", "cli-served", "--path", str(path)).returncode == 0
    with httpx.Client(base_url=srv.api, timeout=60) as api:
        assert api.post("/endpoints", json={"name": "cli-ep", "auth": "none"}).status_code == 201
        body = {"name": "blue", "model": "cli-served:1"}
        assert api.post("/endpoints/cli-ep/deployments", json=body).status_code == 201

        served = (
            "cli-served:1 is served by deployment 'blue' of endpoint 'cli-ep' (workspace default)"
        )
        res = cli(srv, "delete", "cli-served:1")
        assert res.returncode == 4, res.stderr
        assert served in res.stderr and "update or delete that deployment first" in res.stderr
        res = cli(srv, "delete", "cli-served")
        assert res.returncode == 4, res.stderr
        assert "model 'cli-served' cannot be deleted" in res.stderr and served in res.stderr
        assert cli(srv, "show", "cli-served:1").returncode == 0

        assert api.delete("/endpoints/cli-ep").status_code == 204
    res = cli(srv, "delete", "cli-served")
    assert res.returncode == 0 and "deleted cli-served" in res.stdout
