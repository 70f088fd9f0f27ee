"""Mirror traffic: a copy of some requests scored by another deployment, compared, never returned.

The live answer is sent first and never waits for the mirror: the copy goes to a bounded queue
served by one background thread (a full queue drops the copy and counts it as ``dropped``).
The thread runs the mirror deployment on the same feeds and compares each output with the live
one: labels and integers must be equal, floats must agree within ``atol + rtol * |live|``
(ONNX Runtime's float32 noise). The outcome is counted in
``trainyard_scoring_mirror_total{outcome=match|mismatch|error|dropped}``, and mismatches and
errors are logged on the ``trainyard.serving.mirror`` logger with the first differing row.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from trainyard.serving.metrics import ScoringMetrics
from trainyard.serving.routing import Route, Target

log = logging.getLogger("trainyard.serving.mirror")

RTOL = 1e-4
ATOL = 1e-5
QUEUE_SIZE = 256


@dataclass(frozen=True, slots=True)
class MirrorJob:
    """One copied request."""

    route: Route
    live: Target
    mirror: Target
    feeds: dict[str, np.ndarray]
    outputs: list[Any]


def compare(live: list[Any], other: list[Any], names: list[str]) -> str | None:
    """None when the outputs agree, else where they first differ."""
    for name, a, b in zip(names, live, other, strict=False):
        x, y = np.asarray(a), np.asarray(b)
        if x.shape != y.shape:
            return f"output {name!r}: shape {list(x.shape)} vs {list(y.shape)}"
        if x.dtype.kind == "f" and y.dtype.kind == "f":
            close = np.isclose(y, x, rtol=RTOL, atol=ATOL, equal_nan=True)
        else:
            close = x == y
        if not np.all(close):
            row = int(np.argwhere(~np.asarray(close))[0][0]) if x.ndim else 0
            return f"output {name!r} row {row}: {x[row]!r} (live) vs {y[row]!r} (mirror)"
    return None


class Mirror:
    """The background comparer (see the module docstring)."""

    def __init__(self, metrics: ScoringMetrics) -> None:
        self.metrics = metrics
        self._queue: queue.Queue[MirrorJob | None] = queue.Queue(QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: MirrorJob) -> None:
        """Queue a copy (called on the request path: never blocks). The caller holds a lease
        on ``job.mirror.runtime``, released here once the copy is done or dropped."""
        self._start()
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            job.mirror.runtime.release()
            self._count(job, "dropped")

    def _start(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._work, name="trainyard-mirror", daemon=True
                    )
                    self._thread.start()

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            try:
                self._compare(job)
            except Exception:  # never let one copy stop the comparer
                log.exception("mirror comparison failed")
            finally:
                job.mirror.runtime.release()
                self._queue.task_done()

    def _compare(self, job: MirrorJob) -> None:
        model = job.mirror.runtime.model
        try:
            other = job.mirror.runtime.run_inline(job.feeds)
        except Exception as exc:
            self._count(job, "error")
            log.warning(
                "mirror %s/%s: deployment %r failed on a copied request: %s",
                job.route.workspace,
                job.route.name,
                job.mirror.name,
                exc,
            )
            return
        live_names = job.live.runtime.model.outputs
        problem = compare(job.outputs, other, live_names)
        if problem is None and live_names != model.outputs:
            problem = f"outputs {live_names} vs {model.outputs}"
        self._count(job, "match" if problem is None else "mismatch")
        if problem is not None:
            log.warning(
                "mirror %s/%s: %r (%s) differs from %r (%s): %s",
                job.route.workspace,
                job.route.name,
                job.mirror.name,
                job.mirror.runtime.label,
                job.live.name,
                job.live.runtime.label,
                problem,
            )

    def _count(self, job: MirrorJob, outcome: str) -> None:
        self.metrics.mirrored(job.route.workspace, job.route.name, job.mirror.name, outcome)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every queued copy was compared (for tests); False on timeout."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def stop(self) -> None:
        """Stop the thread after the queued copies."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(5)
