"""Tracking benchmark: Trainyard against MLflow 3 on the same machine, one command.

    python bench/tracking.py            # full run (several minutes)
    python bench/tracking.py --quick    # smoke run (< 2 minutes once MLflow's venv exists)
    python bench/tracking.py --only ingest --json out.json

Four benchmarks, each against its MLflow anchor and stated as a ratio where > 1 means Trainyard is
better (throughputs: Trainyard / MLflow; latencies: MLflow / Trainyard):

1. ``log``: the cost of one ``run.log()`` call in the training loop (p50, p99 in µs; the SDK only
   queues the value), against ``mlflow.log_metric`` (one HTTP request per call) and
   ``mlflow.log_metric(..., synchronous=False)`` (MLflow's own background logging).
2. ``ingest``: sustained values per second from one process's ``run.log`` loop until
   ``run.flush()`` returns, i.e. until the server acknowledged every value (committed in SQLite,
   WAL, synchronous=FULL), against a loop of ``MlflowClient.log_batch`` with 1,000 ``Metric``
   each (MLflow's batch limit). Both stores are then counted with sqlite3 to check every value is
   there.
3. ``search``: p50/p95 latency of a filtered, ordered search (100 results) over N runs with a
   param, a metric and tags, against ``MlflowClient.search_runs`` with the same filter and order
   on the same data.
4. ``compat`` (issue 8): the same MLflow client code (``_mlflow_side.py``) pointed at Trainyard's
   MLflow routes and at MLflow's server: ``mlflow.log_metric`` (sync) calls/s,
   ``MlflowClient.log_batch`` (1,000 metrics per call) values/s, and the search of 3 through
   ``mlflow.search_runs`` and ``MlflowClient.search_runs`` (p50 ms, alternating rounds).

Each server is started fresh in a temporary folder on a free loopback port and stopped at the
end (also on error): Trainyard as ``python -m trainyard up`` with ``TRAINYARD_HOME`` pointing
there; MLflow as ``mlflow server`` with a SQLite backend, from its own venv ``bench/.venv-mlflow``
(created with ``pip install "mlflow>=3,<4"`` the first time). MLflow's client workloads run in that
venv too (``bench/_mlflow_side.py``), since MLflow is not a dependency of the project.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import httpx
import orjson
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _workload import (  # bench/ is not a package: imported from its folder
    SEARCH_FILTER,
    SEARCH_MAX_RESULTS,
    SEARCH_ORDER_BY,
    run_specs,
)

BENCH_DIR = Path(__file__).resolve().parent
MLFLOW_SIDE = BENCH_DIR / "_mlflow_side.py"
DEFAULT_MLFLOW_VENV = BENCH_DIR / ".venv-mlflow"
MLFLOW_REQUIREMENT = "mlflow>=3,<4"
HOST = "127.0.0.1"
API = "/api/v1/workspaces/default"
BENCHMARKS = ("log", "ingest", "search", "compat")

# Wide enough for the results table when the output is a file or a pipe.
console = Console(width=None if sys.stdout.isatty() else 150)


# --- settings ------------------------------------------------------------------------------


@dataclass
class Sizes:
    """How much work each benchmark does (``--quick`` shrinks all of it)."""

    log_calls: int = 200_000
    mlflow_log_calls: int = 2_000
    log_pace_us: float = 20.0
    values: int = 1_000_000
    mlflow_values: int = 200_000
    mlflow_max_seconds: float = 120.0
    runs: int = 10_000
    search_repeat: int = 50
    search_rounds: int = 5
    threads: int = 8

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            log_calls=20_000,
            mlflow_log_calls=300,
            values=100_000,
            mlflow_values=20_000,
            mlflow_max_seconds=30.0,
            runs=1_000,
            search_repeat=20,
            search_rounds=2,
        )


@dataclass
class Target:
    """One budget: ``value`` compared with ``limit`` by ``op`` ('<' or '>=')."""

    text: str
    op: str
    limit: float

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value < self.limit if self.op == "<" else value >= self.limit


@dataclass
class Row:
    """One line of the results table (and of the JSON output)."""

    bench: str
    figure: str
    unit: str
    trainyard: float | None
    mlflow: float | None
    higher_is_better: bool
    targets: list[Target] = field(default_factory=list)
    ratio_target: float | None = None

    @property
    def ratio(self) -> float | None:
        """> 1 means Trainyard is better."""
        if not self.trainyard or not self.mlflow:
            return None
        if self.higher_is_better:
            return self.trainyard / self.mlflow
        return self.mlflow / self.trainyard

    def verdicts(self) -> list[tuple[str, bool | None]]:
        out = [(t.text, t.met(self.trainyard)) for t in self.targets]
        if self.ratio_target is not None:
            ratio = self.ratio
            out.append(
                (
                    f"ratio ≥ {self.ratio_target:g}x",
                    None if ratio is None else ratio >= self.ratio_target,
                )
            )
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "bench": self.bench,
            "figure": self.figure,
            "unit": self.unit,
            "trainyard": self.trainyard,
            "mlflow": self.mlflow,
            "ratio_trainyard_better": self.ratio,
            "targets": [{"target": t, "met": m} for t, m in self.verdicts()],
        }


# --- small helpers -------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    data = sorted(values)
    pos = (len(data) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def note(text: str) -> None:
    console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {text}")


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit.endswith("/s"):
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def quiet_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "PYTHONUNBUFFERED": "1"}
    )
    for var in ("TRAINYARD_URI", "TRAINYARD_TOKEN", "TRAINYARD_WORKSPACE", "MLFLOW_TRACKING_URI"):
        env.pop(var, None)
    return env


# --- servers -------------------------------------------------------------------------------


class Server:
    """A server process started in its own session (so it and its children stop together)."""

    def __init__(
        self, name: str, cmd: list[str], env: dict[str, str], health_url: str, log: Path
    ) -> None:
        self.name = name
        self.cmd = cmd
        self.env = env
        self.health_url = health_url
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_s = 0.0

    def start(self, timeout: float = 120.0) -> None:
        started = time.perf_counter()
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                self.cmd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = started + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.perf_counter() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} server exited with code {self.proc.returncode}:\n"
                        + self.tail()
                    )
                try:
                    if client.get(self.health_url).status_code == 200:
                        self.startup_s = time.perf_counter() - started
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} server not healthy after {timeout:.0f} s:\n{self.tail()}")

    def cpu_s(self) -> float:
        """CPU seconds (user + system) used so far by the server's process group.

        Unlike wall-clock figures, this barely moves when other processes share the cores, so
        it gives a load-independent view of each server's cost per value or per search.
        """
        if self.proc is None:
            return 0.0
        return group_cpu_s(self.proc.pid)

    def tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # the group this Popen created, nothing else
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def group_cpu_s(pgid: int) -> float:
    """CPU seconds of the live processes of one process group, from ``/proc`` (Linux)."""
    ticks = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, pgrp, ...
        if int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def trainyard_server(home: Path, port: int) -> Server:
    env = quiet_env()
    env["TRAINYARD_HOME"] = str(home)
    cmd = [sys.executable, "-m", "trainyard", "up", "--host", HOST, "--port", str(port)]
    cmd += ["--log-level", "warning"]
    return Server("Trainyard", cmd, env, f"http://{HOST}:{port}/api/v1/health", home / "server.log")


def mlflow_server(venv: Path, root: Path, port: int) -> Server:
    exe = venv / "bin" / "mlflow"
    cmd = [
        str(exe),
        "server",
        "--backend-store-uri",
        f"sqlite:///{root / 'mlflow.db'}",
        "--default-artifact-root",
        str(root / "mlartifacts"),
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    # MLflow >= 3.5 checks the Host header of each request; its default allows loopback, which
    # is all this benchmark uses, so no --allowed-hosts is passed. Artifacts are not exercised:
    # the default (--serve-artifacts) stands.
    env = quiet_env()
    # MLflow >= 3.5 also starts a job runner (several huey consumer processes polling for GenAI
    # jobs); tracking does not use it, and its polling would load the 2 cores of both sides.
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    return Server("MLflow", cmd, env, f"http://{HOST}:{port}/health", root / "server.log")


def ensure_mlflow_venv(venv: Path) -> None:
    """Create MLflow's own venv the first time; reuse it afterwards."""
    python = venv / "bin" / "python"
    if python.exists():
        probe = subprocess.run(
            [str(python), "-c", "import mlflow"], capture_output=True, env=quiet_env(), check=False
        )
        if probe.returncode == 0:
            return
    note(f"installing {MLFLOW_REQUIREMENT} into {venv} (one time, a few minutes)")
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", MLFLOW_REQUIREMENT],
        check=True,
        env=quiet_env(),
    )


