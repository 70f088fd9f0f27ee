"""The MLflow half of ``bench/tracking.py``: client workloads run inside MLflow's own venv.

MLflow must not be installed in the project's venv, so ``bench/tracking.py`` runs this file with
``bench/.venv-mlflow/bin/python``. Each sub-command drives one workload against an MLflow
tracking server and prints one line ``RESULT {json}`` on stdout (anything MLflow itself prints
goes before it, or to stderr). Raw timings are returned; ``tracking.py`` computes percentiles.

Sub-commands (all take ``--uri``):

- ``version``: the installed MLflow version and whether ``log_metric(synchronous=False)`` exists.
- ``log-latency --calls N [--async] [--pace-us P]``: N ``mlflow.log_metric`` calls in one run,
  each timed with ``time.perf_counter_ns``, with P µs of busy work before each (the "training
  step"); with ``--async`` the calls pass ``synchronous=False`` and the time until
  ``mlflow.flush_async_logging()`` returns is reported too.
- ``ingest --values N --batch 1000 --max-seconds S``: ``MlflowClient.log_batch`` of ``batch``
  ``Metric`` objects at a time into one run, until N values are stored or S seconds have passed.
- ``populate --runs N --threads T``: N runs in a new experiment, each made by ``create_run`` (with
  a tag) and one ``log_batch`` (param ``alpha``, metric ``rmse``), from T threads.
- ``search --experiment-id E --filter F --order-by O --max-results M --repeat R``:
  ``MlflowClient.search_runs`` R times (after 2 warm-up calls), each timed.
- ``search-both --target NAME URI EXPERIMENT_ID`` (repeatable) ``--filter F --order-by O
  --max-results M --repeat R --rounds K``: the same search through ``mlflow.search_runs`` (a
  pandas DataFrame) and ``MlflowClient.search_runs``, against each target (e.g. Trainyard's and
  MLflow's servers) in K alternating rounds, R timed calls per target and API in all (after 2
  warm-up calls per target and API), so that every server sees the machine in the same state.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

# After the telemetry switches. _workload sits beside this file, which runs as a script.
import mlflow
from _workload import SEED, run_specs
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient


def emit(result: dict[str, Any]) -> None:
    """Print the result line that ``tracking.py`` parses."""
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


def supports_async() -> bool:
    """Whether this MLflow's ``log_metric`` takes ``synchronous=``."""
    return "synchronous" in inspect.signature(mlflow.log_metric).parameters


def cmd_version(_args: argparse.Namespace) -> dict[str, Any]:
    return {"mlflow": mlflow.__version__, "async": supports_async(), "python": sys.version}


def cmd_log_latency(args: argparse.Namespace) -> dict[str, Any]:
    mlflow.set_tracking_uri(args.uri)
    mode = "async" if args.use_async else "sync"
    mlflow.set_experiment(f"bench-log-latency-{mode}-{int(time.time() * 1000)}")
    kwargs: dict[str, Any] = {"synchronous": False} if args.use_async else {}
    durations: list[int] = []
    clock = time.perf_counter_ns
    pace_ns = int(args.pace_us * 1000)
    log_metric = mlflow.log_metric
    with mlflow.start_run():
        for i in range(args.warmup):  # connection set-up, async thread start
            log_metric("warmup", float(i), step=i, **kwargs)
        if args.use_async:
            mlflow.flush_async_logging()
        started = time.perf_counter()
        for i in range(args.calls):
            if pace_ns:  # the "training step" between two calls: a busy wait
                until = clock() + pace_ns
                while clock() < until:
                    pass
            t0 = clock()
            log_metric("loss", 1.0 / (i + 1), step=i, **kwargs)
            durations.append(clock() - t0)
        loop_s = time.perf_counter() - started
        drain_s = None
        if args.use_async:
            mlflow.flush_async_logging()
            drain_s = time.perf_counter() - started
    return {"mode": mode, "durations_ns": durations, "loop_s": loop_s, "total_s": drain_s}


def cmd_ingest(args: argparse.Namespace) -> dict[str, Any]:
    client = MlflowClient(tracking_uri=args.uri)
    exp_id = client.create_experiment(f"bench-ingest-{int(time.time() * 1000)}")
    run_id = client.create_run(exp_id).info.run_id
    client.log_batch(run_id, metrics=[Metric("warmup", 0.0, int(time.time() * 1000), 0)])
    deadline = time.perf_counter() + args.max_seconds
    done = 0
    requests = 0
    started = time.perf_counter()
    while done < args.values and time.perf_counter() < deadline:
        n = min(args.batch, args.values - done)
        ts = int(time.time() * 1000)
        batch = [Metric("loss", 1.0 / (done + j + 1), ts, done + j) for j in range(n)]
        client.log_batch(run_id, metrics=batch)
        done += n
        requests += 1
    elapsed = time.perf_counter() - started
    client.set_terminated(run_id)
    return {
        "run_id": run_id,
        "values": done,
        "requests": requests,
        "seconds": elapsed,
        "values_per_s": done / elapsed if elapsed > 0 else 0.0,
        "capped": done < args.values,
    }


