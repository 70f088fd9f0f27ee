"""How ``trainyard job show`` shows a sweep: its settings, best trial and a table of trials."""

from __future__ import annotations

import math
from typing import Any

from trainyard.cli._common import out, print_json, table
from trainyard.errors import InvalidArgument
from trainyard.schemas.jobs import SweepJob
from trainyard.schemas.sweeps import SweepTrial

SORT_KEYS = ("number", "objective", "status", "name")


def _param(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def sorted_trials(info: SweepJob, sort: str) -> list[SweepTrial]:
    """The trials by ``number``, ``status``, ``name`` or ``objective`` (best first, missing last).

    Raises:
        InvalidArgument: an unknown sort key.
    """
    if sort not in SORT_KEYS:
        raise InvalidArgument(f"--sort takes one of {', '.join(SORT_KEYS)}, got {sort!r}")
    trials = list(info.trials)
    if sort == "objective":
        sign = 1.0 if info.objective.goal == "minimize" else -1.0

        def key(t: SweepTrial) -> tuple[bool, float, int]:
            value = t.objective
            missing = value is None or not math.isfinite(value)
            return missing, 0.0 if missing else sign * (value or 0.0), t.number

        return sorted(trials, key=key)
    if sort == "status":
        return sorted(trials, key=lambda t: (t.status.value, t.number))
    if sort == "name":
        return sorted(trials, key=lambda t: t.name)
    return sorted(trials, key=lambda t: t.number)


def show_sweep(info: SweepJob, sort: str, as_json: bool) -> None:
    """Print a sweep: JSON (the sweep document, trials in the order asked) or tables."""
    trials = sorted_trials(info, sort)
    if as_json:
        doc = info.model_dump(mode="json")
        doc["trials"] = [t.model_dump(mode="json") for t in trials]
        print_json(doc)
        return
    obj = info.objective
    algo = info.sampling_algorithm
    seed = "" if algo.seed is None else f" (seed {algo.seed})"
    out.print(f"[bold]{info.name}[/bold]  sweep  {info.status.value}")
    out.print(f"trial:    {info.trial.command}", markup=False, highlight=False)
    out.print(f"sampling: {algo.type}{seed}   objective: {obj.goal} {obj.primary_metric}")
    lim = info.limits
    out.print(
        f"limits:   {lim.max_total_trials} trials, "
        f"{info.resolved.get('max_concurrent_trials', lim.max_concurrent_trials)} at once"
        + (f", timeout {lim.timeout} s" if lim.timeout else "")
    )
    if info.early_termination is not None:
        out.print(f"early termination: {info.early_termination.type}")
    out.print(f"run:      {info.run_id} (experiment {info.experiment_id})")
    best = info.best_trial
    if best is not None:
        params = ", ".join(f"{k}={_param(v)}" for k, v in best.parameters.items())
        out.print(
            f"best:     {best.name}  {obj.primary_metric}={best.objective:.6g}  {params}",
            highlight=False,
        )
    if info.error:
        out.print(f"error:    {info.error}", markup=False, highlight=False)
    names = list(info.search_space)
    table(
        f"Trials ({len(trials)}, by {sort})",
        ["number", "name", "status", *names, obj.primary_metric, "reason"],
        [
            (
                t.number,
                t.name,
                t.status.value,
                *(_param(t.parameters.get(n)) for n in names),
                None if t.objective is None else f"{t.objective:.6g}",
                t.reason,
            )
            for t in trials
        ],
    )
