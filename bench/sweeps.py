"""Sweeps benchmark, one command: the controller's overhead, and how well TPE searches.

    python bench/sweeps.py            # 50 trials on 2 slots; 20 seeds x 40 trials per sampler
    python bench/sweeps.py --quick    # 16 trials; 5 seeds
    python bench/sweeps.py --json out.json

Two figures against the targets of issue 5:

1. ``overhead``: a sweep of N trials of a trivial script (``python -c``: import trainyard, sleep
   ``D``, log the objective) with ``max_concurrent_trials: 2`` on the local compute. The
   *ideal schedule* packs the trials' own job lifetimes (claimed to final status, from their
   status history: what the jobs system takes to run each) onto 2 slots in trial order; the
   sweep's makespan (submitted to ``Completed``, from its status history) over that ideal, minus
   one, is what the controller adds: starting, sampling, recording and submitting each trial,
   noticing each end, finishing. Target: under 10%. The whole stack against
   ``ceil(N / 2) * D`` (the script's sleep alone) is printed too, for reference.
2. ``search``: on a fixed noisy synthetic objective (the Branin function plus a log-scaled
   learning-rate term, plus Gaussian noise drawn from the seed and the trial number: pure
   Python, no jobs), the best value found by ``bayesian`` (our TPE path: ``SweepStudy``) and by
   ``random`` for the same budget, averaged over seeds, side by side with Optuna used directly
   with the same samplers and seeds. Ours must match Optuna's exactly (same parameters, same
   best), and TPE should beat random.

The server is ``python -m trainyard up`` in a temporary ``TRAINYARD_HOME`` on a free loopback
port, stopped at the end (also on error).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import optuna

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support: start and stop a real server

from tests.support import start_server  # noqa: E402

from trainyard.schemas.jobs import SweepJobCreate  # noqa: E402
from trainyard.sweeps.samplers.bayesian import tpe  # noqa: E402
from trainyard.sweeps.space import SearchSpace  # noqa: E402
from trainyard.sweeps.study import SweepStudy  # noqa: E402

TRIVIAL = (
    "import sys, time, trainyard; time.sleep({sleep}); "
    "trainyard.log('loss', (float(sys.argv[1]) - 0.3) ** 2)"
)
NOISE = 2.0


# ---------------------------------------------------------------------------- 1. overhead
def _ideal(durations: list[float], slots: int = 2) -> float:
    free = [0.0] * slots
    for d in durations:
        i = free.index(min(free))
        free[i] += d
    return max(free)


def _span(history: list[dict[str, Any]], start: str, end: set[str]) -> float:
    t0 = next(h["time"] for h in history if h["status"] == start)
    t1 = next(h["time"] for h in history if h["status"] in end)
    return (t1 - t0) / 1000


def overhead(trials: int, sleep: float) -> dict[str, Any]:
    """Run the sweep of ``trials`` trivial trials; the makespan against the ideal schedules."""
    import httpx

    import trainyard

    with tempfile.TemporaryDirectory() as tmp:
        srv = start_server(Path(tmp), {"TRAINYARD_LOG_LEVEL": "warning"})
        try:
            ws = trainyard.connect(srv.url)
            command = f'python -c "{TRIVIAL.format(sleep=sleep)}" ${{{{search_space.x}}}}'
            sweep = ws.jobs.create_sweep(
                name="bench",
                trial={"command": command},
                search_space={"x": {"type": "uniform", "min_value": 0, "max_value": 1}},
                objective={"primary_metric": "loss", "goal": "minimize"},
                sampling_algorithm={"type": "random", "seed": 1},
                limits={"max_total_trials": trials, "max_concurrent_trials": 2},
            )
            status = sweep.wait(timeout=trials * (sleep + 5) + 60, poll=0.5)
            assert status == "Completed", sweep.info.error
            doc = httpx.get(f"{srv.api}/jobs/bench", timeout=60).json()
            lives = []
            for t in sorted(doc["trials"], key=lambda t: t["number"]):
                job = httpx.get(f"{srv.api}/jobs/{t['name']}", timeout=60).json()
                lives.append(_span(job["status_history"], "Preparing", {"Completed"}))
            ws.close()
        finally:
            srv.stop()
    makespan = _span(doc["status_history"], "Queued", {"Completed"})
    ideal = _ideal(lives)
    script = math.ceil(trials / 2) * sleep
    return {
        "trials": trials,
        "sleep_s": sleep,
        "makespan_s": round(makespan, 3),
        "ideal_s": round(ideal, 3),
        "overhead": round(makespan / ideal - 1, 4),
        "trial_life_mean_s": round(statistics.fmean(lives), 3),
        "script_ideal_s": script,
        "whole_stack_overhead": round(makespan / script - 1, 4),
    }


# ---------------------------------------------------------------------------- 2. search
SPACE = {
    "x": {"type": "uniform", "min_value": -5, "max_value": 10},
    "y": {"type": "uniform", "min_value": 0, "max_value": 15},
    "lr": {"type": "loguniform", "min_value": -9.2, "max_value": 0},
}


def true_value(p: dict[str, Any]) -> float:
    """Branin (minimum 0.398) plus a learning-rate term, best at lr = e^-4.6 (0.01)."""
    x, y = p["x"], p["y"]
    b = (y - 5.1 / (4 * math.pi**2) * x**2 + 5 / math.pi * x - 6) ** 2
    b += 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10
    return b + 0.5 * (math.log(p["lr"]) + 4.6) ** 2


def noisy(p: dict[str, Any], seed: int, number: int) -> float:
    """The observed value: the true value plus fixed Gaussian noise of (seed, trial number)."""
    return true_value(p) + random.Random(seed * 100_003 + number).gauss(0, NOISE)


def _space() -> SearchSpace:
    doc = {
        "type": "sweep",
        "trial": {"command": " ".join("${{search_space." + k + "}}" for k in SPACE)},
        "sampling_algorithm": "random",
        "search_space": SPACE,
        "objective": {"primary_metric": "f", "goal": "minimize"},
    }
    return SearchSpace(SweepJobCreate.model_validate(doc).search_space)


def _ours(algorithm: str, seed: int, budget: int) -> list[dict[str, Any]]:
    study = SweepStudy(_space(), algorithm, seed, "minimize")
    seen = []
    for _ in range(budget):
        number, _raw, params = study.ask()
        study.tell(number, "complete", noisy(params, seed, number))
        seen.append(params)
    return seen


def _direct(algorithm: str, seed: int, budget: int) -> list[dict[str, Any]]:
    sampler = tpe(seed) if algorithm == "bayesian" else optuna.samplers.RandomSampler(seed)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    dists = _space().distributions()
    seen = []
    for _ in range(budget):
        t = study.ask(dists)
        study.tell(t, noisy(t.params, seed, t.number))
        seen.append(dict(t.params))
    return seen


def _best(params: list[dict[str, Any]], seed: int) -> tuple[float, float]:
    """The best observed value, and the true value of the trial that observed it."""
    observed = [noisy(p, seed, i) for i, p in enumerate(params)]
    i = min(range(len(params)), key=lambda k: observed[k])
    return observed[i], true_value(params[i])


def search(seeds: int, budget: int) -> dict[str, Any]:
    """Mean best values of each sampler, ours and Optuna's, over ``seeds`` seeds."""
    rows: dict[str, dict[str, list[float]]] = {}
    for algorithm in ("random", "bayesian"):
        for who, run in (("trainyard", _ours), ("optuna", _direct)):
            key = f"{algorithm}/{who}"
            rows[key] = {"observed": [], "true": []}
            for seed in range(seeds):
                params = run(algorithm, seed, budget)
                observed, true = _best(params, seed)
                rows[key]["observed"].append(observed)
                rows[key]["true"].append(true)
    out: dict[str, Any] = {"seeds": seeds, "budget": budget, "noise_sd": NOISE}
    for key, r in rows.items():
        out[key] = {
            "mean_best_observed": round(statistics.fmean(r["observed"]), 4),
            "mean_true_at_best": round(statistics.fmean(r["true"]), 4),
        }
    for algorithm in ("random", "bayesian"):
        ours, direct = rows[f"{algorithm}/trainyard"], rows[f"{algorithm}/optuna"]
        out[f"{algorithm}_matches_optuna"] = ours == direct
    b, r = out["bayesian/trainyard"], out["random/trainyard"]
    out["bayesian_beats_random"] = b["mean_true_at_best"] < r["mean_true_at_best"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer trials and seeds")
    parser.add_argument("--trials", type=int, help="trials of the overhead sweep (50)")
    parser.add_argument("--sleep", type=float, default=0.5, help="each trial's sleep (0.5 s)")
    parser.add_argument("--seeds", type=int, help="seeds of the search comparison (20)")
    parser.add_argument("--budget", type=int, default=40, help="trials per search (40)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    trials = args.trials or (16 if args.quick else 50)
    seeds = args.seeds or (5 if args.quick else 20)

    t0 = time.monotonic()
    found = search(seeds, args.budget)
    print(f"search: {seeds} seeds x {args.budget} trials, noise sd {NOISE}")
    print(
        f"  {'sampler':<10} {'ours: best seen':>16} {'true at best':>13} "
        f"{'optuna: best seen':>18} {'true at best':>13}"
    )
    for algorithm in ("random", "bayesian"):
        ours, direct = found[f"{algorithm}/trainyard"], found[f"{algorithm}/optuna"]
        print(
            f"  {algorithm:<10} {ours['mean_best_observed']:>16.4f}"
            f" {ours['mean_true_at_best']:>13.4f}"
            f" {direct['mean_best_observed']:>18.4f} {direct['mean_true_at_best']:>13.4f}"
            f"   matches optuna: {found[f'{algorithm}_matches_optuna']}"
        )
    print(
        f"  bayesian beats random (true value at the best trial): {found['bayesian_beats_random']}"
    )
    print(f"  ({time.monotonic() - t0:.1f} s)")

    t0 = time.monotonic()
    cost = overhead(trials, args.sleep)
    print(f"overhead: {trials} trials of sleep {args.sleep} s + log, max_concurrent_trials 2")
    print(
        f"  makespan {cost['makespan_s']:.2f} s; ideal packing of the trials' job lifetimes "
        f"(mean {cost['trial_life_mean_s']:.2f} s) {cost['ideal_s']:.2f} s -> controller "
        f"overhead {cost['overhead']:.1%} (target < 10%)"
    )
    print(
        f"  whole stack vs ceil(N/2) x sleep = {cost['script_ideal_s']:.1f} s: "
        f"{cost['whole_stack_overhead']:.1%} (python start-up, import, jobs system included)"
    )
    print(f"  ({time.monotonic() - t0:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps({"search": found, "overhead": cost}, indent=2))
    ok = cost["overhead"] < 0.10 and found["random_matches_optuna"]
    ok = ok and found["bayesian_matches_optuna"]
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
