"""``trainyard endpoint ...`` and ``trainyard deployment ...`` against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serving.models import scale_model
from tests.support import RunningServer, start_server


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("cli-endpoints-home"), {})
    yield server
    server.stop()


def cli(srv: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRAINYARD_URI": srv.url, "COLUMNS": "250"}
    env.pop("TRAINYARD_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "trainyard", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def ok(srv: RunningServer, *args: str) -> str:
    res = cli(srv, *args)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_endpoint_lifecycle_through_the_cli(srv: RunningServer, tmp_path: Path) -> None:
    for scale in (2.0, 3.0):
        path = tmp_path / "m.onnx"
        path.write_bytes(scale_model(scale))
        ok(srv, "model", "register", "m", "--path", str(path))

    assert "created endpoint ep (auth key)" in ok(srv, "endpoint", "create", "ep")
    keys = json.loads(ok(srv, "endpoint", "keys", "ep", "--json"))
    assert set(keys) == {"primary", "secondary"} and keys["primary"].startswith("tyk_")
    assert "deployed m:1 as ep/blue" in ok(
        srv, "deployment", "create", "ep", "blue", "--model", "m:1", "--replicas", "2"
    )
    ok(srv, "deployment", "create", "ep", "green", "--model", "m@latest")
    assert "ep: blue=90 green=10" in ok(srv, "endpoint", "traffic", "ep", "blue=90", "green=10")

    shown = ok(srv, "endpoint", "show", "ep")
    assert "m:2" in shown and "90%" in shown and "10%" in shown
    data = json.loads(ok(srv, "endpoint", "show", "ep", "--json"))
    assert [(d["name"], d["replicas"]) for d in data["deployments"]] == [("blue", 2), ("green", 1)]
    assert "ep" in ok(srv, "endpoint", "list")

    request = tmp_path / "request.json"
    request.write_text(json.dumps({"inputs": [[1, 1, 1]]}))
    answer = json.loads(
        ok(srv, "endpoint", "invoke", "ep", "--data", str(request), "--deployment", "green")
    )
    assert (answer["deployment"], answer["predictions"]) == ("green", [[3.0, 3.0, 3.0]])

    bad = cli(srv, "endpoint", "traffic", "ep", "blue=90", "green=20")
    assert bad.returncode == 2 and "sum to 100" in bad.stderr
    assert cli(srv, "endpoint", "traffic", "ep", "blue=ninety").returncode == 2
    busy = cli(srv, "deployment", "delete", "ep", "blue")
    assert busy.returncode == 4 and "move it" in busy.stderr

    ok(srv, "endpoint", "traffic", "ep", "green=100", "--mirror", "blue=20")
    assert json.loads(ok(srv, "endpoint", "traffic", "ep", "--json")) == {
        "traffic": {"blue": 0, "green": 100},
        "mirror": {"blue": 20},
    }
    assert "updated ep/blue: m:2" in ok(srv, "deployment", "update", "ep", "blue", "--model", "m:2")
    fresh = json.loads(ok(srv, "endpoint", "keys", "ep", "--regenerate", "secondary", "--json"))
    assert fresh["primary"] == keys["primary"] and fresh["secondary"] != keys["secondary"]
    ok(srv, "deployment", "delete", "ep", "blue")
    ok(srv, "endpoint", "delete", "ep")
    gone = cli(srv, "endpoint", "show", "ep")
    assert gone.returncode == 3 and "does not exist" in gone.stderr


def test_deployment_batching_flags(srv: RunningServer, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(scale_model(2.0))
    ok(srv, "model", "register", "b", "--path", str(path))
    ok(srv, "endpoint", "create", "bep", "--auth", "none")
    created = ok(
        srv, "deployment", "create", "bep", "blue", "--model", "b:1",
        "--batch-max-rows", "8", "--batch-wait-us", "700",
    )  # fmt: skip
    assert "batching: 8 rows / 700 us" in created
    assert "8 rows / 700 us" in ok(srv, "endpoint", "show", "bep")
    data = json.loads(ok(srv, "endpoint", "show", "bep", "--json"))
    assert data["deployments"][0]["batching"] == {"max_rows": 8, "max_wait_us": 700}

    updated = json.loads(
        ok(srv, "deployment", "update", "bep", "blue", "--batch-wait-us", "900", "--json")
    )
    assert updated["batching"] == {"max_rows": 8, "max_wait_us": 900}  # max_rows kept
    for args, words in (
        (("--batch-max-rows", "1"), "batching.max_rows"),
        (("--max-rows", "4"), "batching.max_rows"),  # under the batch size
        (("--batch-wait-us", "100001"), "batching.max_wait_us"),
        (("--no-batching", "--batch-max-rows", "4"), "--no-batching"),
    ):
        bad = cli(srv, "deployment", "update", "bep", "blue", *args)
        assert bad.returncode == 2 and words in bad.stderr, (args, bad.stderr)
    assert "batching: off" in ok(srv, "deployment", "update", "bep", "blue", "--no-batching")
    green = json.loads(
        ok(srv, "deployment", "create", "bep", "green", "--model", "b:1", "--batching", "--json")
    )
    assert green["batching"] == {"max_rows": 32, "max_wait_us": 500}  # the defaults
    plain = json.loads(ok(srv, "deployment", "create", "bep", "red", "--model", "b:1", "--json"))
    assert plain["batching"] is None


def test_deployment_rollback_and_history(srv: RunningServer, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    for scale in (2.0, 3.0, 4.0):
        path.write_bytes(scale_model(scale))
        ok(srv, "model", "register", "r", "--path", str(path))
    ok(srv, "endpoint", "create", "rep", "--auth", "none")
    ok(srv, "deployment", "create", "rep", "blue", "--model", "r:1")
    none = cli(srv, "deployment", "rollback", "rep", "blue")
    assert none.returncode == 4 and "no earlier model version" in none.stderr
    ok(srv, "deployment", "update", "rep", "blue", "--model", "r:2")
    ok(srv, "deployment", "update", "rep", "blue", "--model", "r@latest")
    assert "rolled back rep/blue to r:2" in ok(srv, "deployment", "rollback", "rep", "blue")
    back = json.loads(
        ok(srv, "deployment", "rollback", "rep", "blue", "--to-version", "1", "--json")
    )
    assert (back["model_version"], back["model_ref"]) == (1, "r:1")
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"inputs": [[1, 1, 1]]}))
    answer = json.loads(ok(srv, "endpoint", "invoke", "rep", "--data", str(request)))
    assert answer["predictions"] == [[2.0, 2.0, 2.0]]

    shown = ok(srv, "deployment", "history", "rep", "blue")
    assert "r@latest" in shown and "rolled back" in shown and "created" in shown
    data = json.loads(ok(srv, "deployment", "history", "rep", "blue", "--json"))
    assert [(e["model_version"], e["reason"]) for e in data] == [
        (1, "rolled back"),
        (2, "rolled back"),
        (3, "updated"),
        (2, "updated"),
        (1, "created"),
    ]
    missing = cli(srv, "deployment", "rollback", "rep", "blue", "--to-version", "9")
    assert missing.returncode == 3 and "never served model version 9" in missing.stderr
    gone = cli(srv, "deployment", "history", "rep", "nope")
    assert gone.returncode == 3 and "nope" in gone.stderr
