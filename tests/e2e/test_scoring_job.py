"""Batch scoring as a job: a data asset scored with a model version into a new data asset."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import trainyard
from tests.support import RunningServer


def _cli(srv: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRAINYARD_URI": srv.url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "trainyard", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_model_score_job_registers_parquet_scores(
    sqlite_server: RunningServer, tmp_path: Path
) -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 4)), columns=["a", "b", "c", "d"]).astype("float32")
    y = (X["a"] + X["b"] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    ws = trainyard.connect(sqlite_server.url)
    with ws.experiment("scoring").start_run() as run:
        version = run.register_model("clf", model=model, sample=X.head(20))
    folder = tmp_path / "to-score"
    folder.mkdir()
    X.iloc[:200].to_csv(folder / "part-1.csv", index=False)
    X.iloc[200:].to_parquet(folder / "part-2.parquet", index=False)
    ws.data.create("customers", "1", path=folder, type="uri_folder")

    res = _cli(
        sqlite_server,
        *("model", "score", f"clf:{version.version}", "--data", "customers:1"),
        *("--output-name", "customer-scores", "--output-version", "1"),
    )
    assert res.returncode == 0, res.stderr + res.stdout
    scores = ws.data.get("customer-scores:1")
    assert scores.type == "uri_folder"
    frame = scores.to_pandas()
    assert len(frame) == 300  # one prediction per input row, both files
    predicted = next(c for c in frame.columns if "label" in c or "predict" in c)
    # the files are read back in name order: part-1 (rows 0-199), then part-2
    assert np.array_equal(frame[predicted].to_numpy(), model.predict(X))
    ws.close()


def test_model_score_refuses_an_unknown_data_asset(sqlite_server: RunningServer) -> None:
    res = _cli(sqlite_server, "model", "score", "nope:1", "--data", "x:1", "--output-name", "y")
    assert res.returncode == 3 and "Traceback" not in res.stderr
    res = _cli(sqlite_server, "model", "score", "nope:1")
    assert res.returncode == 2 and "--data" in res.stderr
