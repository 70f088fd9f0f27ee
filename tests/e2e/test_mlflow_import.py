"""``trainyard import mlflow`` from a real ``mlflow server`` into a real Trainyard server.

The MLflow side is written with the real ``mlflow`` client (explicit times, so they can be
compared exactly); the import runs as the CLI does, in a subprocess; everything is read back
through Trainyard's SDK and compared with what MLflow holds.
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

import trainyard
from tests.support import RunningServer, free_port, start_server

T0 = 1_700_000_000_000
SOURCE_TAG = "trainyard.import.source_run_id"
PENDING_TAG = "trainyard.import.pending"


FLUENT = """
import json, mlflow
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

X, y = load_diabetes(return_X_y=True, as_frame=True)
exp = mlflow.set_experiment("import-b")
with mlflow.start_run(run_name="outer") as outer:
    mlflow.log_params({"lr": 0.01})
    with mlflow.start_run(run_name="inner", nested=True) as inner:
        mlflow.log_metric("loss", 0.25, step=1)
        mlflow.log_text("hello", "sub/hello.txt")
    model = Ridge(alpha=0.5).fit(X, y)
    # explicit requirements: MLflow's inference of them takes seconds
    quick = {"registered_model_name": "imp-ridge", "pip_requirements": ["scikit-learn"]}
    mlflow.sklearn.log_model(model, name="m", input_example=X[:5], **quick)
    mlflow.sklearn.log_model(model, name="bare", **quick)