def cmd_populate(args: argparse.Namespace) -> dict[str, Any]:
    client = MlflowClient(tracking_uri=args.uri)
    exp_id = client.create_experiment(f"bench-search-{int(time.time() * 1000)}")
    specs = run_specs(args.runs, args.seed)
    errors: list[str] = []
    lock = threading.Lock()

    def make(spec: tuple[str, float]) -> None:
        alpha, rmse = spec
        try:
            run = client.create_run(exp_id, tags={"team": "bench"})
            client.log_batch(
                run.info.run_id,
                metrics=[Metric("rmse", rmse, int(time.time() * 1000), 0)],
                params=[Param("alpha", alpha)],
                tags=[RunTag("kind", "search")],
            )
        except Exception as exc:  # counted and reported, not fatal for the other runs
            with lock:
                errors.append(repr(exc))

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        list(pool.map(make, specs))
    elapsed = time.perf_counter() - started
    return {
        "experiment_id": exp_id,
        "runs": args.runs - len(errors),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "seconds": elapsed,
    }


def cmd_search(args: argparse.Namespace) -> dict[str, Any]:
    client = MlflowClient(tracking_uri=args.uri)

    def once() -> list[Any]:
        return list(
            client.search_runs(
                [args.experiment_id],
                filter_string=args.filter,
                order_by=[args.order_by],
                max_results=args.max_results,
            )
        )

    for _ in range(2):  # warm-up: connection, caches
        once()
    durations: list[float] = []
    found: list[Any] = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        found = once()
        durations.append((time.perf_counter() - t0) * 1000.0)
    rmse = [r.data.metrics.get("rmse") for r in found]
    return {"durations_ms": durations, "returned": len(found), "rmse": rmse}


def cmd_search_both(args: argparse.Namespace) -> dict[str, Any]:
    """One search, two client APIs, several servers, timed in alternating rounds."""
    targets = [(name, uri, exp) for name, uri, exp in args.target]
    clients = {name: MlflowClient(tracking_uri=uri) for name, uri, _ in targets}

    def fluent(name: str, uri: str, exp: str) -> list[float]:
        mlflow.set_tracking_uri(uri)
        df = mlflow.search_runs(
            experiment_ids=[exp],
            filter_string=args.filter,
            order_by=[args.order_by],
            max_results=args.max_results,
        )
        return [float(v) for v in df["metrics.rmse"]] if len(df) else []

    def client(name: str, uri: str, exp: str) -> list[float]:
        found = clients[name].search_runs(
            [exp], filter_string=args.filter, order_by=[args.order_by], max_results=args.max_results
        )
        return [float(r.data.metrics["rmse"]) for r in found]

    apis = {"mlflow.search_runs": fluent, "MlflowClient.search_runs": client}
    out: dict[str, Any] = {
        name: {api: {"durations_ms": [], "rmse": []} for api in apis} for name, _, _ in targets
    }
    for name, uri, exp in targets:  # warm-up: connections, pandas import, server caches
        for fn in apis.values():
            for _ in range(2):
                fn(name, uri, exp)
    rounds = max(1, min(args.rounds, args.repeat))
    per_round = [args.repeat // rounds + (i < args.repeat % rounds) for i in range(rounds)]
    for n in per_round:
        for api, fn in apis.items():
            for name, uri, exp in targets:
                slot = out[name][api]
                for _ in range(n):
                    t0 = time.perf_counter()
                    rmse = fn(name, uri, exp)
                    slot["durations_ms"].append((time.perf_counter() - t0) * 1000.0)
                slot["rmse"] = rmse
                slot["returned"] = len(rmse)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("version")
    p.set_defaults(fn=cmd_version)

    p = sub.add_parser("log-latency")
    p.add_argument("--uri", required=True)
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--async", dest="use_async", action="store_true")
    p.add_argument("--pace-us", type=float, default=0.0)
    p.set_defaults(fn=cmd_log_latency)

    p = sub.add_parser("ingest")
    p.add_argument("--uri", required=True)
    p.add_argument("--values", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--max-seconds", type=float, default=120.0)
    p.set_defaults(fn=cmd_ingest)

    p = sub.add_parser("populate")
    p.add_argument("--uri", required=True)
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--seed", type=int, default=SEED)
    p.set_defaults(fn=cmd_populate)

    p = sub.add_parser("search")
    p.add_argument("--uri", required=True)
    p.add_argument("--experiment-id", required=True)
    p.add_argument("--filter", required=True)
    p.add_argument("--order-by", required=True)
    p.add_argument("--max-results", type=int, default=100)
    p.add_argument("--repeat", type=int, default=50)
    p.set_defaults(fn=cmd_search)

    p = sub.add_parser("search-both")
    p.add_argument("--target", nargs=3, action="append", required=True)
    p.add_argument("--filter", required=True)
    p.add_argument("--order-by", required=True)
    p.add_argument("--max-results", type=int, default=100)
    p.add_argument("--repeat", type=int, default=50)
    p.add_argument("--rounds", type=int, default=5)
    p.set_defaults(fn=cmd_search_both)

    args = parser.parse_args(argv)
    emit(args.fn(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
