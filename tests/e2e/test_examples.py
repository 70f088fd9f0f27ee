"""The examples run against a real server and do what they say."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support import RunningServer

ROOT = Path(__file__).resolve().parents[2]


def test_diabetes_ridge_picks_and_downloads_the_best_model(
    sqlite_server: RunningServer, tmp_path: Path
) -> None:
    env = {**os.environ, "TRAINYARD_URI": sqlite_server.url}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "diabetes_ridge.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    # ten finished runs, each with its two metrics and its model file
    exp = httpx.get(
        f"{sqlite_server.api}/experiments/by-name", params={"name": "diabetes-regression"}
    ).json()
    runs = httpx.post(
        f"{sqlite_server.api}/runs/search",
        json={"experiment_ids": [exp["experiment_id"]], "order_by": ["metrics.rmse ASC"]},
    ).json()["runs"]
    assert len(runs) == 10
    assert all(
        r["status"] == "FINISHED" and {"rmse", "alpha_value"} <= set(r["metrics"]) for r in runs
    )
    best = runs[0]
    downloaded = list(tmp_path.glob("model_alpha_*.pkl"))
    assert [p.name for p in downloaded] == [f"model_alpha_{best['params']['alpha']}.pkl"]
    model = pickle.loads(downloaded[0].read_bytes())
    assert abs(model.alpha - best["metrics"]["alpha_value"]["value"]) < 1e-9
    assert f"best run: {best['run_id']}" in proc.stdout
