"""Starting and stopping a real ``trainyard up`` process for tests."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningServer:
    """A server process and how to reach it."""

    url: str
    home: Path
    env: dict[str, str]
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    extra_args: list[str] = field(default_factory=list)

    @property
    def api(self) -> str:
        """Base of the default workspace's routes."""
        return f"{self.url}/api/v1/workspaces/default"

    def log(self) -> str:
        """What the server printed."""
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, like a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """Stop it cleanly (SIGTERM), then kill if it lingers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> RunningServer:
        """A new process on the same home, port and settings."""
        self.stop()
        return start_server(self.home, self.env, port=self.port, extra_args=self.extra_args)


def start_server(
    home: Path,
    env: dict[str, str],
    *,
    port: int | None = None,
    extra_args: list[str] | None = None,
    timeout: float = 30.0,
) -> RunningServer:
    """Run ``python -m trainyard up`` and wait until it answers its health check."""
    port = port or free_port()
    full_env = {**os.environ, "TRAINYARD_HOME": str(home), **env}
    full_env.pop("TRAINYARD_URI", None)
    log_path = home / f"server-{port}-{time.monotonic_ns()}.log"
    args = [sys.executable, "-m", "trainyard", "up", "--port", str(port), *(extra_args or [])]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    host = "127.0.0.1"
    for a, b in itertools.pairwise(args):
        if a == "--host":
            host = b
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return RunningServer(url, home, env, port, proc, log_path, extra_args or [])
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server did not start in {timeout}s:\n{log_path.read_text()}")
