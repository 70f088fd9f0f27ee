"""``trainyard job create -f sweep.yml`` and ``trainyard job show`` of a sweep, on a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import RunningServer, start_server

SWEEP = """\
type: sweep
trial:
  command: python t.py ${{search_space.x}}
  code: ./src
sampling_algorithm: grid
search_space:
  x:
    type: choice
    values: [1, 3, 5, 2]
objective:
  primary_metric: loss
  goal: maximize
limits:
  max_concurrent_trials: 2
experiment_name: cli-sweeps
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("cli-sweeps-home"), {})
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
        timeout=120,
    )


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sweep-cli")
    (folder / "src").mkdir()
    (folder / "src" / "t.py").write_text(
        "import sys, trainyard\ntrainyard.log('loss', float(sys.argv[1]) * 10)\n"
    )
    (folder / "sweep.yml").write_text(SWEEP)
    return folder / "sweep.yml"


def test_create_stream_show_sort_and_json(srv: RunningServer, sweep_file: Path) -> None:
    made = cli(srv, "job", "create", "-f", str(sweep_file), "--name", "cli-sweep", "--stream")
    assert made.returncode == 0, made.stderr
    assert "trial 0 cli-sweep_trial_0:" in made.stdout and "Completed loss=" in made.stdout
    assert "best trial: cli-sweep_trial_" in made.stderr and "{'x': 5}" in made.stderr

    shown = cli(srv, "job", "show", "cli-sweep")
    assert shown.returncode == 0, shown.stderr
    assert "sweep  Completed" in shown.stdout and "grid" in shown.stdout
    assert "best:     cli-sweep_trial_" in shown.stdout and "x=5" in shown.stdout
    rows = [line for line in shown.stdout.splitlines() if "cli-sweep_trial_" in line]
    assert len(rows) == 5  # the best line and four trials, by number
    assert [r.split("│")[2].strip() for r in rows[1:]] == [f"cli-sweep_trial_{i}" for i in range(4)]

    by_objective = cli(srv, "job", "show", "cli-sweep", "--sort", "objective")
    rows = [line for line in by_objective.stdout.splitlines() if "│" in line and "trial_" in line]
    values = [float(r.split("│")[5]) for r in rows]
    assert values == [50.0, 30.0, 20.0, 10.0]  # maximize: best first

    doc = json.loads(cli(srv, "job", "show", "cli-sweep", "--json", "--sort", "objective").stdout)
    assert doc["status"] == "Completed" and doc["type"] == "sweep"
    assert [t["objective"] for t in doc["trials"]] == [50.0, 30.0, 20.0, 10.0]
    for t in [*doc["trials"], doc["best_trial"]]:
        assert {"name", "status", "parameters", "objective"} <= set(t)
    assert (
        doc["best_trial"]["parameters"] == {"x": 5} and doc["best_trial"]["status"] == "Completed"
    )

    listed = json.loads(cli(srv, "job", "list", "--json").stdout)
    assert [j["type"] for j in listed if j["name"] == "cli-sweep"] == ["sweep"]


def test_bad_files_and_options_exit_2_with_the_reason(
    srv: RunningServer, sweep_file: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(SWEEP.replace("    type: choice", "    type: choice\n    value: [1]"))
    res = cli(srv, "job", "create", "-f", str(bad))
    assert res.returncode == 2 and "search_space.x.choice.value: unknown key" in res.stderr
    grid = tmp_path / "grid.yml"
    grid.write_text(
        SWEEP.replace(
            "type: choice\n    values: [1, 3, 5, 2]",
            "type: uniform\n    min_value: 0\n    max_value: 1",
        )
    )
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "t.py").write_text("")
    res = cli(srv, "job", "create", "-f", str(grid))
    assert res.returncode == 2 and "grid sampling needs discrete parameters" in res.stderr
    res = cli(srv, "job", "show", "cli-sweep", "--sort", "alpha")
    assert res.returncode == 2 and "--sort takes one of" in res.stderr
