"""The measuring side of ``bench/serving.py``: loopback HTTP clients, ONNX Runtime in-process,
and MLflow's scoring server started from the same venv.

Every HTTP figure comes from one :class:`Connection` (one keep-alive TCP connection on 127.0.0.1)
sending pre-encoded bodies one after the other: the latency of a request is what that client
sees, from sending the request to the last byte of the answer read. Figures are taken in
rounds; the least disturbed round (highest throughput) is reported, as ``timeit`` does, since
other processes on a shared machine only ever slow a round down.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson

FEATURES = 20


def bodies(rows: int, count: int, seed: int = 1) -> list[bytes]:
    """``count`` different ``{"inputs": [[...]]}`` bodies of ``rows`` rows each."""
    rng = np.random.default_rng(seed)
    return [
        orjson.dumps({"inputs": rng.normal(size=(rows, FEATURES)).tolist()}) for _ in range(count)
    ]


def binary_bodies(rows: int, count: int, seed: int = 1) -> tuple[list[bytes], int]:
    """``count`` Open Inference Protocol bodies of ``rows`` rows as binary float32 tensors (the
    binary tensor extension), and their JSON header's length (the same for every body)."""
    rng = np.random.default_rng(seed)
    tensor = {"name": "X", "shape": [rows, FEATURES], "datatype": "FP32"}
    head = orjson.dumps(
        {"inputs": [{**tensor, "parameters": {"binary_data_size": rows * FEATURES * 4}}]}
    )
    values = (rng.normal(size=(rows, FEATURES)).astype("<f4") for _ in range(count))
    return [head + v.tobytes() for v in values], len(head)


def summary(latencies: list[float], elapsed: float, rows: int) -> dict[str, float]:
    """p50/p99 in microseconds, requests/s and rows/s of one round."""
    arr = np.asarray(latencies) * 1e6
    return {
        "p50_us": float(np.percentile(arr, 50)),
        "p99_us": float(np.percentile(arr, 99)),
        "req_per_s": len(latencies) / elapsed,
        "rows_per_s": len(latencies) * rows / elapsed,
    }


def best(rounds: list[dict[str, float]]) -> dict[str, Any]:
    """The least disturbed round, with every round kept."""
    top = max(rounds, key=lambda r: r["req_per_s"])
    return {**top, "rounds": rounds}


