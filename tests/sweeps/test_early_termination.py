"""Each early-termination policy on synthetic metric histories (no jobs)."""

from __future__ import annotations

from typing import Any

from trainyard.schemas.sweeps import BanditPolicy, MedianStoppingPolicy, TruncationSelectionPolicy
from trainyard.sweeps.early_termination import make_policy


def policy(goal: str = "minimize", **spec: Any) -> Any:
    models = {
        "bandit": BanditPolicy,
        "median_stopping": MedianStoppingPolicy,
        "truncation_selection": TruncationSelectionPolicy,
    }
    return make_policy(models[spec["type"]](**spec), goal)


def test_bandit_slack_factor_minimize_cuts_beyond_best_times_one_plus_factor() -> None:
    p = policy(type="bandit", slack_factor=0.1, delay_evaluation=2)
    histories = {0: [0.60, 0.52], 1: [0.70, 0.71], 2: [0.55, 0.56]}
    ended = p.evaluate(histories, running={1, 2})
    assert ended == {1: "bandit: 0.7 > best 0.52 * (1 + 0.1) at interval 2"}
    # each (trial, interval) is judged once: nothing new, nothing ended again
    assert p.evaluate(histories, running={2}) == {}


def test_bandit_maximize_uses_best_over_one_plus_factor_and_slack_amount() -> None:
    p = policy("maximize", type="bandit", slack_factor=0.1)
    ended = p.evaluate({0: [0.8], 1: [0.73], 2: [0.72]}, running={1, 2})
    assert list(ended) == [2]  # 0.8 / 1.1 = 0.727: 0.73 stays, 0.72 goes
    assert ended[2] == "bandit: 0.72 < best 0.8 / (1 + 0.1) at interval 1"
    a = policy("maximize", type="bandit", slack_amount=0.2)
    assert list(a.evaluate({0: [0.8], 1: [0.61], 2: [0.59]}, running={1, 2})) == [2]
    # negative values: the same distance, not a flipped threshold
    neg = policy("minimize", type="bandit", slack_factor=0.1)
    assert neg.evaluate({0: [-10.0], 1: [-9.5], 2: [-8.0]}, running={0, 1, 2}) == {
        2: "bandit: -8 > best -10 * (1 + 0.1) at interval 1"
    }


def test_bandit_waits_for_delay_and_interval_and_compares_at_the_same_interval() -> None:
    p = policy(type="bandit", slack_amount=0.5, evaluation_interval=2, delay_evaluation=3)
    # the bad trial is out of slack from interval 1 on, but the policy applies at 4, 6, ...
    histories = {0: [1.0, 1.0, 1.0], 1: [5.0, 5.0, 5.0]}
    assert p.evaluate(histories, running={1}) == {}
    histories = {0: [1.0, 1.0, 1.0, 1.0], 1: [5.0, 5.0, 5.0, 5.0]}
    assert list(p.evaluate(histories, running={1})) == [1]
    # a young trial is only compared with what older ones had logged by the same interval
    young = policy(type="bandit", slack_factor=0.1)
    assert young.evaluate({0: [3.0, 2.0, 0.1], 1: [2.9]}, running={1}) == {}


def test_median_stopping_against_the_others_running_averages() -> None:
    p = policy(type="median_stopping", delay_evaluation=2)
    # averages at interval 2: trial 0 -> 1.5, trial 1 -> 2.5; median 2.0
    histories = {0: [2.0, 1.0], 1: [3.0, 2.0], 2: [2.6, 2.1]}
    ended = p.evaluate(histories, running={2})
    assert ended == {2: "median_stopping: best 2.1 > median 2 of 2 running averages at interval 2"}
    alone = policy(type="median_stopping")
    assert alone.evaluate({0: [9.0, 9.0]}, running={0}) == {}
    maxi = policy("maximize", type="median_stopping", delay_evaluation=2)
    assert list(maxi.evaluate({0: [0.9, 0.9], 1: [0.1, 0.2]}, running={0, 1})) == [1]


def test_truncation_selection_ends_the_worst_percentage() -> None:
    p = policy(type="truncation_selection", truncation_percentage=50)
    histories = {0: [1.0], 1: [4.0], 2: [2.0], 3: [3.0]}
    ended = p.evaluate(histories, running={0, 1, 2, 3})
    assert sorted(ended) == [1, 3]
    assert ended[1] == "truncation_selection: 4 ranks 4 of 4 at interval 1, in the worst 50%"
    small = policy(type="truncation_selection", truncation_percentage=10)
    assert small.evaluate({0: [1.0], 1: [4.0]}, running={0, 1}) == {}  # floor(2 * 10%) = 0
    # finished trials rank, but only running ones end; unless excluded from the ranking
    keep = policy(type="truncation_selection", truncation_percentage=50)
    assert keep.evaluate({0: [9.0], 1: [1.0], 2: [2.0]}, running={1, 2}) == {}
    excl = policy(type="truncation_selection", truncation_percentage=50, exclude_finished_jobs=True)
    assert list(excl.evaluate({0: [9.0], 1: [1.0], 2: [2.0]}, running={1, 2})) == [2]


def test_non_finite_values_count_as_the_worst() -> None:
    p = policy(type="truncation_selection", truncation_percentage=50)
    assert list(p.evaluate({0: [float("nan")], 1: [5.0]}, running={0, 1})) == [0]
