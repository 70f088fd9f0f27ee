"""Serving benchmark: scoring over HTTP against ONNX Runtime in-process and MLflow's server.

    python bench/serving.py              # full run (about 1 minute)
    python bench/serving.py --quick      # fewer requests (about 30 s)
    python bench/serving.py --no-mlflow  # Trainyard and ONNX Runtime only
    python bench/serving.py --json out.json
    python bench/serving.py --placement free   # let the kernel place client and servers

Placement. By default this process pins itself to one CPU before it starts anything, so the
client, the servers (Trainyard's and MLflow's) and ONNX Runtime in-process all run on that CPU:
with one connection and one request at a time nothing runs in parallel anyway, and every
figure is then the work of a request (client, kernel, server) rather than the time a virtual
machine takes to wake a halted CPU. On the 2-CPU Firecracker VM this was written on, that
wake-up is most of a single-row request: two Python processes exchanging 500 bytes take about
13 us per round trip on one CPU and about 54 us on two. Both floors are measured and printed in
every run, and ``--placement free`` measures everything unpinned.

The model: a fitted 100-tree ``GradientBoostingRegressor`` (depth 3) on 20 features, registered
through the SDK (``run.register_model``: converted to ONNX, parity-checked, uploaded), deployed
under a key-auth endpoint of a fresh ``trainyard up`` (SQLite, temp home, free loopback port).

Figures, each printed with its ratio to ONNX Runtime in-process (same bytes, same session
options as a deployment's, float32 arrays already in memory):

1. single-row requests, ``{"inputs": [[20 floats]]}`` with ``Authorization: Bearer <key>``, one
   after the other on one keep-alive connection: p50, p99, requests/s. Targets: p50 < 1 ms,
   p99 < 3 ms. Measured on ``trainyard up`` (in-process serving beside the API) and then on a
   ``trainyard serve`` replica (one worker) of the same home.
2. the same against MLflow's scoring server on the same model (``mlflow.sklearn.log_model`` to
   a SQLite tracking store in a temp folder, ``mlflow models serve -m runs:/... --env-manager
   local``, measured in the same run): the ratio of requests/s. Target: >= 10x.
3. 100-row requests the same way: rows/s, and its ratio to ONNX Runtime's rows/s on 100-row
   arrays. Target: >= 0.50.
4. for information, 100-row Open Inference Protocol requests with the binary tensor extension
   (raw float32 after a JSON header, what ``tritonclient`` sends): rows/s and ratio, no target.

See ``_serving_clients.py`` for how each figure is taken: one lean keep-alive socket client for
every server; HTTP rounds alternate with in-process rounds; the best round of each is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _serving_clients import (
    FEATURES,
    Connection,
    InProcess,
    binary_bodies,
    bodies,
    echo_floor,
    free_port,
    mlflow_server,
    paired_rounds,
    stop_group,
    wait_http,
)

console = Console(width=None if sys.stdout.isatty() else 150)
FIRST = b""
"""The first request of every server: the sample's first row, whose answer is checked."""


def fitted_model(seed: int = 0) -> tuple[Any, np.ndarray]:
    """A 100-tree gradient-boosting regressor on 2,000 synthetic rows, and its sample."""
    from sklearn.ensemble import GradientBoostingRegressor

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2_000, FEATURES))
    y = 3 * X[:, 0] + np.sin(X[:, 1]) + X[:, 2] * X[:, 3] + rng.normal(0, 0.1, len(X))
    model = GradientBoostingRegressor(n_estimators=100, max_depth=3, random_state=seed)
    return model.fit(X, y), X[:1_000]