mlflow.MlflowClient().set_registered_model_alias("imp-ridge", "champion", "1")
print(json.dumps({"experiment": exp.experiment_id, "inner": inner.info.run_id}))
"""


@dataclass
class Mlflow:
    url: str
    client: MlflowClient
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)  # run id -> path -> bytes
    deleted_run: str = ""


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, RunningServer]]:
    """A real ``mlflow server`` (SQLite, proxied artifacts) and a real Trainyard server."""
    tmp = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    args = [
        *(sys.executable, "-m", "mlflow", "server"),
        *("--backend-store-uri", f"sqlite:///{tmp / 'mlflow.db'}"),
        *("--artifacts-destination", str(tmp / "art")),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
    ]
    with open(tmp / "mlflow.log", "wb") as log:
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
    trainyard_server = start_server(tmp_path_factory.mktemp("home"), {})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp / "mlflow.log").read_text()
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp / "mlflow.log").read_text()
            time.sleep(0.2)
        yield url, trainyard_server
    finally:
        trainyard_server.stop()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _run(
    c: MlflowClient, exp: str, name: str, start: int, tags: dict[str, str] | None = None
) -> str:
    return c.create_run(exp, start_time=start, tags=tags or {}, run_name=name).info.run_id


def _history(c: MlflowClient, run_id: str, key: str, n: int, seed: int) -> None:
    rng = random.Random(seed)
    points = [Metric(key, rng.random(), T0 + 10 * i, i) for i in range(n)]
    points[7] = Metric(key, math.nan, T0 + 70, 7)
    points[8] = Metric(key, math.inf, T0 + 80, 8)
    points.append(Metric(key, 0.5, T0 + 10 * n, n - 1))  # a second value at the last step
    for i in range(0, len(points), 500):
        c.log_batch(run_id, metrics=points[i : i + 500])


def _write(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


@pytest.fixture(scope="module")
def source(servers: tuple[str, RunningServer], tmp_path_factory: pytest.TempPathFactory) -> Mlflow:
    """Two experiments of nested runs, histories, params, tags and files, one failed run, one
    running, one deleted run and one deleted experiment."""
    url, _ = servers
    # the fluent API, as training code uses it (in its own process, since it keeps global
    # state), running while this process logs the rest
    env = {**os.environ, "MLFLOW_TRACKING_URI": url, "MLFLOW_DISABLE_TELEMETRY": "true"}
    cmd = [sys.executable, "-c", FLUENT]
    fluent = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    c = MlflowClient(url)
    m = Mlflow(url, c)
    a = c.create_experiment("import-a", tags={"team": "growth"})
    parent = _run(c, a, "parent", T0, {"purpose": "import"})
    c.log_batch(
        parent,
        params=[Param("alpha", "0.5"), Param("layers", "3")],
        tags=[RunTag("note", "x" * 300)],
    )
    _history(c, parent, "loss", 300, seed=1)
    _history(c, parent, "val/acc", 250, seed=2)
    files = {
        "notes.txt": b"trained on the diabetes data\n",
        "deep/er/config.json": b'{"alpha": 0.5}',
        "model/weights.bin": random.Random(3).randbytes(2_500_000),
    }
    local = tmp_path_factory.mktemp("art")
    _write(local, files)
    c.log_artifacts(parent, str(local))
    m.files[parent] = files
    c.set_terminated(parent, "FINISHED", end_time=T0 + 60_000)

    child = _run(c, a, "child", T0 + 100, {"mlflow.parentRunId": parent})
    c.log_metric(child, "rmse", 52.5, timestamp=T0 + 200, step=3)
    c.set_terminated(child, "FINISHED", end_time=T0 + 1_000)
    grandchild = _run(c, a, "grandchild", T0 + 150, {"mlflow.parentRunId": child})
    c.log_param(grandchild, "depth", "2")
    c.set_terminated(grandchild, "KILLED", end_time=T0 + 900)
    broken = _run(c, a, "broken", T0 + 5_000)
    c.log_metric(broken, "loss", 9.0, timestamp=T0 + 5_001, step=0)
    c.set_terminated(broken, "FAILED", end_time=T0 + 5_500)
    m.deleted_run = _run(c, a, "gone", T0 + 6_000)
    c.set_terminated(m.deleted_run, "FINISHED", end_time=T0 + 6_500)
    c.delete_run(m.deleted_run)

    out = fluent.communicate(timeout=180)[0]
    assert fluent.returncode == 0, out
    ids = json.loads(out.strip().splitlines()[-1])
    m.files[ids["inner"]] = {"sub/hello.txt": b"hello"}
    _run(c, ids["experiment"], "still-running", T0 + 9_000)

    gone_exp = c.create_experiment("import-gone")
    _run(c, gone_exp, "in-deleted-experiment", T0 + 7_000)
    c.delete_experiment(gone_exp)
    return m


def run_import(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRAINYARD_URI": server.url, "COLUMNS": "200"}
    env.pop("TRAINYARD_WORKSPACE", None)
    return subprocess.run(
        [sys.executable, "-m", "trainyard", "import", "mlflow", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def import_json(server: RunningServer, url: str, *args: str) -> dict[str, Any]:
    proc = run_import(server, "--from", url, "--json", *args)
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def _points(history: list[Any]) -> list[tuple[int, int, str]]:
    return sorted((m.step, m.timestamp, repr(float(m.value))) for m in history)


def _by_source(ws: trainyard.Workspace) -> dict[str, trainyard.Run]:
    found = {}
    for exp in ws.experiments():
        for run in exp.runs():
            if SOURCE_TAG in run.info.tags:
                found[run.info.tags[SOURCE_TAG]] = run
    return found


def assert_copied(m: Mlflow, ws: trainyard.Workspace) -> dict[str, trainyard.Run]:
    """Every active MLflow run of the two live experiments is in Trainyard, exactly."""
    copied = _by_source(ws)
    exps = [m.client.get_experiment_by_name(n) for n in ("import-a", "import-b")]
    runs = m.client.search_runs([e.experiment_id for e in exps if e is not None])
    assert sorted(copied) == sorted(r.info.run_id for r in runs)
    for src in runs:
        run = copied[src.info.run_id]
        info = run.get_details()
        assert info.name == src.info.run_name
        assert info.status.value == src.info.status
        assert (info.start_time, info.end_time) == (src.info.start_time, src.info.end_time)
        assert info.params == src.data.params
        parent = src.data.tags.get("mlflow.parentRunId")
        expected = {k: v for k, v in src.data.tags.items() if k != "mlflow.runName"}
        if parent:
            expected["mlflow.parentRunId"] = copied[parent].run_id
            assert info.parent_run_id == copied[parent].run_id
        else:
            assert info.parent_run_id is None
        assert info.tags == {**expected, SOURCE_TAG: src.info.run_id}
        for key in src.data.metrics:
            mine = _points(run.get_metric_history(key))
            theirs = _points(m.client.get_metric_history(src.info.run_id, key))
            assert mine == theirs, key
        names = [n for n in run.get_file_names() if not n.startswith("registered-models/")]
        assert sorted(names) == sorted(m.files.get(src.info.run_id, {}))
    return copied


def test_import_copies_everything_and_is_idempotent(
    servers: tuple[str, RunningServer], source: Mlflow, tmp_path: Path
) -> None:
    url, server = servers
    summary = import_json(server, url)
    assert summary["experiments"] == 2 and summary["experiments_created"] == 2
    assert summary["runs"] == 7 and summary["warnings"] == [
        "imp-ridge version 2: FAILED: it was logged without an input example, which the parity "
        "check of the ONNX conversion needs: log it again with input_example=..., or register "
        "it by hand"
    ]
    assert summary["skipped"] == {
        "runs": 0,
        "experiments": 1,
        "files": 0,
        "models": 0,
        "model_versions": 0,
    }
    assert summary["params"] == 4 and summary["files"] == 4
    assert summary["metric_values"] == 301 + 251 + 1 + 1 + 1
    assert summary["bytes"] == sum(len(b) for f in source.files.values() for b in f.values())

    ws = trainyard.connect(server.url)
    copied = assert_copied(source, ws)
    exp = ws.get_experiment("import-a")
    assert exp.tags["team"] == "growth"
    assert exp.tags["trainyard.import.source_uri"] == url
    mlflow_a = source.client.get_experiment_by_name("import-a")
    assert mlflow_a is not None
    assert exp.tags["trainyard.import.source_experiment_id"] == mlflow_a.experiment_id
    for run_id, files in source.files.items():
        for path, data in files.items():
            out = copied[run_id].download_file(path, tmp_path / run_id / path)
            assert out.read_bytes() == data, path
    assert source.deleted_run not in copied
    assert [e.name for e in ws.experiments()].count("import-a") == 1

    # the registry: version 1 converted to ONNX, with its alias; version 2 had no input example
    registry = ("models", "model_versions", "model_versions_failed")
    assert [summary[k] for k in registry] == [1, 1, 1]
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    expected = Ridge(alpha=0.5).fit(X, y).predict(X[:5])
    champion = ws.models.get("imp-ridge@champion")
    assert champion.version == 1 and champion.status == "READY"
    assert champion.info.tags["trainyard.import.source_version"] == "1"
    assert np.allclose(champion.load().predict(X[:5]), expected, rtol=1e-4)
    failed = ws.models.get("imp-ridge:2")
    assert failed.status == "FAILED" and "input example" in (failed.info.status_reason or "")

    # again: nothing copied twice
    again = import_json(server, url)
    assert again["runs"] == 0 and again["experiments_created"] == 0
    assert again["skipped"]["runs"] == 7 and again["metric_values"] == 0
    assert again["skipped"]["model_versions"] == 2 and again["model_versions"] == 0
    assert sorted(_by_source(ws)) == sorted(copied)


def test_dry_run_resume_and_deleted(servers: tuple[str, RunningServer], source: Mlflow) -> None:
    url, server = servers
    import_json(server, url)
    ws = trainyard.connect(server.url)
    before = _by_source(ws)
    c = source.client
    exp_a = c.get_experiment_by_name("import-a")
    assert exp_a is not None
    late = _run(c, exp_a.experiment_id, "late", T0 + 20_000)
    c.log_metric(late, "loss", 1.0, timestamp=T0 + 20_001, step=0)

    dry = import_json(server, url, "--dry-run", "--experiment", "import-a")
    assert dry["dry_run"] and dry["runs"] == 1 and dry["metric_values"] == 1
    assert dry["skipped"]["runs"] == 4
    assert sorted(_by_source(ws)) == sorted(before)

    # an interrupted copy (still pending) is completed, without duplicating anything
    parent = next(r for r in before.values() if r.info.name == "parent")
    parent.set_tags({PENDING_TAG: "true"})
    resumed = import_json(server, url, "-e", "import-a")
    assert resumed["runs"] == 2 and resumed["runs_resumed"] == 1
    assert resumed["skipped"]["files"] == 3 and resumed["files"] == 0
    source.files.setdefault(late, {})
    assert_copied(source, ws)

    # deleted things only on request, and they arrive deleted
    deleted = import_json(server, url, "--include-deleted")
    assert deleted["runs"] == 2 and deleted["experiments_created"] == 1
    gone = ws.get_experiment("import-gone")
    assert gone.info.lifecycle_stage.value == "deleted"
    copied = {
        r.info.tags[SOURCE_TAG]: r.info
        for r in ws.experiment("import-a").runs(filter=f"tags.`{SOURCE_TAG}` LIKE '%'")
    }
    assert source.deleted_run not in copied  # deleted: not in a default search
    again = import_json(server, url, "--include-deleted")
    assert again["runs"] == 0 and again["skipped"]["runs"] == 10


def test_unreachable_source_is_a_clear_error(servers: tuple[str, RunningServer]) -> None:
    _, server = servers
    proc = run_import(server, "--from", f"http://127.0.0.1:{free_port()}")
    assert proc.returncode == 6, proc.stderr
    assert "cannot reach the MLflow server" in proc.stderr
    assert "Traceback" not in proc.stderr
    bad = run_import(server, "--from", "localhost:5000")
    assert bad.returncode == 2 and "http://" in bad.stderr


def test_unknown_experiment_is_not_found(servers: tuple[str, RunningServer]) -> None:
    url, server = servers
    proc = run_import(server, "--from", url, "--experiment", "no-such-experiment")
    assert proc.returncode == 3, proc.stderr
    assert "has no experiment named 'no-such-experiment'" in proc.stderr
