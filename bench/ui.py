"""Web studio benchmark: the runs page at 10,000 runs, and a 100,000-point chart.

    python bench/ui.py                       # 10,000 runs (about a minute to populate)
    python bench/ui.py --runs 2000 --repeat 10
    python bench/ui.py --json out.json

It starts ``python -m trainyard up`` in a temporary folder on a free loopback port (SQLite and a
local folder, the embedded default), creates the runs through the REST API from a few threads
(each with a param ``alpha``, metrics ``rmse`` and ``loss`` and a tag), then asks for pages.
The figure is the server time of each page, read from the ``Server-Timing`` header that every
``/ui`` answer carries (the search, the loading of the page's runs and the template rendering);
the wall time on loopback is shown beside it.

Target (``docs/ui.md``): the first page of the runs table of an experiment with 10,000 runs,
sorted by a metric, in under 500 ms of server time (p50).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _workload import run_specs  # bench/ is not a package: imported from its folder

TARGET_MS = 500.0
API = "/api/v1/workspaces/default"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "TRAINYARD_HOME": str(home)}
    env.pop("TRAINYARD_URI", None)
    log = open(home / "server.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainyard", "up", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((home / "server.log").read_text())
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start in 60 s")


def populate(url: str, experiment_id: str, runs: int, threads: int) -> float:
    """``runs`` runs through the REST API; the seconds it took."""
    specs = run_specs(runs)
    limits = httpx.Limits(max_connections=threads, max_keepalive_connections=threads)
    with httpx.Client(base_url=url + API, timeout=60, limits=limits) as client:

        def make(spec: tuple[str, float]) -> None:
            alpha, rmse = spec
            r = client.post("/runs", json={"experiment_id": experiment_id})
            r.raise_for_status()
            run_id = r.json()["run_id"]
            body = {
                "metrics": [
                    {"key": "rmse", "value": rmse, "step": 0},
                    {"key": "loss", "value": rmse / 100, "step": 0},
                ],
                "params": {"alpha": alpha},
                "tags": {"team": "bench"},
            }
            client.post(f"/runs/{run_id}/log-batch", json=body).raise_for_status()
            client.patch(f"/runs/{run_id}", json={"status": "FINISHED"}).raise_for_status()

        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(make, specs))
        return time.perf_counter() - started


def measure(client: httpx.Client, path: str, repeat: int) -> dict[str, Any]:
    """p50/p95 of the server time (Server-Timing) and of the wall time of ``GET path``."""
    server, wall = [], []
    for i in range(repeat + 2):
        started = time.perf_counter()
        resp = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        resp.raise_for_status()
        if i < 2:  # warm-up: first template compile, first query plan
            continue
        wall.append(elapsed)
        server.append(float(resp.headers["server-timing"].split("dur=")[1]))
    q = statistics.quantiles
    return {
        "path": path,
        "server_p50_ms": statistics.median(server),
        "server_p95_ms": q(server, n=20)[-1] if len(server) > 1 else server[0],
        "wall_p50_ms": statistics.median(wall),
        "bytes": len(resp.content),
    }


def next_token_at(client: httpx.Client, path: str, pages: int) -> str:
    """The runs page ``pages`` pages in, following the 'Next' links as a user would."""
    import re

    for _ in range(pages):
        html = client.get(path).text
        found = re.search(r'href="([^"]+)" rel="next"', html)
        if found is None:
            raise RuntimeError("ran out of pages")
        path = found.group(1).replace("&amp;", "&")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--points", type=int, default=100_000, help="points of the charted metric")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="trainyard-bench-ui-") as tmp:
        proc, url = start(Path(tmp))
        try:
            with httpx.Client(base_url=url, timeout=120) as client:
                exp = client.post(f"{API}/experiments", json={"name": "bench-ui"}).json()
                eid = exp["experiment_id"]
                print(f"populating {args.runs:,} runs ...", file=sys.stderr)
                seconds = populate(url, eid, args.runs, args.threads)
                print(f"  done in {seconds:.1f} s", file=sys.stderr)

                # one run with a long metric history, for the chart
                run = client.post(f"{API}/runs", json={"experiment_id": eid}).json()
                for start_step in range(0, args.points, 10_000):
                    batch = [
                        {"key": "curve", "value": 1 / (1 + s), "step": s}
                        for s in range(start_step, min(args.points, start_step + 10_000))
                    ]
                    r = client.post(
                        f"{API}/runs/{run['run_id']}/log-batch", json={"metrics": batch}
                    )
                    r.raise_for_status()

                runs_page = f"/ui/experiments/{eid}"
                sorted_page = f"{runs_page}?order_by=metrics.rmse+ASC"
                cases: list[tuple[str, Callable[[], str]]] = [
                    ("runs page, first 50, newest first", lambda: runs_page),
                    ("runs page, first 50, by metrics.rmse", lambda: sorted_page),
                    (
                        "runs page, filtered and sorted",
                        lambda: (
                            f"{sorted_page}&filter=metrics.rmse+%3C+50+and+params.alpha"
                            "+%3D+%270.5%27"
                        ),
                    ),
                    (
                        "runs page, 250 rows by metrics.rmse",
                        lambda: f"{sorted_page}&max_results=250",
                    ),
                    (
                        "runs page, 20th page by metrics.rmse",
                        lambda: next_token_at(client, sorted_page, 19),
                    ),
                    ("experiments page", lambda: "/ui"),
                    ("run page", lambda: f"/ui/runs/{run['run_id']}"),
                    (
                        f"chart data, {args.points:,} points -> 1,000",
                        lambda: (
                            f"/ui/api/workspaces/default/runs/{run['run_id']}/metric-series"
                            "?key=curve&points=1000"
                        ),
                    ),
                ]
                results = []
                for label, path in cases:
                    results.append({"case": label, **measure(client, path(), args.repeat)})
        finally:
            proc.terminate()
            proc.wait(10)

    print(
        f"\nWeb studio, {args.runs:,} runs (SQLite), {args.repeat} requests each after 2 warm-ups"
    )
    print(f"{'case':44} {'server p50':>11} {'server p95':>11} {'wall p50':>9}")
    for r in results:
        print(
            f"{r['case']:44} {r['server_p50_ms']:>8.1f} ms {r['server_p95_ms']:>8.1f} ms "
            f"{r['wall_p50_ms']:>6.1f} ms"
        )
    headline = results[1]["server_p50_ms"]
    ok = headline < TARGET_MS
    print(
        f"\nfirst page of the runs table at {args.runs:,} runs, sorted by a metric: "
        f"{headline:.1f} ms server time (p50); target < {TARGET_MS:.0f} ms: "
        f"{'met' if ok else 'NOT met'} ({TARGET_MS / headline:.1f}x under)"
    )
    if args.json:
        args.json.write_text(json.dumps({"runs": args.runs, "results": results}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
