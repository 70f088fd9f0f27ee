"""The data and queries of the run-search benchmark, shared by both sides (standard library only).

``bench/tracking.py`` (project venv) and ``bench/_mlflow_side.py`` (MLflow's venv) both import
this file, so both servers get the very same runs and answer the very same query.
"""

from __future__ import annotations

import random

ALPHAS = [f"{a / 10:.1f}" for a in range(1, 11)]
"""Param ``alpha`` cycles through '0.1' ... '1.0': each value is on 10% of the runs."""

SEARCH_FILTER = "metrics.rmse < 50 and params.alpha = '0.5'"
"""Matches about 5% of the runs (rmse is uniform on [0, 100)): 500 of 10,000."""

SEARCH_ORDER_BY = "metrics.rmse ASC"
SEARCH_MAX_RESULTS = 100
SEED = 7


def run_specs(n: int, seed: int = SEED) -> list[tuple[str, float]]:
    """``(alpha, rmse)`` of each of ``n`` runs, the same on every call with the same seed."""
    rng = random.Random(seed)
    return [(ALPHAS[i % len(ALPHAS)], rng.uniform(0.0, 100.0)) for i in range(n)]
