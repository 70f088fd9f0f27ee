"""Logging scored inputs and outputs (a deployment's ``log_requests`` flag), for retraining and
drift checks.

Each scored request becomes one JSON line::

    {"time": 1718000000000, "deployment": "blue", "model": "churn", "model_version": 3,
     "rows": 2, "inputs": {"X": [[...], [...]]}, "outputs": {"label": [0, 1], ...}}

Lines are queued on the request path (a reference to the arrays, no copy, no encoding) and
written by a background thread, about once a second, into the artifact store under
``serving-logs/<workspace>/<endpoint>/<YYYY-MM-DD>/<HHMMSS>-<pid>-<n>.jsonl`` (UTC): one folder
per endpoint and day, one file per flush (the artifact store writes whole files, which works on
every fsspec backend, object stores included). A full queue drops lines and says so in the log.

The first time a process writes an endpoint's log it calls ``on_folder(workspace, endpoint,
folder)`` (the server registers the folder as a data asset there, ``<endpoint>-requests``).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson

from trainyard.store import ArtifactStore

log = logging.getLogger("trainyard.serving")

FLUSH_SECONDS = 1.0
QUEUE_SIZE = 10_000
PREFIX = "serving-logs"

Entry = tuple[int, str, str, str, str, int, int, dict[str, np.ndarray], list[str], list[Any]]


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.dtype == np.object_:
        return value.tolist()
    return value


def log_folder(workspace: str, endpoint: str) -> str:
    """The folder of an endpoint's request logs in the artifact store."""
    return f"{PREFIX}/{workspace}/{endpoint}"


def log_key(workspace: str, endpoint: str, ms: int, n: int) -> str:
    """Where a flush of lines logged at ``ms`` goes."""
    at = datetime.fromtimestamp(ms / 1000, tz=UTC)
    day, clock = at.strftime("%Y-%m-%d"), at.strftime("%H%M%S")
    return f"{log_folder(workspace, endpoint)}/{day}/{clock}-{os.getpid()}-{n}.jsonl"


class RequestLog:
    """The queue and the writer thread (see the module docstring)."""

    def __init__(
        self,
        artifacts: ArtifactStore,
        on_folder: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self.artifacts = artifacts
        self.on_folder = on_folder
        self._announced: set[tuple[str, str]] = set()
        self._queue: queue.Queue[Entry] = queue.Queue(QUEUE_SIZE)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._flushes = 0
        self.dropped = 0

    def add(self, entry: Entry) -> None:
        """Queue one request (never blocks)."""
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="trainyard-request-log", daemon=True
                    )
                    self._thread.start()
        try:
            self._queue.put_nowait(entry)
        except queue.Full:
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.warning("request log queue full: %d lines dropped so far", self.dropped)

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            self.flush()
        self.flush()

    def flush(self) -> None:
        """Write every queued line now."""
        batches: dict[tuple[str, str], list[bytes]] = {}
        first: dict[tuple[str, str], int] = {}
        while True:
            try:
                ms, ws, endpoint, deployment, model, version, rows, feeds, names, outs = (
                    self._queue.get_nowait()
                )
            except queue.Empty:
                break
            line = {
                "time": ms,
                "deployment": deployment,
                "model": model,
                "model_version": version,
                "rows": rows,
                "inputs": {k: _plain(v) for k, v in feeds.items()},
                "outputs": {k: _plain(v) for k, v in zip(names, outs, strict=False)},
            }
            data = orjson.dumps(line, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
            batches.setdefault((ws, endpoint), []).append(data)
            first.setdefault((ws, endpoint), ms)
        for (ws, endpoint), lines in batches.items():
            self._flushes += 1
            key = log_key(ws, endpoint, first[(ws, endpoint)], self._flushes)
            try:
                with self.artifacts.open_write(key) as f:
                    f.write(b"\n".join(lines) + b"\n")
            except Exception:
                log.exception("could not write the request log %s", key)
                continue
            self._announce(ws, endpoint)

    def _announce(self, workspace: str, endpoint: str) -> None:
        """Call ``on_folder`` once per endpoint and process (its errors are logged)."""
        if self.on_folder is None or (workspace, endpoint) in self._announced:
            return
        self._announced.add((workspace, endpoint))
        try:
            self.on_folder(workspace, endpoint, log_folder(workspace, endpoint))
        except Exception:
            log.exception("could not register the request logs of %s/%s", workspace, endpoint)

    def stop(self) -> None:
        """Flush and stop the writer."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)


def now_ms() -> int:
    """UTC milliseconds."""
    return int(time.time() * 1000)
