"""The command line against a real server: tables, --json, exit codes, downloads, tokens."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import trainyard
from tests.support import RunningServer, start_server


def cli(srv: RunningServer, *args: str, token: str | None = None, cwd: Path | None = None):
    env = {**os.environ, "TRAINYARD_URI": srv.url, "COLUMNS": "250"}
    env.pop("TRAINYARD_TOKEN", None)
    if token:
        env["TRAINYARD_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "trainyard", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, list[str]]]:
    srv = start_server(tmp_path_factory.mktemp("cli-home"), {})
    ws = trainyard.connect(srv.url)
    exp = ws.experiment("cli-exp")
    ids = []
    src = tmp_path_factory.mktemp("files") / "model.bin"
    src.write_bytes(os.urandom(300_000))
    for i, alpha in enumerate([0.1, 0.5, 0.9]):
        with exp.start_run(name=f"run-{i}") as run:
            run.log_params({"alpha": str(alpha), "solver": "svd"})
            run.log("rmse", 60.0 - 10 * i)
            run.upload_file("outputs/model.bin", str(src))
            ids.append(run.run_id)
    ws.close()
    yield srv, ids
    srv.stop()


def test_experiments_list_table_and_json(filled: tuple[RunningServer, list[str]]) -> None:
    srv, _ = filled
    res = cli(srv, "experiments", "list")
    assert res.returncode == 0 and "cli-exp" in res.stdout and "Default" in res.stdout
    data = json.loads(cli(srv, "experiments", "list", "--json").stdout)
    mine = next(e for e in data if e["name"] == "cli-exp")
    assert mine["run_count"] == 3


def test_runs_list_filters_orders_and_limits(filled: tuple[RunningServer, list[str]]) -> None:
    srv, ids = filled
    res = cli(srv, "runs", "list", "cli-exp", "--order-by", "metrics.rmse ASC", "--json")
    assert [r["run_id"] for r in json.loads(res.stdout)] == ids[::-1]
    res = cli(srv, "runs", "list", "cli-exp", "-f", "params.alpha = '0.5'", "--json")
    assert [r["name"] for r in json.loads(res.stdout)] == ["run-1"]
    res = cli(srv, "runs", "list", "cli-exp", "--limit", "1", "--order-by", "metrics.rmse DESC")
    assert res.returncode == 0 and "run-0" in res.stdout and "run-2" not in res.stdout
    assert "alpha" in res.stdout and "rmse" in res.stdout  # params and metrics are columns


def test_show_compare_download(filled: tuple[RunningServer, list[str]], tmp_path: Path) -> None:
    srv, ids = filled
    shown = json.loads(cli(srv, "runs", "show", ids[0], "--json").stdout)
    assert shown["params"]["alpha"] == "0.1" and shown["files"] == ["outputs/model.bin"]
    assert "outputs/model.bin" in cli(srv, "runs", "show", ids[0]).stdout
    cmp = json.loads(cli(srv, "runs", "compare", ids[0], ids[2], "--json").stdout)
    assert cmp["rows"]["params.alpha"] == {"values": ["0.1", "0.9"], "differs": True}
    assert cmp["rows"]["params.solver"]["differs"] is False
    res = cli(srv, "runs", "download", ids[0], "outputs/model.bin", "-o", str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "model.bin").stat().st_size == 300_000


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["runs", "show", "nope"], 3, "does not exist"),
        (["runs", "list", "no-such-experiment"], 3, "does not exist"),
        (["runs", "list", "cli-exp", "-f", "params.alpha = 0.5"], 2, "quote the value"),
        (["runs", "download", "{run}", "../x"], 2, ".."),
    ],
)
def test_errors_are_one_line_with_an_exit_code(
    filled: tuple[RunningServer, list[str]], args: list[str], code: int, says: str
) -> None:
    srv, ids = filled
    res = cli(srv, *(a.replace("{run}", ids[0]) for a in args))
    assert res.returncode == code, res.stderr
    assert says in res.stderr and "Traceback" not in res.stderr


def test_server_down_is_exit_6(tmp_path: Path) -> None:
    env = {**os.environ, "TRAINYARD_URI": "http://127.0.0.1:9", "TRAINYARD_TOKEN": ""}
    res = subprocess.run(
        [sys.executable, "-m", "trainyard", "experiments", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 6 and "Traceback" not in res.stderr


def test_tokens_create_list_revoke(tmp_path_factory: pytest.TempPathFactory) -> None:
    srv = start_server(tmp_path_factory.mktemp("auth-home"), {"TRAINYARD_AUTH": "required"})
    try:
        admin = (srv.home / "admin.token").read_text().strip()
        assert cli(srv, "experiments", "list").returncode == 5
        res = cli(srv, "tokens", "create", "bot", "--role", "default=reader", "--json", token=admin)
        created = json.loads(res.stdout)
        assert created["roles"] == {"default": "reader"} and created["secret"].startswith("ty_")
        assert cli(srv, "experiments", "list", token=created["secret"]).returncode == 0
        listed = cli(srv, "tokens", "list", "--json", token=admin).stdout
        assert created["token_id"] in listed and created["secret"] not in listed
        assert cli(srv, "tokens", "revoke", created["token_id"], token=admin).returncode == 0
        assert cli(srv, "experiments", "list", token=created["secret"]).returncode == 5
        bad = cli(srv, "tokens", "create", "x", "--role", "default", token=admin)
        assert bad.returncode == 2 and "WORKSPACE=ROLE" in bad.stderr
    finally:
        srv.stop()


def test_up_refuses_an_open_bind_without_auth(tmp_path: Path) -> None:
    env = {**os.environ, "TRAINYARD_HOME": str(tmp_path), "TRAINYARD_AUTH": "off"}
    res = subprocess.run(
        [sys.executable, "-m", "trainyard", "up", "--host", "0.0.0.0", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2 and "TRAINYARD_AUTH" in res.stderr


def test_db_upgrade(tmp_path: Path) -> None:
    env = {**os.environ, "TRAINYARD_HOME": str(tmp_path)}
    res = subprocess.run(
        [sys.executable, "-m", "trainyard", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    from alembic.script import ScriptDirectory

    from trainyard.store.sql.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert res.returncode == 0 and f"revision {head}" in res.stderr
    assert (tmp_path / "trainyard.db").exists()