def _start(args: list[str], home: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TRAINYARD_HOME": home}
    env.pop("TRAINYARD_URI", None)
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "trainyard", *args, "--log-level", "warning"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _measure(
    port: int, headers: dict[str, str], sizes: dict[str, int], local: InProcess, check: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both request sizes on one server, paired with in-process rounds."""
    path = "/endpoints/gb100/score"
    check(Connection(port, path, headers).request(FIRST)[1])
    single, ort_single = paired_rounds(
        port, path, headers, bodies(1, 1000), sizes["single"], 1, local
    )
    hundred, ort_hundred = paired_rounds(
        port, path, headers, bodies(100, 200), sizes["hundred"], 100, local
    )
    payloads, head = binary_bodies(100, 200)
    sized = {**headers, "Inference-Header-Content-Length": str(head)}
    binary, ort_binary = paired_rounds(
        port, "/v2/models/gb100/infer", sized, payloads, sizes["hundred"], 100, local
    )
    assert ort_single is not None and ort_hundred is not None and ort_binary is not None
    return (
        {"single": single, "hundred": hundred, "binary": binary},
        {"single": ort_single, "hundred": ort_hundred, "binary": ort_binary},
    )


def trainyard_figures(model: Any, sample: np.ndarray, sizes: dict[str, int]) -> dict[str, Any]:
    """Start ``trainyard up``, register and deploy the model, measure it; then the same on a
    ``trainyard serve`` replica (one worker) of the same home."""
    import trainyard

    expected = model.predict(sample[:1])[0]

    def check(answer: bytes) -> None:
        doc = orjson.loads(answer)
        assert doc["deployment"] == "blue" and abs(doc["predictions"][0] - expected) < 1e-3

    with tempfile.TemporaryDirectory(prefix="trainyard-bench-serving-") as home:
        port = free_port()
        proc = _start(["up", "--port", str(port)], home, Path(home, "up.log"))
        try:
            url = f"http://127.0.0.1:{port}"
            wait_http(f"{url}/api/v1/health", proc, Path(home, "up.log"))
            with trainyard.connect(url) as ws:
                with ws.experiment("bench-serving").start_run() as run:
                    version = run.register_model("gb100", model=model, sample=sample)
                ws.endpoints.create("gb100")
                ws.endpoints.deployments.create("gb100", "blue", model="gb100:1")
                key = ws.endpoints.keys("gb100").primary
                route = "/api/v1/workspaces/default/models/gb100/versions/1/download"
                onnx = httpx.get(url + route).content
            headers = {"Authorization": f"Bearer {key}"}
            local = InProcess(onnx)
            up, ort_up = _measure(port, headers, sizes, local, check)
            rport = free_port()
            replica = _start(["serve", "--port", str(rport)], home, Path(home, "serve.log"))
            try:
                wait_http(
                    f"http://127.0.0.1:{rport}/v2/health/ready", replica, Path(home, "serve.log")
                )
                serve, ort_serve = _measure(rport, headers, sizes, local, check)
            finally:
                stop_group(replica)
        finally:
            stop_group(proc)
    return {
        "parity": version.parity.passed if version.parity else None,
        "up": up,
        "serve": serve,
        "onnxruntime": {"up": ort_up, "serve": ort_serve},
    }


def mlflow_figures(model: Any, sample: np.ndarray, sizes: dict[str, int]) -> dict[str, Any]:
    """MLflow's scoring server on the same sklearn model, same requests, same client."""
    expected = model.predict(sample[:1])[0]

    def check(answer: bytes) -> None:
        assert abs(orjson.loads(answer)["predictions"][0] - expected) < 1e-6

    with mlflow_server(model, sample) as port:
        check(Connection(port, "/invocations", {}).request(FIRST)[1])
        single, _ = paired_rounds(
            port, "/invocations", {}, bodies(1, 1000), sizes["mlflow_single"], 1, None
        )
        hundred, _ = paired_rounds(
            port, "/invocations", {}, bodies(100, 200), sizes["mlflow_hundred"], 100, None
        )
    return {"single": single, "hundred": hundred}


def report(r: dict[str, Any]) -> bool:
    """Print the table; True if every target is met (by both Trainyard servers)."""
    ml = r.get("mlflow")
    table = Table(title="Trainyard serving benchmark (100-tree GBR, 20 features)")
    for col in (
        "server",
        "measure",
        "Trainyard (HTTP)",
        "ONNX Runtime in-process",
        "ratio",
        "MLflow serve",
        "Trainyard / MLflow",
        "target",
        "met",
    ):
        table.add_column(col)
    met = True
    for server in ("up", "serve"):
        ty, ort = r[server], r["onnxruntime"][server]
        s, o, h, oh = ty["single"], ort["single"], ty["hundred"], ort["hundred"]
        b, ob = ty["binary"], ort["binary"]
        vs_ml = None if ml is None else s["req_per_s"] / ml["single"]["req_per_s"]
        checks = [
            s["p50_us"] < 1000,
            s["p99_us"] < 3000,
            vs_ml is None or vs_ml >= 10,
            h["rows_per_s"] / oh["rows_per_s"] >= 0.5,
        ]
        met = met and all(checks)

        def mlcell(key: str, field: str, fmt: str, ty: dict[str, Any] = ty) -> list[str]:
            if ml is None:
                return ["", ""]
            value = ml[key][field]
            ratio = ty[key][field] / value if field.endswith("_s") else value / ty[key][field]
            return [format(value, fmt), f"{ratio:.1f}x"]

        yes = ["NO", "yes"]
        name = f"trainyard {server}"
        rows = [
            [
                "1 row: p50",
                f"{s['p50_us']:.0f} us",
                f"{o['p50_us']:.1f} us",
                f"{s['p50_us'] / o['p50_us']:.0f}x",
                *mlcell("single", "p50_us", ".0f"),
                "< 1 ms",
                yes[checks[0]],
            ],
            [
                "1 row: p99",
                f"{s['p99_us']:.0f} us",
                f"{o['p99_us']:.1f} us",
                f"{s['p99_us'] / o['p99_us']:.0f}x",
                *mlcell("single", "p99_us", ".0f"),
                "< 3 ms",
                yes[checks[1]],
            ],
            [
                "1 row: requests/s",
                f"{s['req_per_s']:,.0f}",
                f"{o['req_per_s']:,.0f}",
                f"{s['req_per_s'] / o['req_per_s']:.3f}",
                *mlcell("single", "req_per_s", ",.0f"),
                ">= 10x MLflow",
                yes[checks[2]],
            ],
            [
                "100 rows: rows/s",
                f"{h['rows_per_s']:,.0f}",
                f"{oh['rows_per_s']:,.0f}",
                f"{h['rows_per_s'] / oh['rows_per_s']:.2f}",
                *mlcell("hundred", "rows_per_s", ",.0f"),
                ">= 0.50 ORT",
                yes[checks[3]],
            ],
            [
                "100 rows, OIP binary: rows/s",
                f"{b['rows_per_s']:,.0f}",
                f"{ob['rows_per_s']:,.0f}",
                f"{b['rows_per_s'] / ob['rows_per_s']:.2f}",
                "",
                "",
                "",
                "",
            ],
            [
                "100 rows: p50",
                f"{h['p50_us']:.0f} us",
                f"{oh['p50_us']:.1f} us",
                f"{h['p50_us'] / oh['p50_us']:.1f}x",
                *mlcell("hundred", "p50_us", ".0f"),
                "",
                "",
            ],
        ]
        for i, row in enumerate(rows):
            table.add_row(name if i == 0 else "", *row, end_section=i == len(rows) - 1)
    console.print(table)
    console.print(
        "[dim]ratio: Trainyard / ONNX Runtime (latency: how many times longer; throughput: the "
        "fraction kept). Trainyard / MLflow: how many times better.[/dim]"
    )
    floor = r["floor_us"]
    console.print(
        f"[dim]placement: {r['placement']}. Loopback floor (500 bytes echoed between two Python "
        f"processes, no HTTP): {floor['one-cpu']:.0f} us per round trip on one CPU, "
        f"{floor['free']:.0f} us placed freely.[/dim]"
    )
    console.print(f"[dim]{r['machine']}[/dim]")
    return met


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    parser.add_argument("--no-mlflow", action="store_true", help="skip MLflow's scoring server")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--placement",
        choices=["one-cpu", "free"],
        default="one-cpu",
        help="one-cpu (default): client and servers pinned to one CPU; free: the kernel's choice",
    )
    args = parser.parse_args(argv)
    q = args.quick
    sizes = {
        "single": 5_000 if q else 20_000,
        "hundred": 1_000 if q else 4_000,
        "mlflow_single": 500 if q else 2_000,
        "mlflow_hundred": 200 if q else 500,
    }
    load = os.getloadavg()[0]  # before this run's own work
    cpu = min(os.sched_getaffinity(0))
    floor = {"one-cpu": echo_floor({cpu}), "free": echo_floor(None)}
    if args.placement == "one-cpu":
        os.sched_setaffinity(0, {cpu})  # every process started from here on inherits it
    model, sample = fitted_model()
    global FIRST
    FIRST = orjson.dumps({"inputs": sample[:1].tolist()})
    results: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average before "
        f"{load:.1f}, {time.strftime('%Y-%m-%d %H:%M')}",
        "sizes": sizes,
        "placement": f"one CPU (CPU {cpu})" if args.placement == "one-cpu" else "free",
        "floor_us": floor,
    }
    results.update(trainyard_figures(model, sample, sizes))
    if not args.no_mlflow:
        results["mlflow"] = mlflow_figures(model, sample, sizes)
    met = report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