class Connection:
    """One keep-alive HTTP/1.1 connection on a TCP socket with ``TCP_NODELAY``: requests are
    pre-built bytes, answers are read by their ``Content-Length``. A lean client (Python's
    ``http.client`` spends about 60 us of its own per request), the same for every server."""

    def __init__(self, port: int, path: str, headers: dict[str, str]) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lines = [
            f"POST {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Content-Type: application/json",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        self.head = "\r\n".join(lines).encode()
        self.buffer = bytearray()

    def request(self, body: bytes) -> tuple[int, bytes]:
        """Send one request; its status and body."""
        self.sock.sendall(b"%s\r\nContent-Length: %d\r\n\r\n%s" % (self.head, len(body), body))
        buf = self.buffer
        while (end := buf.find(b"\r\n\r\n")) < 0:
            buf += self._recv()
        head = bytes(buf[:end]).lower()
        at = head.find(b"content-length:")
        if at < 0:
            raise RuntimeError(f"no content-length in {head[:300]!r}")
        length = int(head[at + 15 : head.find(b"\r\n", at) % (len(head) + 1)])
        stop = end + 4 + length
        while len(buf) < stop:
            buf += self._recv()
        answer = bytes(buf[end + 4 : stop])
        del buf[:stop]
        return int(head[9:12]), answer

    def _recv(self) -> bytes:
        data = self.sock.recv(1 << 20)
        if not data:
            raise RuntimeError("the server closed the connection")
        return data

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()


def http_round(
    conn: Connection, payloads: list[bytes], requests: int, rows: int
) -> dict[str, float]:
    """One round: ``requests`` POSTs one after the other on ``conn``."""
    latencies = []
    n = len(payloads)
    start = time.perf_counter()
    for i in range(requests):
        t = time.perf_counter()
        status, data = conn.request(payloads[i % n])
        latencies.append(time.perf_counter() - t)
        if status != 200:
            raise RuntimeError(f"answered {status}: {data[:300]!r}")
    return summary(latencies, time.perf_counter() - start, rows)


class InProcess:
    """ONNX Runtime in this process: the same bytes and session options as a deployment's,
    called on float32 arrays already in memory."""

    def __init__(self, onnx: bytes) -> None:
        import onnxruntime as ort

        from trainyard.serving.runtime import session_options

        providers = ["CPUExecutionProvider"]
        self.session = ort.InferenceSession(onnx, session_options(), providers=providers)
        self.name = self.session.get_inputs()[0].name
        rng = np.random.default_rng(1)
        self.arrays = {
            rows: [rng.normal(size=(rows, FEATURES)).astype(np.float32) for _ in range(100)]
            for rows in (1, 100)
        }
        for i in range(1000):
            self.session.run(None, {self.name: self.arrays[1][i % 100]})

    def round(self, rows: int, calls: int) -> dict[str, float]:
        """One round of ``calls`` runs on ``rows``-row arrays."""
        arrays, run, name = self.arrays[rows], self.session.run, self.name
        latencies = []
        start = time.perf_counter()
        for i in range(calls):
            t = time.perf_counter()
            run(None, {name: arrays[i % 100]})
            latencies.append(time.perf_counter() - t)
        return summary(latencies, time.perf_counter() - start, rows)


def paired_rounds(
    port: int,
    path: str,
    headers: dict[str, str],
    payloads: list[bytes],
    requests: int,
    rows: int,
    local: InProcess | None,
    rounds: int = 3,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """HTTP rounds over one keep-alive connection, each followed by an in-process round (so
    both see the machine in the same state); the best round of each."""
    conn = Connection(port, path, headers)
    http_round(conn, payloads, min(1000, requests), rows)  # warm-up
    served, alone = [], []
    for _ in range(rounds):
        served.append(http_round(conn, payloads, requests, rows))
        if local is not None:
            alone.append(local.round(rows, requests))
    conn.close()
    return best(served), (best(alone) if alone else None)


ECHO_SERVER = """
import socket

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
while data := c.recv(65536):
    c.sendall(data)
"""


def echo_floor(cpus: set[int] | None, exchanges: int = 20_000) -> float:
    """The round trip, in microseconds, of 500 bytes between this process and an echo server
    (two Python processes, one loopback socket, no HTTP): the floor under every HTTP figure.
    With ``cpus``, both processes run on those CPUs only (this one for the measure alone)."""
    before = os.sched_getaffinity(0)
    if cpus is not None:
        os.sched_setaffinity(0, cpus)  # the echo server inherits it
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", ECHO_SERVER], stdout=subprocess.PIPE, start_new_session=True
        )
        try:
            assert proc.stdout is not None
            port = int(proc.stdout.readline())
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                message, best_us = b"x" * 500, float("inf")
                for _ in range(3):
                    start = time.perf_counter()
                    for _ in range(exchanges):
                        sock.sendall(message)
                        got = len(sock.recv(65536))
                        while got < len(message):
                            got += len(sock.recv(65536))
                    best_us = min(best_us, (time.perf_counter() - start) / exchanges * 1e6)
            return best_us
        finally:
            stop_group(proc)
    finally:
        os.sched_setaffinity(0, before)


def free_port() -> int:
    """A loopback TCP port nobody listens on."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_group(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM the process group this benchmark started (the server and its workers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 120) -> None:
    """Until ``GET url`` answers 200 (or the process dies: its log is raised)."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}:\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready in {seconds}s:\n{log.read_text()}")


@contextlib.contextmanager
def mlflow_server(model: Any, sample: np.ndarray) -> Iterator[int]:
    """Log ``model`` with ``mlflow.sklearn.log_model`` into a SQLite tracking store in a temp
    folder, then run ``mlflow models serve -m runs:/<run>/model --env-manager local`` on a free
    loopback port; its port once ``/ping`` answers."""
    import mlflow
    import mlflow.sklearn

    with tempfile.TemporaryDirectory(prefix="trainyard-bench-mlflow-") as tmp:
        uri = f"sqlite:///{tmp}/mlflow.db"
        mlflow.set_tracking_uri(uri)
        exp = mlflow.create_experiment("serving", artifact_location=Path(tmp, "mlruns").as_uri())
        with mlflow.start_run(experiment_id=exp) as run:
            mlflow.sklearn.log_model(  # our own model: its tree type is trusted
                model,
                name="model",
                input_example=sample[:5],
                skops_trusted_types=["sklearn.tree._tree.Tree"],
            )
        port = free_port()
        log = Path(tmp, "serve.log")
        # mlflow runs `uvicorn` from PATH: this interpreter's, even when its venv is not active
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "PATH": path}
        args = [
            sys.executable,
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            f"runs:/{run.info.run_id}/model",
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        with log.open("wb") as out:
            proc = subprocess.Popen(
                args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            wait_http(f"http://127.0.0.1:{port}/ping", proc, log)
            yield port
        finally:
            stop_group(proc)
