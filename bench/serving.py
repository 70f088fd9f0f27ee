"""Serving benchmark: scoring over HTTP against ONNX Runtime in-process and MLflow's server.

    python bench/serving.py              # full run (about 2 minutes)
    python bench/serving.py --quick      # fewer requests (about 40 s)
    python bench/serving.py --no-mlflow  # Trainyard and ONNX Runtime only
    python bench/serving.py --json out.json

The model: a fitted 100-tree ``GradientBoostingRegressor`` (depth 3) on 20 features, registered
through the SDK (``run.register_model``: converted to ONNX, parity-checked, uploaded), deployed
under a key-auth endpoint of a fresh ``trainyard up`` (SQLite, temp home, free loopback port).

Figures, each printed with its ratio to ONNX Runtime in-process (same bytes, same session
options as a deployment's, float32 arrays already in memory):

1. single-row requests, ``{"inputs": [[20 floats]]}`` with ``Authorization: Bearer <key>``, one
   after the other on one keep-alive connection: p50, p99, requests/s. Targets: p50 < 1 ms,
   p99 < 3 ms.
2. the same against MLflow's scoring server on the same model (``mlflow.sklearn.log_model`` to
   a SQLite tracking store in a temp folder, ``mlflow models serve -m runs:/... --env-manager
   local``, measured in the same run): the ratio of requests/s. Target: >= 10x.
3. 100-row requests the same way: rows/s, and its ratio to ONNX Runtime's rows/s on 100-row
   arrays. Target: >= 0.50.

See ``_serving_clients.py`` for how each figure is taken: one lean keep-alive socket client for
every server; HTTP rounds alternate with in-process rounds; the best round of each is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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
    bodies,
    free_port,
    mlflow_server,
    paired_rounds,
    stop_group,
    wait_http,
)

console = Console(width=None if sys.stdout.isatty() else 150)


def fitted_model(seed: int = 0) -> tuple[Any, np.ndarray]:
    """A 100-tree gradient-boosting regressor on 2,000 synthetic rows, and its sample."""
    from sklearn.ensemble import GradientBoostingRegressor

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2_000, FEATURES))
    y = 3 * X[:, 0] + np.sin(X[:, 1]) + X[:, 2] * X[:, 3] + rng.normal(0, 0.1, len(X))
    model = GradientBoostingRegressor(n_estimators=100, max_depth=3, random_state=seed)
    return model.fit(X, y), X[:1_000]


def trainyard_figures(model: Any, sample: np.ndarray, sizes: dict[str, int]) -> dict[str, Any]:
    """Start a server, register and deploy the model, measure both request sizes."""
    import subprocess

    import trainyard

    with tempfile.TemporaryDirectory(prefix="trainyard-bench-serving-") as home:
        port = free_port()
        log = Path(home, "server.log")
        env = {**os.environ, "TRAINYARD_HOME": home}
        env.pop("TRAINYARD_URI", None)
        args = [sys.executable, "-m", "trainyard", "up", "--port", str(port),
                "--log-level", "warning"]  # fmt: skip
        with log.open("wb") as out:
            proc = subprocess.Popen(
                args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_http(f"{url}/api/v1/health", proc, log)
            with trainyard.connect(url) as ws:
                with ws.experiment("bench-serving").start_run() as run:
                    version = run.register_model("gb100", model=model, sample=sample)
                ws.endpoints.create("gb100")
                ws.endpoints.deployments.create("gb100", "blue", model="gb100:1")
                key = ws.endpoints.keys("gb100").primary
                route = "/api/v1/workspaces/default/models/gb100/versions/1/download"
                onnx = httpx.get(url + route).content
            headers = {"Authorization": f"Bearer {key}"}
            expected = model.predict(sample[:1])[0]

            def check(answer: bytes) -> None:
                doc = orjson.loads(answer)
                assert doc["deployment"] == "blue" and abs(doc["predictions"][0] - expected) < 1e-3

            answer = Connection(port, "/endpoints/gb100/score", headers).request(
                orjson.dumps({"inputs": sample[:1].tolist()})
            )
            check(answer[1])
            local = InProcess(onnx)
            path = "/endpoints/gb100/score"
            single, ort_single = paired_rounds(
                port, path, headers, bodies(1, 1000), sizes["single"], 1, local
            )
            hundred, ort_hundred = paired_rounds(
                port, path, headers, bodies(100, 200), sizes["hundred"], 100, local
            )
        finally:
            stop_group(proc)
    return {
        "trainyard": {"parity": version.parity.passed if version.parity else None,
                      "single": single, "hundred": hundred},
        "onnxruntime": {"single": ort_single, "hundred": ort_hundred},
    }  # fmt: skip


def mlflow_figures(model: Any, sample: np.ndarray, sizes: dict[str, int]) -> dict[str, Any]:
    """MLflow's scoring server on the same sklearn model, same requests, same client."""
    expected = model.predict(sample[:1])[0]

    def check(answer: bytes) -> None:
        assert abs(orjson.loads(answer)["predictions"][0] - expected) < 1e-6

    with mlflow_server(model, sample) as port:
        answer = Connection(port, "/invocations", {}).request(
            orjson.dumps({"inputs": sample[:1].tolist()})
        )
        check(answer[1])
        single, _ = paired_rounds(
            port, "/invocations", {}, bodies(1, 1000), sizes["mlflow_single"], 1, None
        )
        hundred, _ = paired_rounds(
            port, "/invocations", {}, bodies(100, 200), sizes["mlflow_hundred"], 100, None
        )
    return {"single": single, "hundred": hundred}


