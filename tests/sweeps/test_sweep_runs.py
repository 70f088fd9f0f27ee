"""Each sampling algorithm and each early-termination policy through real trial processes.

The trials are tiny scripts run as jobs by a real server; the checks are on what the sweep
chose (parameters within the space, the grid once), where it stopped (the limits) and which
trial it calls best, and on the trials a policy ended (canceled, with the reason recorded).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import trainyard
from tests.support import RunningServer
from trainyard.client.sweeps import Sweep

OBJECTIVE = {"primary_metric": "loss", "goal": "minimize"}


def run_sweep(ws: trainyard.Workspace, code: Path, **kwargs: Any) -> Sweep:
    sweep = ws.jobs.create_sweep(
        trial={"command": kwargs.pop("command"), "code": str(code)},
        objective=kwargs.pop("objective", OBJECTIVE),
        experiment_name="sweep-tests",
        **kwargs,
    )
    assert sweep.wait(timeout=90) == "Completed", sweep.info.error
    return sweep


def check_best(sweep: Sweep) -> None:
    done = [t for t in sweep.trials if t.status == "Completed"]
    best = sweep.best_trial()
    values = [t.objective for t in done if t.objective is not None]
    assert best is not None and best.objective == min(values)


def test_random_with_a_seed_stays_in_the_space_and_stops_at_max_total(
    ws: trainyard.Workspace, code: Path, srv: RunningServer
) -> None:
    sweep = run_sweep(
        ws,
        code,
        command="python trial.py value ${{search_space.x}} ${{search_space.y}}",
        search_space={
            "x": {"type": "uniform", "min_value": 0, "max_value": 1},
            "y": {"type": "choice", "values": [0, 10]},
        },
        sampling_algorithm={"type": "random", "seed": 11},
        limits={"max_total_trials": 4, "max_concurrent_trials": 2},
    )
    trials = sweep.trials
    assert [t.number for t in trials] == [0, 1, 2, 3]
    for t in trials:
        assert 0 <= t.parameters["x"] <= 1 and t.parameters["y"] in (0, 10)
        assert t.status == "Completed"
        assert t.objective == pytest.approx((t.parameters["x"] - 0.3) ** 2 + t.parameters["y"])
    check_best(sweep)
    # the trials' runs are nested under the sweep's run
    api = f"{srv.api}/runs/"
    assert all(
        httpx.get(api + (t.run_id or "")).json()["parent_run_id"] == sweep.run_id for t in trials
    )
    parent = sweep.get_run().get_details()
    best = sweep.best_trial()
    assert best is not None and parent.params["x"] == repr(best.parameters["x"])
    frame = sweep.trials_frame()
    assert list(frame["number"]) == [0, 1, 2, 3] and list(frame["x"]) == [
        t.parameters["x"] for t in trials
    ]


def test_grid_covers_every_point_once_and_stops(ws: trainyard.Workspace, code: Path) -> None:
    sweep = run_sweep(
        ws,
        code,
        command="python trial.py value ${{search_space.x}} ${{search_space.y}}",
        search_space={
            "x": {"type": "choice", "values": [0.1, 0.3, 0.9]},
            "y": {"type": "randint", "upper": 2},
        },
        sampling_algorithm="grid",
        limits={"max_total_trials": 100, "max_concurrent_trials": 2},
    )
    points = sorted((t.parameters["x"], t.parameters["y"]) for t in sweep.trials)
    assert points == [(x, y) for x in (0.1, 0.3, 0.9) for y in (0, 1)]
    best = sweep.best_trial()
    assert best is not None and best.parameters == {"x": 0.3, "y": 0}
    check_best(sweep)


def test_bayesian_samples_loguniform_within_its_bounds(ws: trainyard.Workspace, code: Path) -> None:
    sweep = run_sweep(
        ws,
        code,
        command="python trial.py value ${{search_space.x}}",
        search_space={"x": {"type": "loguniform", "min_value": -3, "max_value": 0}},
        sampling_algorithm={"type": "bayesian", "seed": 2},
        limits={"max_total_trials": 5, "max_concurrent_trials": 2},
    )
    assert len(sweep.trials) == 5
    assert all(math.exp(-3) <= t.parameters["x"] <= 1 for t in sweep.trials)
    check_best(sweep)


@pytest.mark.parametrize(
    ("policy", "reason"),
    [
        ({"type": "bandit", "slack_factor": 0.2, "delay_evaluation": 2}, "bandit: "),
        ({"type": "median_stopping", "delay_evaluation": 2}, "median_stopping: best "),
        ({"type": "truncation_selection", "truncation_percentage": 50}, "truncation_selection: "),
    ],
)
def test_a_policy_cancels_the_bad_trial_and_says_why(
    ws: trainyard.Workspace, code: Path, policy: dict[str, Any], reason: str
) -> None:
    sweep = run_sweep(
        ws,
        code,
        command="python trial.py curve ${{search_space.level}} 10 0.25",
        search_space={"level": {"type": "choice", "values": [1.0, 5.0]}},
        sampling_algorithm="grid",
        limits={"max_concurrent_trials": 2},
        early_termination=policy,
    )
    by_level = {t.parameters["level"]: t for t in sweep.trials}
    good, bad = by_level[1.0], by_level[5.0]
    assert good.status == "Completed" and good.reason is None
    assert bad.status == "Canceled" and (bad.reason or "").startswith(reason), bad
    job = ws.jobs.get(bad.name)
    assert job.info.status == "Canceled"
    assert ws.get_run(bad.run_id or "").info.status == "KILLED"
    best = sweep.best_trial()
    assert best is not None and best.name == good.name


def test_cancel_ends_the_live_trials_then_the_sweep(ws: trainyard.Workspace, code: Path) -> None:
    sweep = ws.jobs.create_sweep(
        trial={"command": "python trial.py curve ${{search_space.x}} 200 0.25", "code": str(code)},
        search_space={"x": {"type": "uniform", "min_value": 1, "max_value": 2}},
        objective=OBJECTIVE,
        limits={"max_total_trials": 5, "max_concurrent_trials": 2},
    )
    deadline = time.monotonic() + 30
    while not any(t.status == "Running" for t in sweep.refresh().trials):
        assert time.monotonic() < deadline, sweep.trials
        time.sleep(0.1)
    sweep.cancel()
    assert sweep.wait(timeout=30) == "Canceled"
    assert len(sweep.trials) == 2 and {t.status for t in sweep.trials} == {"Canceled"}
    assert sweep.info.error is not None and "canceled after 2 trials" in sweep.info.error
