"""Connecting, configuration, experiments (get-or-create, listing, search, best run)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from trainyard import errors
from trainyard.client import Workspace, connect

from .fake_server import FakeServer, error


def test_connect_reads_the_environment(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINYARD_URI", "http://example:9000/")
    monkeypatch.setenv("TRAINYARD_WORKSPACE", "team-a")
    monkeypatch.setenv("TRAINYARD_TOKEN", "tok")
    ws = connect(transport=fake.transport())
    assert (ws.uri, ws.name) == ("http://example:9000", "team-a")
    with pytest.raises(errors.NotFound):
        ws.get_experiment("nope")
    request = fake.requests[-1]
    assert str(request.url).startswith("http://example:9000/api/v1/workspaces/team-a/")
    assert request.headers["Authorization"] == "Bearer tok"


def test_connect_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TRAINYARD_URI", "TRAINYARD_WORKSPACE", "TRAINYARD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with connect() as ws:
        assert (ws.uri, ws.name) == ("http://127.0.0.1:8765", "default")


def test_bad_workspace_name_is_refused() -> None:
    with pytest.raises(errors.InvalidArgument, match="workspace name"):
        connect("http://testserver", workspace="a/b")


def test_from_config(fake: FakeServer, tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"uri": "http://cfg:1", "workspace": "w1", "token": "t"}))
    ws = Workspace.from_config(path, transport=fake.transport())
    assert (ws.uri, ws.name) == ("http://cfg:1", "w1")
    ws.experiment("e")
    assert fake.requests[0].headers["Authorization"] == "Bearer t"


def test_from_config_names_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "config.json"
    with pytest.raises(errors.InvalidArgument, match=r"nowhere.*config\.json.*not found"):
        Workspace.from_config(missing)


def test_from_config_refuses_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{not json")
    with pytest.raises(errors.InvalidArgument, match="cannot read config file"):
        Workspace.from_config(path)


def test_experiment_gets_or_creates(ws: Workspace, fake: FakeServer) -> None:
    first = ws.experiment("churn", tags={"team": "x"})
    again = ws.experiment("churn")
    assert first.experiment_id == again.experiment_id
    assert (again.name, again.tags) == ("churn", {"team": "x"})
    assert len(fake.experiments) == 1


def test_experiment_survives_a_creation_race(ws: Workspace, fake: FakeServer) -> None:
    lookups = []

    def hook(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("by-name"):
            lookups.append(request)
            if len(lookups) == 1:
                fake.handle(_create(request, "churn"))  # someone else creates it meanwhile
                return error(404, "NOT_FOUND", "not yet")
        return None

    fake.hook = hook
    exp = ws.experiment("churn")
    assert exp.name == "churn" and len(lookups) == 2 and len(fake.experiments) == 1


def _create(request: httpx.Request, name: str) -> httpx.Request:
    url = str(request.url).replace("/experiments/by-name?name=" + name, "/experiments")
    return httpx.Request("POST", url, json={"name": name})


def test_get_experiment_and_get_run_raise_not_found(ws: Workspace) -> None:
    with pytest.raises(errors.NotFound):
        ws.get_experiment("missing")
    with pytest.raises(errors.NotFound, match="does not exist"):
        ws.get_run("0" * 32)


def test_experiments_lists_every_page(ws: Workspace, fake: FakeServer) -> None:
    fake.page_limit = 3
    for i in range(8):
        ws.experiment(f"e{i}")
    assert [e.name for e in ws.experiments()] == [f"e{i}" for i in range(8)]


def test_get_run(ws: Workspace) -> None:
    run = ws.experiment("e").start_run(name="r")
    assert ws.get_run(run.run_id).info.name == "r"


def test_runs_iterates_every_page(ws: Workspace, fake: FakeServer) -> None:
    fake.page_limit = 4
    exp = ws.experiment("e")
    ids = {exp.start_run().run_id for _ in range(10)}
    ws.experiment("other").start_run()
    assert {r.run_id for r in exp.runs(filter="metrics.a > 0", order_by=["metrics.a"])} == ids


def test_best_run(ws: Workspace) -> None:
    exp = ws.experiment("e")
    assert exp.best_run("rmse") is None
    exp.start_run()  # never logs rmse
    assert exp.best_run("rmse", goal="max") is None
    for value in (3.0, 1.0, 2.0):
        with exp.start_run(name=f"r{value}") as run:
            run.log("rmse", value)
    best, worst = exp.best_run("rmse"), exp.best_run("rmse", goal="max")
    assert best is not None and worst is not None
    assert (best.info.name, worst.info.name) == ("r1.0", "r3.0")


def test_best_run_refuses_an_unknown_goal(ws: Workspace) -> None:
    with pytest.raises(errors.InvalidArgument, match="goal"):
        ws.experiment("e").best_run("rmse", goal="lowest")


def test_close_sends_queued_metrics_first(fake: FakeServer) -> None:
    ws = connect("http://testserver", transport=fake.transport())
    run = ws.experiment("e").start_run()
    run.log("a", 1.0)
    ws.close()
    assert len(fake.metrics[run.run_id]) == 1