def report(r: dict[str, Any]) -> bool:
    """Print the table; True if every target is met."""
    ty, ort, ml = r["trainyard"], r["onnxruntime"], r.get("mlflow")
    s, o = ty["single"], ort["single"]
    h, oh = ty["hundred"], ort["hundred"]
    checks = {
        "p50": s["p50_us"] < 1000,
        "p99": s["p99_us"] < 3000,
        "mlflow": ml is None or s["req_per_s"] / ml["single"]["req_per_s"] >= 10,
        "rows": h["rows_per_s"] / oh["rows_per_s"] >= 0.5,
    }
    table = Table(title="Trainyard serving benchmark (100-tree GBR, 20 features)")
    for col in ("measure", "Trainyard (HTTP)", "ONNX Runtime in-process", "ratio", "MLflow serve",
                "Trainyard / MLflow", "target", "met"):  # fmt: skip
        table.add_column(col)
    yes = {True: "yes", False: "NO"}

    def mlcell(key: str, field: str, fmt: str) -> tuple[str, str]:
        if ml is None:
            return "", ""
        value = ml[key][field]
        ratio = ty[key][field] / value if field.endswith("_s") else value / ty[key][field]
        return format(value, fmt), f"{ratio:.1f}x"

    table.add_row("1 row: p50", f"{s['p50_us']:.0f} us", f"{o['p50_us']:.1f} us",
                  f"{s['p50_us'] / o['p50_us']:.0f}x ORT", *mlcell("single", "p50_us", ".0f"),
                  "< 1 ms", yes[checks["p50"]])  # fmt: skip
    table.add_row("1 row: p99", f"{s['p99_us']:.0f} us", f"{o['p99_us']:.1f} us",
                  f"{s['p99_us'] / o['p99_us']:.0f}x ORT", *mlcell("single", "p99_us", ".0f"),
                  "< 3 ms", yes[checks["p99"]])  # fmt: skip
    table.add_row("1 row: requests/s", f"{s['req_per_s']:,.0f}", f"{o['req_per_s']:,.0f}",
                  f"{s['req_per_s'] / o['req_per_s']:.3f}", *mlcell("single", "req_per_s", ",.0f"),
                  ">= 10x MLflow", yes[checks["mlflow"]])  # fmt: skip
    table.add_row("100 rows: rows/s", f"{h['rows_per_s']:,.0f}", f"{oh['rows_per_s']:,.0f}",
                  f"{h['rows_per_s'] / oh['rows_per_s']:.2f}",
                  *mlcell("hundred", "rows_per_s", ",.0f"), ">= 0.50 ORT",
                  yes[checks["rows"]])  # fmt: skip
    table.add_row("100 rows: p50", f"{h['p50_us']:.0f} us", f"{oh['p50_us']:.1f} us",
                  f"{h['p50_us'] / oh['p50_us']:.1f}x ORT", *mlcell("hundred", "p50_us", ".0f"),
                  "", "")  # fmt: skip
    console.print(table)
    console.print(f"[dim]{r['machine']}[/dim]")
    return all(checks.values())


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    parser.add_argument("--no-mlflow", action="store_true", help="skip MLflow's scoring server")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    q = args.quick
    sizes = {"single": 5_000 if q else 20_000, "hundred": 1_000 if q else 4_000,
             "mlflow_single": 500 if q else 2_000, "mlflow_hundred": 200 if q else 500}  # fmt: skip
    model, sample = fitted_model()
    results: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average before "
        f"{os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M')}",
        "sizes": sizes,
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
