"""``trainyard recipe run DIR --train --score`` as a real job on a real server (the default)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tests.support import RunningServer, start_server

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "recipes" / "retail_sales"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("recipe-job-home"), {})
    yield server
    server.stop()


def test_the_retail_recipe_trains_and_scores_as_a_job(srv: RunningServer, tmp_path: Path) -> None:
    recipe = tmp_path / "retail_sales"
    shutil.copytree(EXAMPLE, recipe, ignore=shutil.ignore_patterns("data", "scores.parquet"))
    made = subprocess.run(
        [sys.executable, "make_data.py", "--stores", "8", "--weeks", "40"],
        cwd=recipe,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    env = {**os.environ, "TRAINYARD_URI": srv.url, "COLUMNS": "200"}
    env.pop("TRAINYARD_RUN_ID", None)
    res = subprocess.run(
        [sys.executable, "-m", "trainyard", "recipe", "run", str(recipe), "--train", "--score"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert res.returncode == 0, res.stderr
    assert "registered retail-sales:1" in res.stdout  # the job's stdout, streamed
    assert "Completed" in res.stderr
    api = httpx.Client(base_url=srv.api, timeout=60)
    version = api.get("/models/retail-sales/versions/1").json()
    assert version["status"] == "READY" and version["parity"]["passed"]
    run = api.get(f"/runs/{version['run_id']}").json()
    job_name = run["tags"]["trainyard.job"]
    job = api.get(f"/jobs/{job_name}").json()
    assert job["status"] == "Completed" and job["experiment_name"] == "retail-sales"
    assert job["tags"]["trainyard.recipe"] == "retail_sales"
    assert {"rmse", "mape", "r2"} <= set(version["metrics"])
    assert version["metrics"]["r2"] == run["metrics"]["r2"]["value"]
    assert run["params"]["n_estimators"] == "100"
    scores = api.get(f"/runs/{run['run_id']}/artifacts/outputs/scores/scores.parquet")
    assert scores.status_code == 200
    frame = pd.read_parquet(io.BytesIO(scores.content))
    assert len(frame) == len(pd.read_csv(recipe / "data" / "score.csv"))
    assert "prediction" in frame.columns
    # a recipe whose job fails exits 1 with the job's error
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "pipeline.py").write_text("def train(config, data):\n    return object()\n")
    (odd / "config.json").write_text(
        '{"name": "odd-job-recipe", "target": "y", "data": {"train": "d.csv"}}'
    )
    pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]}).to_csv(odd / "d.csv", index=False)
    res = subprocess.run(
        [sys.executable, "-m", "trainyard", "recipe", "run", str(odd), "--train"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 1 and "Failed" in res.stderr
    assert "no converter for builtins.object" in res.stderr
