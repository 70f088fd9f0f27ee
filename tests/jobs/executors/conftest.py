"""A real local Ray head for the Ray executor's tests.

``ray start --head`` (one CPU, dashboard on a free loopback port) in a temporary folder, shared
by the tests of this folder, and ``ray stop`` at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support import free_port


@pytest.fixture(scope="package")
def ray_address() -> Iterator[str]:
    """A local Ray head's dashboard address, shared by the executor tests."""
    pytest.importorskip("ray.job_submission")
    ray = shutil.which("ray", path=os.path.dirname(sys.executable)) or "ray"
    tmp = tempfile.mkdtemp(prefix="/tmp/tyray")  # short: Ray's socket paths have a length limit
    dashboard = free_port()
    env = {
        **os.environ,
        "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}",
    }
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    args = [
        ray, "start", "--head", f"--port={free_port()}", "--dashboard-host", "127.0.0.1",
        "--dashboard-port", str(dashboard), "--num-cpus", "1", "--include-dashboard", "true",
        f"--temp-dir={tmp}", "--disable-usage-stats",
    ]  # fmt: skip
    started = subprocess.run(args, env=env, capture_output=True, text=True, timeout=180)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        address = f"http://127.0.0.1:{dashboard}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{address}/api/version", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the Ray dashboard did not come up"
            time.sleep(0.5)
        yield address
    finally:
        subprocess.run([ray, "stop", "--force"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)
