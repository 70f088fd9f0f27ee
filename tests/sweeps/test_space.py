"""Search spaces: parsing (the wire schema), the checks before anything runs, the transforms."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import ValidationError

from trainyard.errors import InvalidArgument
from trainyard.schemas.jobs import SweepJobCreate
from trainyard.sweeps.space import SearchSpace, check_sweep


def sweep(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": "sweep",
        "trial": {"command": "python t.py ${{search_space.lr}} ${{search_space.depth}}"},
        "sampling_algorithm": "random",
        "search_space": {
            "lr": {"type": "loguniform", "min_value": -9.2, "max_value": 0},
            "depth": {"type": "choice", "values": [2, 4, 8]},
        },
        "objective": {"primary_metric": "loss", "goal": "minimize"},
        "limits": {"max_total_trials": 5, "max_concurrent_trials": 2},
    }
    doc.update(changes)
    return doc


def test_a_full_document_parses_with_defaults() -> None:
    spec = SweepJobCreate.model_validate(sweep())
    assert spec.sampling_algorithm.type == "random" and spec.sampling_algorithm.seed is None
    assert spec.limits.timeout is None and spec.early_termination is None
    assert list(check_sweep(spec).parameters) == ["lr", "depth"]
    seeded = SweepJobCreate.model_validate(sweep(sampling_algorithm={"type": "grid", "seed": 3}))
    assert seeded.sampling_algorithm.seed == 3
    assert SweepJobCreate.model_validate(sweep(limits={})).limits.max_total_trials == 1000


@pytest.mark.parametrize(
    ("changes", "where", "says"),
    [
        ({"search_space": {"lr": {"type": "uniform", "min": 0, "max": 1}}}, "min", "Extra"),
        ({"search_space": {"lr": {"type": "gaussian", "mu": 0}}}, "lr", "tag"),
        (
            {"search_space": {"lr": {"type": "uniform", "min_value": 1, "max_value": 1}}},
            "lr",
            "smaller",
        ),
        ({"search_space": {"lr": {"type": "choice", "values": []}}}, "values", "at least 1"),
        ({"search_space": {"lr": {"type": "randint", "upper": 0}}}, "upper", "greater"),
        ({"search_space": {"lr": {"type": "normal", "mu": 0, "sigma": 0}}}, "sigma", "greater"),
        (
            {"search_space": {"lr": {"type": "quniform", "min_value": 0, "max_value": 1}}},
            "q",
            "required",
        ),
        (
            {"search_space": {"lr": {"type": "loguniform", "min_value": 0, "max_value": 800}}},
            "lr",
            "exponents",
        ),
        ({"objective": {"primary_metric": "", "goal": "minimize"}}, "primary_metric", "at least 1"),
        ({"objective": {"primary_metric": "  ", "goal": "minimize"}}, "primary_metric", "pattern"),
        ({"objective": {"primary_metric": "loss", "goal": "min"}}, "goal", "minimize"),
        ({"limits": {"max_total_trials": 0}}, "max_total_trials", "greater"),
        ({"limits": {"max_concurrent_trials": -1}}, "max_concurrent_trials", "greater"),
        ({"limits": {"timeout": 0}}, "timeout", "greater"),
        ({"limits": {"trial_timeout": -5}}, "trial_timeout", "greater"),
        ({"sampling_algorithm": "sobol"}, "type", "random"),
        (
            {"early_termination": {"type": "bandit", "evaluation_interval": 1}},
            "early_termination",
            "exactly one",
        ),
        (
            {"early_termination": {"type": "bandit", "slack_factor": 0.1, "slack_amount": 1}},
            "early_termination",
            "exactly one",
        ),
        (
            {"early_termination": {"type": "truncation_selection", "truncation_percentage": 100}},
            "truncation_percentage",
            "less",
        ),
        (
            {"early_termination": {"type": "median_stopping", "evaluation_interval": 0}},
            "evaluation_interval",
            "greater",
        ),
    ],
)
def test_schema_refuses_with_the_field_named(
    changes: dict[str, Any], where: str, says: str
) -> None:
    with pytest.raises(ValidationError) as info:
        SweepJobCreate.model_validate(sweep(**changes))
    text = str(info.value)
    assert where in text and says in text, text


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        (
            {"trial": {"command": "python t.py ${{search_space.lr}} ${{search_space.width}}"}},
            "has no 'width'",
        ),
        (
            {"trial": {"command": "python t.py ${{search_space.lr}}"}},
            "search_space.depth is not used",
        ),
        (
            {"sampling_algorithm": "grid"},
            "search_space.lr: grid sampling needs discrete parameters",
        ),
        (
            {
                "sampling_algorithm": "grid",
                "trial": {"command": "x ${{search_space.a}} ${{search_space.b}}"},
                "search_space": {
                    "a": {"type": "randint", "upper": 1000},
                    "b": {"type": "randint", "upper": 1000},
                },
            },
            "the grid has 1000000 points",
        ),
        (
            {
                "trial": {"command": "x ${{search_space.a}}"},
                "search_space": {
                    "a": {"type": "randint", "upper": 3},
                    "b c": {"type": "randint", "upper": 3},
                },
            },
            "parameter name 'b c'",
        ),
    ],
)
def test_checks_refuse_before_anything_runs(changes: dict[str, Any], says: str) -> None:
    spec = SweepJobCreate.model_validate(sweep(**changes))
    with pytest.raises(InvalidArgument, match=says):
        check_sweep(spec)


def test_grid_over_choice_and_randint_is_allowed() -> None:
    spec = SweepJobCreate.model_validate(
        sweep(
            sampling_algorithm="grid",
            search_space={
                "lr": {"type": "choice", "values": [0.1, 0.01]},
                "depth": {"type": "randint", "upper": 3},
            },
        )
    )
    space = check_sweep(spec)
    assert space.grid() == {"lr": [0.1, 0.01], "depth": [0, 1, 2]} and space.grid_size() == 6


def test_transforms_follow_the_cloud_semantics() -> None:
    def param(dist: dict[str, Any]) -> Any:
        spec = SweepJobCreate.model_validate(
            sweep(trial={"command": "x ${{search_space.p}}"}, search_space={"p": dist})
        )
        return SearchSpace(spec.search_space).parameters["p"]

    lu = param({"type": "loguniform", "min_value": -2, "max_value": 1})
    d = lu.distribution()
    assert math.isclose(d.low, math.exp(-2)) and math.isclose(d.high, math.exp(1)) and d.log
    assert lu.value(0.5) == 0.5  # Optuna samples the value itself, log-uniformly
    q = param({"type": "quniform", "min_value": 0, "max_value": 100, "q": 8})
    assert q.value(13.0) == 16 and isinstance(q.value(13.0), int)
    qf = param({"type": "quniform", "min_value": 0, "max_value": 1, "q": 0.1})
    assert qf.value(0.26) == 0.3
    ql = param({"type": "qloguniform", "min_value": 0, "max_value": 5, "q": 2})
    assert ql.value(7.3) == 8
    n = param({"type": "normal", "mu": 10, "sigma": 2})
    assert n.value(0.5) == pytest.approx(10) and n.value(0.8413447) == pytest.approx(12, abs=1e-4)
    ln = param({"type": "lognormal", "mu": 0, "sigma": 1})
    assert ln.value(0.5) == pytest.approx(1.0)
    r = param({"type": "randint", "upper": 4})
    assert (r.distribution().low, r.distribution().high) == (0, 3)
