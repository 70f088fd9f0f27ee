"""Sweep jobs through the REST API, on both backends: each bad document is a precise 400 (or
404) before anything is created or run; a good one runs its trials and shows the best."""

from __future__ import annotations

import copy
import time
from typing import Any

import httpx
import pytest

from tests.server.helpers import assert_error, unique

CODE = b"import sys, trainyard\ntrainyard.log('loss', (float(sys.argv[1]) - 2) ** 2)\n"
GOOD: dict[str, Any] = {
    "type": "sweep",
    "trial": {"command": "python t.py ${{search_space.x}}", "code": "sweep-code:1"},
    "sampling_algorithm": "grid",
    "search_space": {"x": {"type": "choice", "values": [1, 2, 4]}},
    "objective": {"primary_metric": "loss", "goal": "minimize"},
    "limits": {"max_total_trials": 10, "max_concurrent_trials": 2},
    "experiment_name": "rest-sweeps",
}


@pytest.fixture
def code(api: httpx.Client) -> str:
    api.put("/code/sweep-code/versions/1/files/t.py", content=CODE)
    assert api.put("/code/sweep-code/versions/1", json={}).status_code in (200, 201)
    return "sweep-code:1"


def doc(**changes: Any) -> dict[str, Any]:
    d = copy.deepcopy(GOOD)
    for key, value in changes.items():
        target = d
        *path, last = key.split("__")
        for p in path:
            target = target[p]
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value
    return d


BAD: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {"search_space__x": {"type": "uniform", "min": 0, "max_value": 1}},
        {"field": "search_space.x.uniform.min", "contains": "Extra inputs"},
    ),
    (
        {"search_space__x": {"type": "beta", "a": 1}},
        {"field": "search_space.x", "contains": "'beta'"},
    ),
    (
        {"trial__command": "python t.py ${{search_space.x}} ${{search_space.y}}"},
        {"contains": "trial.command uses ${{search_space.y}} but search_space has no 'y'"},
    ),
    (
        {"search_space__z": {"type": "choice", "values": [1]}},
        {"contains": "search_space.z is not used by trial.command"},
    ),
    (
        {"search_space__x": {"type": "uniform", "min_value": 0, "max_value": 1}},
        {"contains": "grid sampling needs discrete parameters (choice or randint) but 'x'"},
    ),
    ({"objective__primary_metric": ""}, {"field": "objective.primary_metric"}),
    ({"objective__goal": "lower"}, {"field": "objective.goal"}),
    ({"limits__max_total_trials": 0}, {"field": "limits.max_total_trials"}),
    ({"limits__max_concurrent_trials": 0}, {"field": "limits.max_concurrent_trials"}),
    ({"limits__timeout": -1}, {"field": "limits.timeout"}),
    (
        {"early_termination": {"type": "bandit", "evaluation_interval": 2}},
        {"contains": "exactly one of slack_factor and slack_amount"},
    ),
    ({"sampling_algorithm": "hyperband"}, {"field": "sampling_algorithm.type"}),
    ({"trial__commnd": "x"}, {"field": "trial.commnd", "contains": "Extra inputs"}),
    ({"type": "swep"}, {"contains": "type must be 'command' (the default) or 'sweep'"}),
    (
        {"trial__command": "python t.py ${{search_space.x}} ${{inputs.data}}"},
        {"contains": "inputs.data"},
    ),
]


@pytest.mark.parametrize(("changes", "expect"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_a_bad_sweep_is_a_precise_400_and_creates_nothing(
    api: httpx.Client, code: str, changes: dict[str, Any], expect: dict[str, Any]
) -> None:
    name = unique("bad-sweep")
    assert_error(api.put(f"/jobs/{name}", json=doc(**changes)), 400, "INVALID_ARGUMENT", **expect)
    assert_error(api.get(f"/jobs/{name}"), 404, "NOT_FOUND")


def test_a_missing_code_asset_is_a_404(api: httpx.Client, code: str) -> None:
    name = unique("bad-sweep")
    resp = api.put(f"/jobs/{name}", json=doc(trial__code="nope:1"))
    assert_error(resp, 404, "NOT_FOUND", contains="job field 'code'")
    assert_error(api.get(f"/jobs/{name}"), 404, "NOT_FOUND")


def test_command_jobs_keep_their_error_fields(api: httpx.Client) -> None:
    assert_error(
        api.put(f"/jobs/{unique()}", json={"command": "x", "comand": 1}),
        400,
        "INVALID_ARGUMENT",
        field="comand",
    )


def test_a_good_sweep_runs_and_shows_its_trials_and_best(api: httpx.Client, code: str) -> None:
    name = unique("sweep")
    created = api.put(f"/jobs/{name}", json=doc())
    assert created.status_code == 201, created.text
    assert created.json()["type"] == "sweep" and created.json()["status"] == "Queued"
    assert api.put(f"/jobs/{name}", json=doc()).status_code == 200  # the same document again
    deadline = time.monotonic() + 60
    while (job := api.get(f"/jobs/{name}").json())["status"] not in ("Completed", "Failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["status"] == "Completed", job
    assert job["resolved"]["max_concurrent_trials"] == 2
    trials = job["trials"]
    assert sorted(t["parameters"]["x"] for t in trials) == [1, 2, 4]
    assert {t["status"] for t in trials} == {"Completed"}
    assert job["best_trial"]["parameters"] == {"x": 2} and job["best_trial"]["objective"] == 0
    assert job["best_trial"]["name"] == f"{name}_trial_{job['best_trial']['number']}"
    listed = api.get("/jobs", params={"max_results": 1000}).json()["jobs"]
    assert any(j["name"] == name and j["type"] == "sweep" for j in listed)
    assert any(
        j["name"] == trials[0]["name"] and j.get("type", "command") == "command" for j in listed
    )
    assert_error(api.post(f"/jobs/{name}/cancel"), 409, "CONFLICT")
