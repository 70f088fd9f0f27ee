"""Each sampler through ``SweepStudy``: parameters within the space, the grid covered exactly
once, seeded random reproducible, TPE identical to Optuna used directly, and a rebuilt study
that carries on numbering without repeating a grid point."""

from __future__ import annotations

import math
from typing import Any

import optuna

from trainyard.core.jobs import JobStatus
from trainyard.core.sweeps import Trial
from trainyard.schemas.jobs import SweepJobCreate
from trainyard.sweeps.samplers.bayesian import tpe
from trainyard.sweeps.space import SearchSpace
from trainyard.sweeps.study import SweepStudy

SPACE = {
    "c": {"type": "choice", "values": ["adam", "sgd", 3]},
    "r": {"type": "randint", "upper": 5},
    "u": {"type": "uniform", "min_value": -1, "max_value": 2},
    "lu": {"type": "loguniform", "min_value": -4, "max_value": 0},
    "q": {"type": "quniform", "min_value": 0, "max_value": 64, "q": 16},
    "ql": {"type": "qloguniform", "min_value": 0, "max_value": 4, "q": 0.5},
    "n": {"type": "normal", "mu": 5, "sigma": 1},
    "ln": {"type": "lognormal", "mu": 0, "sigma": 0.5},
}


def space(dists: dict[str, Any]) -> SearchSpace:
    command = " ".join("${{search_space." + k + "}}" for k in dists)
    doc = {
        "type": "sweep",
        "trial": {"command": command},
        "sampling_algorithm": "random",
        "search_space": dists,
        "objective": {"primary_metric": "m", "goal": "minimize"},
    }
    return SearchSpace(SweepJobCreate.model_validate(doc).search_space)


def within(params: dict[str, Any]) -> None:
    assert params["c"] in ("adam", "sgd", 3)
    assert params["r"] in range(5)
    assert -1 <= params["u"] <= 2
    assert math.exp(-4) <= params["lu"] <= 1
    assert params["q"] in (0, 16, 32, 48, 64)
    assert 0 <= params["ql"] <= math.exp(4) + 0.5 and (params["ql"] * 2).is_integer()
    assert -1 < params["n"] < 11  # about six deviations
    assert params["ln"] > 0


def run(study: SweepStudy, n: int, f: Any) -> list[dict[str, Any]]:
    seen = []
    for _ in range(n):
        number, _raw, params = study.ask()
        seen.append(params)
        study.tell(number, "complete", f(params))
    return seen


def objective(p: dict[str, Any]) -> float:
    return (p["u"] - 0.5) ** 2 + abs(math.log(p["lu"]) + 2)


def test_random_stays_in_the_space_and_a_seed_reproduces_it() -> None:
    sp = space(SPACE)
    first = run(SweepStudy(sp, "random", 7, "minimize"), 30, objective)
    for p in first:
        within(p)
    assert run(SweepStudy(sp, "random", 7, "minimize"), 30, objective) == first
    assert run(SweepStudy(sp, "random", 8, "minimize"), 30, objective) != first


def test_bayesian_stays_in_the_space_and_matches_optuna_directly() -> None:
    sp = space(SPACE)
    ours = run(SweepStudy(sp, "bayesian", 3, "maximize"), 25, objective)
    for p in ours:
        within(p)
    direct = optuna.create_study(direction="maximize", sampler=tpe(3))
    dists = sp.distributions()
    for mine in ours:
        t = direct.ask(dists)
        assert sp.values(t.params) == mine
        direct.tell(t, objective(mine))


def test_grid_covers_the_grid_exactly_once() -> None:
    sp = space({"a": {"type": "choice", "values": [1, 2, 3]}, "b": {"type": "randint", "upper": 4}})
    study = SweepStudy(sp, "grid", None, "minimize")
    assert study.capacity == 12
    points = run(study, 12, lambda p: p["a"] * p["b"])
    assert sorted((p["a"], p["b"]) for p in points) == [(a, b) for a in (1, 2, 3) for b in range(4)]


def test_a_rebuilt_study_carries_on_without_repeating() -> None:
    sp = space({"a": {"type": "choice", "values": list(range(10))}})
    first = SweepStudy(sp, "grid", 5, "minimize")
    trials = []
    for i in range(4):  # 3 finished, 1 still running when the server died
        number, raw, params = first.ask()
        assert number == i
        final = i < 3
        if final:
            first.tell(number, "complete", float(params["a"]))
        status = JobStatus.COMPLETED if final else JobStatus.RUNNING
        objective = float(params["a"]) if final else None
        trials.append(
            Trial(
                "w",
                "s",
                number,
                f"s_trial_{number}",
                0,
                status,
                params,
                raw,
                0,
                0,
                objective,
                None,
                final,
            )
        )
    rebuilt = SweepStudy(sp, "grid", 5, "minimize", trials)
    assert [t.state.name for t in rebuilt.study.trials] == ["COMPLETE"] * 3 + ["RUNNING"]
    rest = []
    for _ in range(6):
        number, _raw, params = rebuilt.ask()
        rest.append(params["a"])
        rebuilt.tell(number, "complete", 0.0)
    rebuilt.tell(3, "pruned")
    assert sorted([t.parameters["a"] for t in trials] + rest) == list(range(10))
    assert rebuilt.study.trials[3].state.name == "PRUNED"
    random_rebuilt = SweepStudy(sp, "random", 5, "minimize", trials)
    assert random_rebuilt.ask()[0] == 4
