"""Sweeps end to end: the ridge example through the CLI, and a server killed mid-sweep.

The ridge example tunes seed 001's alpha with a grid sweep; its best trial must be the alpha
with the lowest test RMSE, computed here the same way. A server killed with SIGKILL while
trials run comes back on the same home and port and finishes the sweep: every trial number
once, the parameters recorded before the kill unchanged, the interrupted trials run again.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import trainyard
from tests.support import start_server
from tests.sweeps.conftest import TRIAL
from trainyard.client.sweeps import Sweep

ROOT = Path(__file__).resolve().parents[2]


def test_the_ridge_sweep_example_finds_the_best_alpha(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    srv = start_server(tmp_path_factory.mktemp("ridge-home"), {})
    try:
        env = {**os.environ, "TRAINYARD_URI": srv.url, "COLUMNS": "250"}
        env.pop("TRAINYARD_TOKEN", None)

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "trainyard", *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=180,
            )

        made = cli(
            "job",
            "create",
            "-f",
            str(ROOT / "examples" / "sweep_ridge.yml"),
            "--name",
            "ridge",
            "--stream",
        )
        assert made.returncode == 0, made.stderr
        assert "best trial: ridge_trial_" in made.stderr
        shown = json.loads(cli("job", "show", "ridge", "--json").stdout)
    finally:
        srv.stop()
    spec = importlib.util.spec_from_file_location("train", ROOT / "examples/sweep_ridge/train.py")
    assert spec is not None and spec.loader is not None
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    alphas = [round(0.1 * i, 1) for i in range(1, 11)]
    expected = {a: train.rmse_for(a)[1] for a in alphas}
    assert shown["status"] == "Completed"
    assert sorted(t["parameters"]["alpha"] for t in shown["trials"]) == alphas
    for t in shown["trials"]:
        assert t["objective"] == pytest.approx(expected[t["parameters"]["alpha"]], rel=1e-9)
    best_alpha = min(expected, key=lambda a: expected[a])
    assert shown["best_trial"]["parameters"] == {"alpha": best_alpha}


def test_a_killed_server_resumes_the_sweep_without_duplicates_or_losses(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    (tmp_path / "trial.py").write_text(TRIAL)
    home = tmp_path_factory.mktemp("resume-home")
    srv = start_server(home, {})
    ws = trainyard.connect(srv.url)
    sweep = ws.jobs.create_sweep(
        name="resume",
        trial={"command": "python trial.py curve ${{search_space.x}} 6 0.3", "code": str(tmp_path)},
        search_space={"x": {"type": "uniform", "min_value": 1, "max_value": 2}},
        objective={"primary_metric": "loss", "goal": "minimize"},
        sampling_algorithm={"type": "random", "seed": 5},
        limits={"max_total_trials": 6, "max_concurrent_trials": 2},
    )
    deadline = time.monotonic() + 60
    while True:  # kill once some trials finished and others run
        trials = sweep.refresh().trials
        done = [t for t in trials if t.status == "Completed"]
        running = [t for t in trials if t.status == "Running"]
        if len(done) >= 2 and running:
            break
        assert time.monotonic() < deadline, trials
        time.sleep(0.1)
    before = {t.number: t.parameters for t in trials}
    srv.kill()
    ws.close()
    srv = start_server(home, {}, port=srv.port)
    try:
        ws = trainyard.connect(srv.url)
        sweep = ws.jobs.get("resume")
        assert isinstance(sweep, Sweep)
        assert sweep.wait(timeout=90) == "Completed", sweep.info.error
        trials = sweep.trials
        assert [t.number for t in trials] == list(range(6))  # none lost, none twice
        assert {t.number: t.parameters for t in trials if t.number in before} == before
        assert len({t.parameters["x"] for t in trials}) == 6
        assert all(t.status == "Completed" and t.objective is not None for t in trials)
        rerun = [t for t in trials if t.name.endswith("_r1")]
        assert rerun, "a trial running at the kill runs again"
        for t in rerun:
            first = ws.jobs.get(t.name[: -len("_r1")])
            assert first.info.status == "Failed" and "server stopped" in (first.info.error or "")
        jobs = httpx.get(f"{srv.api}/jobs", params={"max_results": 1000}).json()["jobs"]
        names = [j["name"] for j in jobs if j["name"].startswith("resume_trial_")]
        assert len(names) == 6 + len(rerun)
        best = sweep.best_trial()
        assert best is not None and best.objective == min(t.objective or 0 for t in trials)
    finally:
        srv.stop()