def mlflow_side(venv: Path, *args: str, timeout: float = 1800.0) -> dict[str, Any]:
    """Run one workload of ``_mlflow_side.py`` in MLflow's venv; its ``RESULT`` line, parsed."""
    proc = subprocess.run(
        [str(venv / "bin" / "python"), str(MLFLOW_SIDE), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=quiet_env(),
        check=False,
    )
    results = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not results:
        raise RuntimeError(
            f"_mlflow_side.py {' '.join(args[:1])} failed ({proc.returncode}):\n"
            + proc.stderr[-3000:]
        )
    data: dict[str, Any] = json.loads(results[-1][len("RESULT ") :])
    return data


def count_rows(db: Path, sql: str, *params: object) -> int:
    """Count rows in a server's SQLite file, read-only (WAL readers do not block the writer)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return int(conn.execute(sql, params).fetchone()[0])
    finally:
        conn.close()


# --- Trainyard workloads --------------------------------------------------------------------


def timer_overhead_ns(n: int = 100_000) -> float:
    """p50 of an empty ``perf_counter_ns`` pair: included in every per-call figure."""
    clock = time.perf_counter_ns
    out = [0] * n
    for i in range(n):
        t0 = clock()
        out[i] = clock() - t0
    return percentile(out, 50)


def spin_loop_s(calls: int, pace_us: float) -> float:
    """Seconds taken by the paced loop of :func:`trainyard_log_latency` without any logging."""
    clock = time.perf_counter_ns
    pace_ns = int(pace_us * 1000)
    durations = [0] * calls
    started = time.perf_counter()
    for i in range(calls):
        until = clock() + pace_ns
        while clock() < until:
            pass
        t0 = clock()
        durations[i] = clock() - t0
    return time.perf_counter() - started


def trainyard_log_latency(exp: Any, calls: int, pace_us: float) -> dict[str, Any]:
    """``run.log`` timed call by call, with ``pace_us`` of busy work between calls."""
    run = exp.start_run(name=f"log-latency-pace-{pace_us:g}us")
    for i in range(1000):  # warm-up: batcher thread, connection
        run.log("warmup", float(i), i)
    run.flush()
    clock = time.perf_counter_ns
    pace_ns = int(pace_us * 1000)
    log = run.log
    durations = [0] * calls
    started = time.perf_counter()
    for i in range(calls):
        if pace_ns:  # the "training step" between two calls
            until = clock() + pace_ns
            while clock() < until:
                pass
        value = 1.0 / (i + 1)
        t0 = clock()
        log("loss", value, i)
        durations[i] = clock() - t0
    loop_s = time.perf_counter() - started
    run.flush()
    total_s = time.perf_counter() - started
    run.complete()
    return {"durations_ns": durations, "loop_s": loop_s, "total_s": total_s}


def trainyard_ingest(exp: Any, values: int) -> dict[str, Any]:
    """``run.log`` as fast as one loop can, until ``run.flush()`` returns."""
    run = exp.start_run(name="ingest")
    run.log("warmup", 0.0)
    run.flush()
    log = run.log
    started = time.perf_counter()
    for i in range(values):
        log("loss", 1.0 / (i + 1), i)
    loop_s = time.perf_counter() - started
    run.flush()
    elapsed = time.perf_counter() - started
    run.complete()
    return {
        "run_id": run.run_id,
        "values": values,
        "loop_s": loop_s,
        "seconds": elapsed,
        "values_per_s": values / elapsed,
    }


def trainyard_populate(base: str, experiment_id: str, runs: int, threads: int) -> dict[str, Any]:
    """N runs through the REST API: ``POST /runs`` (with a tag), then one ``log-batch`` each."""
    specs = run_specs(runs)
    errors: list[str] = []
    limits = httpx.Limits(max_connections=threads, max_keepalive_connections=threads)
    with httpx.Client(base_url=base, timeout=60.0, limits=limits) as client:

        def make(spec: tuple[str, float]) -> None:
            alpha, rmse = spec
            try:
                r = client.post(
                    f"{API}/runs", json={"experiment_id": experiment_id, "tags": {"team": "bench"}}
                )
                r.raise_for_status()
                run_id = r.json()["run_id"]
                r = client.post(
                    f"{API}/runs/{run_id}/log-batch",
                    json={
                        "metrics": [
                            {
                                "key": "rmse",
                                "value": rmse,
                                "timestamp": int(time.time() * 1000),
                                "step": 0,
                            }
                        ],
                        "params": {"alpha": alpha},
                        "tags": {"kind": "search"},
                    },
                )
                r.raise_for_status()
            except httpx.HTTPError as exc:
                errors.append(repr(exc))

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(make, specs))
        elapsed = time.perf_counter() - started
    return {
        "runs": runs - len(errors),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "seconds": elapsed,
    }


def time_calls(fn: Callable[[], Any], repeat: int, warmup: int = 2) -> tuple[list[float], Any]:
    """Milliseconds of each of ``repeat`` calls (after ``warmup``), and the last answer."""
    for _ in range(warmup):
        fn()
    out: list[float] = []
    last: Any = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        last = fn()
        out.append((time.perf_counter() - t0) * 1000.0)
    return out, last


def trainyard_search(
    base: str, exp: Any, experiment_id: str, repeat: int, cpu: Callable[[], float]
) -> dict[str, Any]:
    """The search over raw HTTP (``POST /runs/search``) and through the SDK (``exp.runs``).

    ``cpu()`` gives the server's CPU seconds so far: the server's CPU per search is reported too.
    """
    body = {
        "experiment_ids": [experiment_id],
        "filter": SEARCH_FILTER,
        "order_by": [SEARCH_ORDER_BY],
        "max_results": SEARCH_MAX_RESULTS,
    }
    with httpx.Client(base_url=base, timeout=60.0) as client:

        def http_once() -> list[dict[str, Any]]:
            r = client.post(f"{API}/runs/search", json=body)
            r.raise_for_status()
            runs: list[dict[str, Any]] = orjson.loads(r.content)["runs"]
            return runs

        cpu0 = cpu()
        http_ms, http_runs = time_calls(http_once, repeat)
        http_cpu = (cpu() - cpu0) / (repeat + 2)

    def sdk_once() -> list[Any]:
        found = exp.runs(
            filter=SEARCH_FILTER,
            order_by=[SEARCH_ORDER_BY],
            max_results_per_page=SEARCH_MAX_RESULTS,
        )
        return list(islice(found, SEARCH_MAX_RESULTS))

    cpu0 = cpu()
    sdk_ms, sdk_runs = time_calls(sdk_once, repeat)
    sdk_cpu = (cpu() - cpu0) / (repeat + 2)
    return {
        "http_server_cpu_ms": http_cpu * 1000.0,
        "sdk_server_cpu_ms": sdk_cpu * 1000.0,
        "http_ms": http_ms,
        "sdk_ms": sdk_ms,
        "returned": len(http_runs),
        "rmse": [r["metrics"]["rmse"]["value"] for r in http_runs],
        "sdk_returned": len(sdk_runs),
    }


# --- the benchmarks ------------------------------------------------------------------------


@dataclass
class Context:
    sizes: Sizes
    ty_base: str
    ty_db: Path
    ml_uri: str | None
    ml_db: Path | None
    venv: Path
    ws: Any
    ty_server: Server
    ml_server: Server | None
    info: dict[str, Any] = field(default_factory=dict)


def bench_log(ctx: Context) -> list[Row]:
    s = ctx.sizes
    exp = ctx.ws.experiment("bench-log-latency")
    overhead = timer_overhead_ns() / 1000.0
    ctx.info["timer_overhead_us"] = overhead
    note(f"log: {s.log_calls:,} run.log calls paced {s.log_pace_us:g} µs apart")
    paced = trainyard_log_latency(exp, s.log_calls, s.log_pace_us)
    baseline_s = spin_loop_s(s.log_calls, s.log_pace_us) if s.log_pace_us else None
    note(f"log: {s.log_calls:,} run.log calls back to back")
    burst = trainyard_log_latency(exp, s.log_calls, 0.0)
    us = [d / 1000.0 for d in paced["durations_ns"]]
    burst_us = [d / 1000.0 for d in burst["durations_ns"]]
    ctx.info["log"] = {
        "trainyard_paced": {k: v for k, v in paced.items() if k != "durations_ns"},
        "trainyard_back_to_back": {
            **{k: v for k, v in burst.items() if k != "durations_ns"},
            "p50_us": percentile(burst_us, 50),
            "p99_us": percentile(burst_us, 99),
            "p999_us": percentile(burst_us, 99.9),
            "max_us": max(burst_us),
        },
        "trainyard_paced_p999_us": percentile(us, 99.9),
        "trainyard_paced_baseline_s": baseline_s,
        "trainyard_paced_slowdown_us": (
            (paced["loop_s"] - baseline_s) / s.log_calls * 1e6 if baseline_s else None
        ),
        "trainyard_paced_max_us": max(us),
    }
    ml_sync: list[float] = []
    ml_async: list[float] = []
    if ctx.ml_uri:
        note(f"log: {s.mlflow_log_calls:,} mlflow.log_metric calls (synchronous)")
        res = mlflow_side(
            ctx.venv,
            "log-latency",
            "--uri",
            ctx.ml_uri,
            "--calls",
            str(s.mlflow_log_calls),
            "--pace-us",
            str(s.log_pace_us),
        )
        ml_sync = [d / 1000.0 for d in res["durations_ns"]]
        ctx.info["log"]["mlflow_sync"] = {k: v for k, v in res.items() if k != "durations_ns"}
        if ctx.info.get("mlflow_async"):
            note(f"log: {s.mlflow_log_calls:,} mlflow.log_metric(synchronous=False) calls")
            res = mlflow_side(
                ctx.venv,
                "log-latency",
                "--uri",
                ctx.ml_uri,
                "--calls",
                str(s.mlflow_log_calls),
                "--pace-us",
                str(s.log_pace_us),
                "--async",
            )
            ml_async = [d / 1000.0 for d in res["durations_ns"]]
            ctx.info["log"]["mlflow_async"] = {k: v for k, v in res.items() if k != "durations_ns"}

    def pct(values: list[float], q: float) -> float | None:
        return percentile(values, q) if values else None

    p50, p99 = percentile(us, 50), percentile(us, 99)
    rows = [
        Row("log", "run.log p50 vs log_metric (sync)", "µs", p50, pct(ml_sync, 50), False),
        Row("log", "run.log p99 vs log_metric (sync)", "µs", p99, pct(ml_sync, 99), False),
    ]
    if ml_async or not ctx.ml_uri:
        rows += [
            Row(
                "log",
                "run.log p50 vs log_metric (async)",
                "µs",
                p50,
                pct(ml_async, 50),
                False,
                [Target("p50 < 10 µs", "<", 10.0)],
            ),
            Row(
                "log",
                "run.log p99 vs log_metric (async)",
                "µs",
                p99,
                pct(ml_async, 99),
                False,
                [Target("p99 < 100 µs", "<", 100.0)],
            ),
        ]
    return rows


def bench_ingest(ctx: Context) -> list[Row]:
    s = ctx.sizes
    exp = ctx.ws.experiment("bench-ingest")
    note(f"ingest: {s.values:,} values through run.log, then run.flush()")
    cpu0 = ctx.ty_server.cpu_s()
    ty = trainyard_ingest(exp, s.values)
    ty["server_cpu_us_per_value"] = (ctx.ty_server.cpu_s() - cpu0) / s.values * 1e6
    ty["stored"] = count_rows(
        ctx.ty_db, "SELECT COUNT(*) FROM metrics WHERE run_id = ? AND key = 'loss'", ty["run_id"]
    )
    ctx.info["ingest"] = {"trainyard": ty}
    ml_rate = None
    if ctx.ml_uri and ctx.ml_db:
        n = min(s.mlflow_values, s.values)
        note(f"ingest: up to {n:,} values via MlflowClient.log_batch (1,000 per call)")
        ml_cpu0 = ctx.ml_server.cpu_s() if ctx.ml_server else 0.0
        ml = mlflow_side(
            ctx.venv,
            "ingest",
            "--uri",
            ctx.ml_uri,
            "--values",
            str(n),
            "--max-seconds",
            str(s.mlflow_max_seconds),
        )
        ml_cpu = ctx.ml_server.cpu_s() - ml_cpu0 if ctx.ml_server else 0.0
        ml["server_cpu_us_per_value"] = ml_cpu / max(1, ml["values"]) * 1e6
        ml["stored"] = count_rows(
            ctx.ml_db,
            "SELECT COUNT(*) FROM metrics WHERE run_uuid = ? AND key = 'loss'",
            ml["run_id"],
        )
        ctx.info["ingest"]["mlflow"] = ml
        ml_rate = ml["values_per_s"]
    ml_cpu = ctx.info["ingest"].get("mlflow", {}).get("server_cpu_us_per_value")
    return [
        Row(
            "ingest",
            "sustained ingest to durable storage",
            "values/s",
            ty["values_per_s"],
            ml_rate,
            True,
            [Target("≥ 100,000 values/s", ">=", 100_000.0)],
            ratio_target=20.0,
        ),
        Row(
            "ingest",
            "server CPU per value ingested",
            "µs",
            ty["server_cpu_us_per_value"],
            ml_cpu,
            False,
        ),
    ]


def mlflow_search(ctx: Context, experiment_id: str, repeat: int) -> dict[str, Any]:
    """``repeat`` timed ``MlflowClient.search_runs`` calls (after 2 warm-up calls)."""
    return mlflow_side(
        ctx.venv,
        "search",
        "--uri",
        str(ctx.ml_uri),
        "--experiment-id",
        experiment_id,
        "--filter",
        SEARCH_FILTER,
        "--order-by",
        SEARCH_ORDER_BY,
        "--max-results",
        str(SEARCH_MAX_RESULTS),
        "--repeat",
        str(repeat),
    )


def bench_search(ctx: Context) -> list[Row]:
    s = ctx.sizes
    exp = ctx.ws.experiment("bench-search")
    note(f"search: populating Trainyard with {s.runs:,} runs ({s.threads} threads)")
    pop = trainyard_populate(ctx.ty_base, exp.experiment_id, s.runs, s.threads)
    note(f"search: Trainyard populated in {pop['seconds']:.1f} s ({pop['errors']} errors)")
    info: dict[str, Any] = {
        "filter": SEARCH_FILTER,
        "order_by": SEARCH_ORDER_BY,
        "max_results": SEARCH_MAX_RESULTS,
        "trainyard_populate": pop,
        "trainyard_experiment_id": exp.experiment_id,
    }
    ctx.info["search"] = info
    ml_exp: str | None = None
    if ctx.ml_uri:
        note(f"search: populating MLflow with {s.runs:,} runs ({s.threads} threads)")
        mpop = mlflow_side(
            ctx.venv,
            "populate",
            "--uri",
            ctx.ml_uri,
            "--runs",
            str(s.runs),
            "--threads",
            str(s.threads),
        )
        info["mlflow_populate"] = mpop
        ml_exp = str(mpop["experiment_id"])
        note(f"search: MLflow populated in {mpop['seconds']:.1f} s ({mpop['errors']} errors)")
    # Timed in alternating rounds, so that both servers see the same load on the machine.
    rounds = max(1, min(s.search_rounds, s.search_repeat))
    per_round = [s.search_repeat // rounds + (i < s.search_repeat % rounds) for i in range(rounds)]
    note(f"search: {s.search_repeat} timed searches per server, in {rounds} alternating rounds")
    ty: dict[str, Any] = {"http_ms": [], "sdk_ms": [], "http_cpu_s": 0.0, "sdk_cpu_s": 0.0}
    ml_ms: list[float] = []
    ml_cpu_s = 0.0
    ml_last: dict[str, Any] = {}
    for n_round in per_round:
        one = trainyard_search(ctx.ty_base, exp, exp.experiment_id, n_round, ctx.ty_server.cpu_s)
        ty["http_ms"] += one["http_ms"]
        ty["sdk_ms"] += one["sdk_ms"]
        ty["http_cpu_s"] += one["http_server_cpu_ms"] / 1000.0 * (n_round + 2)
        ty["sdk_cpu_s"] += one["sdk_server_cpu_ms"] / 1000.0 * (n_round + 2)
        ty.update({k: one[k] for k in ("returned", "rmse", "sdk_returned")})
        if ml_exp is not None and ctx.ml_server is not None:
            cpu0 = ctx.ml_server.cpu_s()
            ml_last = mlflow_search(ctx, ml_exp, n_round)
            ml_cpu_s += ctx.ml_server.cpu_s() - cpu0
            ml_ms += ml_last["durations_ms"]
    calls = s.search_repeat + 2 * rounds  # the warm-up calls load the server too
    ty["http_server_cpu_ms"] = ty["http_cpu_s"] * 1000.0 / calls
    ty["sdk_server_cpu_ms"] = ty["sdk_cpu_s"] * 1000.0 / calls
    info["trainyard"] = {
        "returned": ty["returned"],
        "sdk_returned": ty["sdk_returned"],
        "http_p50_ms": percentile(ty["http_ms"], 50),
        "http_p95_ms": percentile(ty["http_ms"], 95),
        "sdk_p50_ms": percentile(ty["sdk_ms"], 50),
        "sdk_p95_ms": percentile(ty["sdk_ms"], 95),
        "http_server_cpu_ms": ty["http_server_cpu_ms"],
        "sdk_server_cpu_ms": ty["sdk_server_cpu_ms"],
    }
    if ml_last:
        info["mlflow"] = {
            "returned": ml_last["returned"],
            "p50_ms": percentile(ml_ms, 50),
            "p95_ms": percentile(ml_ms, 95),
            "server_cpu_ms": ml_cpu_s * 1000.0 / calls,
        }
        info["same_results"] = len(ml_last["rmse"]) == len(ty["rmse"]) and all(
            abs(a - b) < 1e-9 for a, b in zip(ml_last["rmse"], ty["rmse"], strict=True)
        )
    p50 = percentile(ty["sdk_ms"], 50)
    p95 = percentile(ty["sdk_ms"], 95)
    hp50 = percentile(ty["http_ms"], 50)
    hp95 = percentile(ty["http_ms"], 95)
    m50 = percentile(ml_ms, 50) if ml_ms else None
    m95 = percentile(ml_ms, 95) if ml_ms else None
    n = f"{s.runs:,} runs"
    return [
        Row(
            "search",
            f"p50, SDK exp.runs ({n})",
            "ms",
            p50,
            m50,
            False,
            [Target("p50 < 50 ms", "<", 50.0)],
            ratio_target=10.0,
        ),
        Row("search", f"p95, SDK exp.runs ({n})", "ms", p95, m95, False),
        Row(
            "search",
            f"p50, HTTP POST /runs/search ({n})",
            "ms",
            hp50,
            m50,
            False,
            [Target("p50 < 50 ms", "<", 50.0)],
            ratio_target=10.0,
        ),
        Row("search", f"p95, HTTP POST /runs/search ({n})", "ms", hp95, m95, False),
        Row(
            "search",
            "server CPU per search (HTTP)",
            "ms",
            ty["http_server_cpu_ms"],
            info.get("mlflow", {}).get("server_cpu_ms"),
            False,
        ),
    ]


# --- issue 8: the MLflow client against both servers ---------------------------------------


def _mlflow_log_sync(ctx: Context, uri: str) -> dict[str, Any]:
    s = ctx.sizes
    res = mlflow_side(
        ctx.venv,
        "log-latency",
        "--uri",
        uri,
        "--calls",
        str(s.mlflow_log_calls),
        "--pace-us",
        str(s.log_pace_us),
    )
    us = [d / 1000.0 for d in res.pop("durations_ns")]
    res["p50_us"] = percentile(us, 50)
    res["p99_us"] = percentile(us, 99)
    res["calls_per_s"] = len(us) / (sum(us) / 1e6)  # the calls alone, without the pacing
    return res


def _mlflow_log_batch(ctx: Context, uri: str, server: Server | None, db: Path) -> dict[str, Any]:
    s = ctx.sizes
    cpu0 = server.cpu_s() if server else 0.0
    res = mlflow_side(
        ctx.venv,
        "ingest",
        "--uri",
        uri,
        "--values",
        str(s.mlflow_values),
        "--max-seconds",
        str(s.mlflow_max_seconds),
    )
    cpu = server.cpu_s() - cpu0 if server else 0.0
    res["server_cpu_us_per_value"] = cpu / max(1, res["values"]) * 1e6
    column = "run_id" if db == ctx.ty_db else "run_uuid"
    res["stored"] = count_rows(
        db, f"SELECT COUNT(*) FROM metrics WHERE {column} = ? AND key = 'loss'", res["run_id"]
    )
    return res


def bench_compat(ctx: Context) -> list[Row]:
    """Issue 8: the same MLflow client code against Trainyard's MLflow API and MLflow's server.

    Runs in MLflow's venv (``_mlflow_side.py``), once pointed at Trainyard's URL (its
    ``/api/2.0/mlflow`` routes) and once at MLflow's own server.
    """
    s = ctx.sizes
    if not (ctx.ml_uri and ctx.ml_db):
        note("compat: skipped (needs MLflow's venv and server; drop --no-mlflow)")
        return []
    ty_uri, ml_uri = ctx.ty_base, ctx.ml_uri
    info: dict[str, Any] = {}
    ctx.info["compat"] = info

    note(f"compat: {s.mlflow_log_calls:,} mlflow.log_metric (sync) calls, Trainyard then MLflow")
    info["log_metric_trainyard"] = _mlflow_log_sync(ctx, ty_uri)
    info["log_metric_mlflow"] = _mlflow_log_sync(ctx, ml_uri)

    note(f"compat: MlflowClient.log_batch, up to {s.mlflow_values:,} values, Trainyard then MLflow")
    info["log_batch_trainyard"] = _mlflow_log_batch(ctx, ty_uri, ctx.ty_server, ctx.ty_db)
    info["log_batch_mlflow"] = _mlflow_log_batch(ctx, ml_uri, ctx.ml_server, ctx.ml_db)

    search = ctx.info.get("search", {})
    ty_exp = search.get("trainyard_experiment_id")
    ml_exp = search.get("mlflow_populate", {}).get("experiment_id")
    if ty_exp and ml_exp:
        note("compat: search over the runs of the search benchmark (same experiment ids)")
        info["runs_from"] = "search benchmark"
    else:
        note(f"compat: populating both servers with {s.runs:,} runs through MlflowClient")
        pops = {}
        for name, uri in (("trainyard", ty_uri), ("mlflow", ml_uri)):
            pops[name] = mlflow_side(
                ctx.venv,
                "populate",
                "--uri",
                uri,
                "--runs",
                str(s.runs),
                "--threads",
                str(s.threads),
            )
            note(f"compat: {name} populated in {pops[name]['seconds']:.1f} s")
        info["populate"] = pops
        info["runs_from"] = "MlflowClient (populate)"
        ty_exp = pops["trainyard"]["experiment_id"]
        ml_exp = pops["mlflow"]["experiment_id"]
    rounds = max(1, min(s.search_rounds, s.search_repeat))
    note(
        f"compat: mlflow.search_runs and MlflowClient.search_runs, {s.search_repeat} each per "
        f"server, in {rounds} alternating rounds"
    )
    cpu0 = (ctx.ty_server.cpu_s(), ctx.ml_server.cpu_s() if ctx.ml_server else 0.0)
    res = mlflow_side(
        ctx.venv,
        "search-both",
        "--target",
        "trainyard",
        ty_uri,
        str(ty_exp),
        "--target",
        "mlflow",
        ml_uri,
        str(ml_exp),
        "--filter",
        SEARCH_FILTER,
        "--order-by",
        SEARCH_ORDER_BY,
        "--max-results",
        str(SEARCH_MAX_RESULTS),
        "--repeat",
        str(s.search_repeat),
        "--rounds",
        str(rounds),
    )
    calls = 2 * (s.search_repeat + 2)  # both APIs, warm-up included
    info["search_server_cpu_ms"] = {
        "trainyard": (ctx.ty_server.cpu_s() - cpu0[0]) * 1000.0 / calls,
        "mlflow": ((ctx.ml_server.cpu_s() if ctx.ml_server else 0.0) - cpu0[1]) * 1000.0 / calls,
    }
    search_info: dict[str, Any] = {}
    for name, apis in res.items():
        for api, one in apis.items():
            ms = one.pop("durations_ms")
            one["p50_ms"] = percentile(ms, 50)
            one["p95_ms"] = percentile(ms, 95)
            search_info.setdefault(api, {})[name] = one
    for both in search_info.values():
        a, b = both["trainyard"]["rmse"], both["mlflow"]["rmse"]
        both["same_results"] = len(a) == len(b) > 0 and all(
            abs(x - y) < 1e-9 for x, y in zip(a, b, strict=True)
        )
    info["search"] = search_info

    lt, lm = info["log_metric_trainyard"], info["log_metric_mlflow"]
    bt, bm = info["log_batch_trainyard"], info["log_batch_mlflow"]
    fl, cl = search_info["mlflow.search_runs"], search_info["MlflowClient.search_runs"]
    n = f"{s.runs:,} runs"
    return [
        Row("compat", "mlflow.log_metric (sync) p50", "µs", lt["p50_us"], lm["p50_us"], False),
        Row("compat", "mlflow.log_metric (sync) p99", "µs", lt["p99_us"], lm["p99_us"], False),
        Row(
            "compat",
            "mlflow.log_metric (sync) calls/s",
            "calls/s",
            lt["calls_per_s"],
            lm["calls_per_s"],
            True,
            ratio_target=3.0,
        ),
        Row(
            "compat",
            "MlflowClient.log_batch, 1,000 metrics/call",
            "values/s",
            bt["values_per_s"],
            bm["values_per_s"],
            True,
            ratio_target=3.0,
        ),
        Row(
            "compat",
            "server CPU per value (log_batch)",
            "µs",
            bt["server_cpu_us_per_value"],
            bm["server_cpu_us_per_value"],
            False,
        ),
        Row(
            "compat",
            f"p50, mlflow.search_runs ({n})",
            "ms",
            fl["trainyard"]["p50_ms"],
            fl["mlflow"]["p50_ms"],
            False,
            ratio_target=5.0,
        ),
        Row(
            "compat",
            f"p50, MlflowClient.search_runs ({n})",
            "ms",
            cl["trainyard"]["p50_ms"],
            cl["mlflow"]["p50_ms"],
            False,
            ratio_target=5.0,
        ),
        Row(
            "compat",
            "server CPU per search (both APIs)",
            "ms",
            info["search_server_cpu_ms"]["trainyard"],
            info["search_server_cpu_ms"]["mlflow"],
            False,
        ),
    ]


# --- report --------------------------------------------------------------------------------


def load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def machine_info() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "load_average_1min_at_start": load_average(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mark(ok: bool | None) -> str:
    if ok is None:
        return "[dim]n/a[/dim]"
    return "[green]✓[/green]" if ok else "[red]✗[/red]"


def report(rows: list[Row], meta: dict[str, Any]) -> None:
    m = meta["machine"]
    console.print()
    console.print(
        f"[bold]Machine[/bold]: {m['cores']} cores ({m['cpu']}), Python {m['python']} · "
        f"[bold]trainyard[/bold] {meta['trainyard_version']} · "
        f"[bold]mlflow[/bold] {meta.get('mlflow_version') or 'not run'} · "
        f"load average {m['load_average_1min_at_start']} at start, "
        f"{meta.get('load_average_1min_at_end')} at end"
    )
    table = Table(title="Trainyard vs MLflow: tracking", show_lines=False)
    table.add_column("bench")
    table.add_column("figure")
    table.add_column("unit")
    table.add_column("Trainyard", justify="right")
    table.add_column("MLflow", justify="right")
    table.add_column("ratio (>1: Trainyard better)", justify="right")
    table.add_column("targets")
    for row in rows:
        ratio = row.ratio
        verdicts = "  ".join(f"{t} {mark(ok)}" for t, ok in row.verdicts())
        table.add_row(
            row.bench,
            row.figure,
            row.unit,
            fmt(row.trainyard, row.unit),
            fmt(row.mlflow, row.unit),
            "—" if ratio is None else f"{ratio:,.1f}x",
            verdicts,
        )
    console.print(table)


def print_details(info: dict[str, Any]) -> None:
    lines: list[str] = []
    if "timer_overhead_us" in info:
        lines.append(
            f"perf_counter_ns pair overhead (inside every per-call figure): "
            f"{info['timer_overhead_us']:.3f} µs"
        )
    log = info.get("log")
    if log:
        b = log["trainyard_back_to_back"]
        lines.append(
            "run.log back to back (no work between calls, queue may fill): "
            f"p50 {b['p50_us']:.2f} µs, p99 {b['p99_us']:.2f} µs, "
            f"p99.9 {b['p999_us']:.1f} µs, max {b['max_us']:,.0f} µs"
        )
        slow = log.get("trainyard_paced_slowdown_us")
        lines.append(
            f"run.log paced: p99.9 {log['trainyard_paced_p999_us']:.1f} µs, "
            f"max {log['trainyard_paced_max_us']:,.0f} µs"
            + (
                f"; the paced loop took {slow:.1f} µs more per value than the same loop without "
                "logging (the call, the sender thread's GIL time, CPU shared with the server)"
                if slow is not None
                else ""
            )
        )
        a = log.get("mlflow_async")
        if a and a.get("total_s"):
            lines.append(
                f"MLflow async: log loop {a['loop_s']:.2f} s, until flushed {a['total_s']:.2f} s"
            )
    ing = info.get("ingest")
    if ing:
        t = ing["trainyard"]
        lines.append(
            f"Trainyard ingest: {t['values']:,} values, log loop {t['loop_s']:.2f} s, "
            f"until flushed {t['seconds']:.2f} s, rows in SQLite {t['stored']:,} "
            + ("✓" if t["stored"] == t["values"] else "✗ (missing values!)")
        )
        m = ing.get("mlflow")
        if m:
            lines.append(
                f"MLflow ingest: {m['values']:,} values in {m['requests']:,} log_batch calls, "
                f"{m['seconds']:.2f} s{' (time cap hit)' if m['capped'] else ''}, rows in SQLite "
                f"{m['stored']:,} " + ("✓" if m["stored"] == m["values"] else "✗")
            )
    se = info.get("search")
    if se:
        p = se["trainyard_populate"]
        lines.append(
            f"search population (not a benchmark figure): Trainyard {p['runs']:,} runs in "
            f"{p['seconds']:.1f} s ({p['runs'] / p['seconds']:,.0f} runs/s)"
            + (
                f", MLflow {se['mlflow_populate']['runs']:,} runs in "
                f"{se['mlflow_populate']['seconds']:.1f} s "
                f"({se['mlflow_populate']['runs'] / se['mlflow_populate']['seconds']:,.0f} runs/s)"
                if "mlflow_populate" in se
                else ""
            )
        )
        lines.append(
            f"search: filter {se['filter']!r}, order {se['order_by']!r}, "
            f"{se['trainyard']['returned']} runs returned"
            + (
                f"; same runs in the same order on both servers: "
                f"{'✓' if se['same_results'] else '✗'}"
                if "same_results" in se
                else ""
            )
        )
    co = info.get("compat")
    if co:
        bt, bm = co["log_batch_trainyard"], co["log_batch_mlflow"]
        lines.append(
            f"MLflow client, log_batch: Trainyard stored {bt['stored']:,} of {bt['values']:,} "
            f"values in {bt['requests']:,} calls, {bt['seconds']:.2f} s"
            f"{' (time cap hit)' if bt['capped'] else ''} "
            + ("✓" if bt["stored"] == bt["values"] else "✗")
            + f"; MLflow {bm['stored']:,} of {bm['values']:,} in {bm['seconds']:.2f} s"
            f"{' (time cap hit)' if bm['capped'] else ''} "
            + ("✓" if bm["stored"] == bm["values"] else "✗")
        )
        if "populate" in co:
            pt, pm = co["populate"]["trainyard"], co["populate"]["mlflow"]
            lines.append(
                f"MLflow client, populate (not a figure): Trainyard {pt['runs']:,} runs in "
                f"{pt['seconds']:.1f} s, MLflow {pm['runs']:,} in {pm['seconds']:.1f} s"
            )
        for api, both in co["search"].items():
            t, m = both["trainyard"], both["mlflow"]
            lines.append(
                f"MLflow client, {api}: p95 {t['p95_ms']:.1f} ms on Trainyard, "
                f"{m['p95_ms']:.0f} ms on MLflow; {t['returned']} runs returned, same runs in "
                f"the same order: {'✓' if both['same_results'] else '✗'} "
                f"(runs from the {co['runs_from']})"
            )
    for line in lines:
        console.print(f"  {line}")


# --- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=(
            "Trainyard vs MLflow tracking benchmark (run.log cost, ingest, run search, and the "
            "MLflow client against both servers)."
        )
    )
    p.add_argument("--quick", action="store_true", help="a short smoke run (all sizes shrunk)")
    p.add_argument("--only", action="append", choices=BENCHMARKS, help="run only this (repeatable)")
    p.add_argument("--runs", type=int, help="runs to search over (default 10,000; quick 1,000)")
    p.add_argument("--values", type=int, help="values to ingest (default 1,000,000; quick 100k)")
    p.add_argument("--log-calls", type=int, help="timed run.log calls (default 200,000)")
    p.add_argument("--mlflow-log-calls", type=int, help="timed mlflow.log_metric calls (2,000)")
    p.add_argument("--mlflow-values", type=int, help="values MLflow ingests (default 200,000)")
    p.add_argument("--log-pace-us", type=float, help="busy work between two log calls (20 µs)")
    p.add_argument("--search-repeat", type=int, help="timed searches per server (default 50)")
    p.add_argument("--threads", type=int, help="threads populating each server (default 8)")
    p.add_argument("--no-mlflow", action="store_true", help="Trainyard figures only")
    p.add_argument("--mlflow-venv", type=Path, default=DEFAULT_MLFLOW_VENV)
    p.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    p.add_argument("--keep", action="store_true", help="keep the servers' temporary folders")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return p.parse_args(argv)


def sizes_from(args: argparse.Namespace) -> Sizes:
    sizes = Sizes.quick() if args.quick else Sizes()
    for name in (
        "runs",
        "values",
        "log_calls",
        "mlflow_log_calls",
        "mlflow_values",
        "log_pace_us",
        "search_repeat",
        "threads",
    ):
        value = getattr(args, name)
        if value is not None:
            setattr(sizes, name, value)
    return sizes


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop the servers


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    sizes = sizes_from(args)
    selected = [b for b in BENCHMARKS if b in (args.only or BENCHMARKS)]  # compat after search
    import trainyard  # the project's SDK (installed in this venv)

    meta: dict[str, Any] = {
        "machine": machine_info(),
        "trainyard_version": trainyard.__version__,
        "sizes": asdict(sizes),
        "benchmarks": selected,
    }
    load = meta["machine"]["load_average_1min_at_start"]
    if load is not None and load > 0.5 * (os.cpu_count() or 1):
        note(
            f"[yellow]warning:[/yellow] load average {load} on {os.cpu_count()} cores: other "
            "processes are busy, figures will be noisy (latencies up, throughputs down)"
        )
    use_mlflow = not args.no_mlflow
    if use_mlflow:
        ensure_mlflow_venv(args.mlflow_venv)
        ver = mlflow_side(args.mlflow_venv, "version")
        meta["mlflow_version"] = ver["mlflow"]
    started = time.perf_counter()
    rows: list[Row] = []
    info: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix="trainyard-bench-"))
    servers: list[Server] = []
    try:
        with ExitStack() as stack:
            ty_home = tmp / "trainyard"
            ty_home.mkdir()
            ty_port = free_port()
            ty = trainyard_server(ty_home, ty_port)
            servers.append(ty)
            stack.callback(ty.stop)
            note(f"starting Trainyard on {HOST}:{ty_port} (home {ty_home})")
            ty.start()
            note(f"Trainyard healthy after {ty.startup_s:.1f} s")
            ml_uri = ml_db = None
            if use_mlflow:
                ml_root = tmp / "mlflow"
                ml_root.mkdir()
                ml_port = free_port()
                ml = mlflow_server(args.mlflow_venv, ml_root, ml_port)
                servers.append(ml)
                stack.callback(ml.stop)
                note(f"starting MLflow {meta['mlflow_version']} on {HOST}:{ml_port}")
                ml.start()
                note(f"MLflow healthy after {ml.startup_s:.1f} s")
                ml_uri = f"http://{HOST}:{ml_port}"
                ml_db = ml_root / "mlflow.db"
            ws = stack.enter_context(trainyard.connect(f"http://{HOST}:{ty_port}"))
            ctx = Context(
                sizes=sizes,
                ty_base=f"http://{HOST}:{ty_port}",
                ty_db=ty_home / "trainyard.db",
                ml_uri=ml_uri,
                ml_db=ml_db,
                venv=args.mlflow_venv,
                ws=ws,
                ty_server=ty,
                ml_server=servers[1] if use_mlflow else None,
                info=info,
            )
            if use_mlflow:
                info["mlflow_async"] = bool(ver.get("async"))
            for name in selected:
                rows += {
                    "log": bench_log,
                    "ingest": bench_ingest,
                    "search": bench_search,
                    "compat": bench_compat,
                }[name](ctx)
            meta["server_startup_s"] = {s.name: s.startup_s for s in servers}
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            note(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    meta["elapsed_s"] = time.perf_counter() - started
    meta["load_average_1min_at_end"] = load_average()
    report(rows, meta)
    print_details(info)
    console.print(f"  total time {meta['elapsed_s']:.0f} s (servers included)")
    if args.quick:
        console.print(
            "  [dim]--quick: targets are set for the full sizes; this is a smoke test[/dim]"
        )
    if args.json:
        payload = {**meta, "rows": [r.as_dict() for r in rows], "details": info}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        note(f"wrote {args.json}")
    failed = [t for r in rows for t, ok in r.verdicts() if ok is False]
    if failed:
        console.print(f"  [red]missed:[/red] {', '.join(failed)}")
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    raise SystemExit(main())
