"""Jobs benchmark, one command: how fast a job starts, and how well a full queue is scheduled.

    python bench/jobs.py            # 20 start-latency samples, 100 jobs of 0.5 s on 2 slots
    python bench/jobs.py --quick    # 10 samples, 30 jobs
    python bench/jobs.py --json out.json

Two figures against the targets of issue 4:

1. ``start``: from submission (before the ``PUT /jobs/{name}`` is sent) to the user's process
   running (the first statement of its ``python -c``, which prints ``time.time()``), on an idle
   local compute with a cached registered environment (built by a warm-up job). Target: p50
   under 1 s.
2. ``queue``: N jobs of ``sleep D`` submitted at once on a 2-slot local compute; the makespan
   (first submission to the last job's end, from the jobs' own status history) against the ideal
   schedule ``ceil(N / 2) * D``. Target: at most 10% overhead.

The server is ``python -m trainyard up`` in a temporary ``TRAINYARD_HOME`` on a free loopback
port, stopped at the end (also on error).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

TERMINAL = {"Completed", "Failed", "Canceled"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "TRAINYARD_HOME": str(home)}
    env.pop("TRAINYARD_URI", None)
    log = open(home / "server.log", "wb")  # noqa: SIM115 - kept open for the server's life
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainyard", "up", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError((home / "server.log").read_text())


def _wait(api: httpx.Client, name: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = api.get(f"/jobs/{name}").json()
        if job["status"] in TERMINAL:
            return job  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            raise TimeoutError(job)
        time.sleep(0.02)


def bench_start(api: httpx.Client, samples: int) -> dict[str, float]:
    """Submission to user process running, with a cached environment, on an idle compute."""
    env = api.put("/environments/bench/versions/1", json={"requirements": []})
    env.raise_for_status()
    command = 'python -c "import time; print(repr(time.time()))"'
    warm = api.put("/jobs/warm-up", json={"command": command, "environment": "bench:1"})
    warm.raise_for_status()
    assert _wait(api, "warm-up")["status"] == "Completed"
    delays = []
    for i in range(samples):
        name = f"start-{i}"
        t0 = time.time()
        api.put(f"/jobs/{name}", json={"command": command, "environment": "bench:1"})
        job = _wait(api, name)
        assert job["status"] == "Completed", job
        started = float(api.get(f"/jobs/{name}/logs").text.strip())
        delays.append(started - t0)
    delays.sort()
    return {
        "samples": samples,
        "p50_s": statistics.median(delays),
        "p90_s": delays[int(0.9 * (len(delays) - 1))],
        "max_s": delays[-1],
    }


def bench_queue(api: httpx.Client, jobs: int, duration: float) -> dict[str, float]:
    """N jobs of ``sleep duration`` on a 2-slot compute, against the ideal schedule."""
    api.put("/computes/two", json={"type": "local", "slots": 2}).raise_for_status()
    t0 = time.time()
    for i in range(jobs):
        body = {"command": f"sleep {duration}", "compute": "two"}
        api.put(f"/jobs/queue-{i}", json=body).raise_for_status()
    submitted = time.time() - t0
    ends = []
    for i in range(jobs):
        job = _wait(api, f"queue-{i}", timeout=jobs * duration + 120)
        assert job["status"] == "Completed", job
        ends.append(job["status_history"][-1]["time"] / 1000)
    makespan = max(ends) - t0
    ideal = math.ceil(jobs / 2) * duration
    return {
        "jobs": jobs,
        "job_seconds": duration,
        "submit_all_s": submitted,
        "makespan_s": makespan,
        "ideal_s": ideal,
        "overhead_pct": 100 * (makespan / ideal - 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples and jobs")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    samples, jobs = (10, 30) if args.quick else (20, 100)
    with tempfile.TemporaryDirectory(prefix="trainyard-bench-jobs-") as tmp:
        proc, url = _start(Path(tmp))
        try:
            with httpx.Client(base_url=f"{url}/api/v1/workspaces/default", timeout=60) as api:
                start = bench_start(api, samples)
                queue = bench_queue(api, jobs, 0.5)
        finally:
            proc.terminate()
            proc.wait(30)
    print(f"cores: {os.cpu_count()}  python {sys.version.split()[0]}")
    print(
        f"start    submission -> user process running: p50 {start['p50_s'] * 1000:.0f} ms, "
        f"p90 {start['p90_s'] * 1000:.0f} ms, max {start['max_s'] * 1000:.0f} ms "
        f"({samples} jobs; target p50 < 1000 ms: {'met' if start['p50_s'] < 1 else 'MISSED'})"
    )
    print(
        f"queue    {jobs} jobs x {queue['job_seconds']} s on 2 slots: makespan "
        f"{queue['makespan_s']:.2f} s vs ideal {queue['ideal_s']:.2f} s = "
        f"{queue['overhead_pct']:+.1f}% (target <= +10%: "
        f"{'met' if queue['overhead_pct'] <= 10 else 'MISSED'}); submitting all took "
        f"{queue['submit_all_s']:.2f} s"
    )
    if args.json:
        args.json.write_text(json.dumps({"start": start, "queue": queue}, indent=2))


if __name__ == "__main__":
    main()
