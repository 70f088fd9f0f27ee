"""Recipes end to end against a real server, through the CLI: the shipped retail example."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from tests.support import RunningServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "recipes" / "retail_sales"


def trainyard(
    srv: RunningServer, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRAINYARD_URI": srv.url, "COLUMNS": "200"}
    env.pop("TRAINYARD_RUN_ID", None)
    return subprocess.run(
        [sys.executable, "-m", "trainyard", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
    )


def test_retail_recipe_trains_registers_and_scores(
    registry_server: RunningServer, tmp_path: Path
) -> None:
    recipe = tmp_path / "retail_sales"
    shutil.copytree(EXAMPLE, recipe, ignore=shutil.ignore_patterns("data", "scores.parquet"))
    made = subprocess.run(
        [sys.executable, "make_data.py", "--stores", "12", "--weeks", "60"],
        cwd=recipe,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    res = trainyard(registry_server, "recipe", "run", str(recipe), "--train", "--score", "--local")
    assert res.returncode == 0, res.stderr
    assert "registered retail-sales:" in res.stdout and "parity passed" in res.stdout
    api = httpx.Client(base_url=registry_server.api)
    version = api.get("/model-versions/retail-sales").json()
    assert version["status"] == "READY" and version["parity"]["passed"]
    assert {"rmse", "mape", "r2"} <= set(version["metrics"]) and version["metrics"]["r2"] > 0.5
    assert version["signature"]["feature_names"][0] == "storeType"
    run = api.get(f"/runs/{version['run_id']}").json()
    assert run["status"] == "FINISHED"
    assert run["params"] == {"learning_rate": "0.1", "n_estimators": "100", "max_depth": "3"}
    assert run["tags"]["trainyard.recipe"] == "retail_sales"
    scores = pd.read_parquet(recipe / "scores.parquet")
    score_data = pd.read_csv(recipe / "data" / "score.csv")
    assert list(scores.columns) == ["store", "week", "prediction"] and len(scores) == len(
        score_data
    )
    error = np.abs(scores["prediction"] - score_data["weeklySales"]) / score_data["weeklySales"]
    assert float(error.median()) < 0.2
    # scoring again alone, into another file, with an explicit version
    out = tmp_path / "again.parquet"
    ref = f"retail-sales:{version['version']}"
    res = trainyard(
        registry_server,
        "recipe",
        "run",
        str(recipe),
        "--score",
        "--model",
        ref,
        "-o",
        str(out),
        "--local",
    )
    assert res.returncode == 0, res.stderr
    assert np.allclose(pd.read_parquet(out)["prediction"], scores["prediction"])


def test_a_recipe_that_cannot_convert_records_a_failed_version(
    registry_server: RunningServer, tmp_path: Path
) -> None:
    recipe = tmp_path / "odd"
    recipe.mkdir()
    (recipe / "pipeline.py").write_text("def train(config, data):\n    return object()\n")
    (recipe / "config.json").write_text(
        json.dumps({"name": "odd-recipe", "target": "y", "data": {"train": "d.csv"}})
    )
    pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]}).to_csv(recipe / "d.csv", index=False)
    res = trainyard(registry_server, "recipe", "run", str(recipe), "--train", "--local")
    assert res.returncode == 2 and "no converter for builtins.object" in res.stderr
    versions = httpx.get(f"{registry_server.api}/models/odd-recipe/versions").json()["versions"]
    assert [(v["status"], v["status_reason"][:12]) for v in versions] == [
        ("FAILED", "no converter")
    ]
    res = trainyard(registry_server, "recipe", "run", str(tmp_path), "--train")
    assert res.returncode == 2 and "is not a recipe" in res.stderr
    res = trainyard(registry_server, "recipe", "run", str(recipe))
    assert res.returncode == 2 and "--train" in res.stderr
