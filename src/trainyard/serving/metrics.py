"""Prometheus metrics of scoring, served at ``/metrics``.

::

    trainyard_scoring_requests_total{workspace, endpoint, deployment}
    trainyard_scoring_errors_total{workspace, endpoint, deployment, code}
    trainyard_scoring_latency_seconds{workspace, endpoint, deployment}   (histogram)
    trainyard_scoring_rows_total{workspace, endpoint, deployment}
    trainyard_scoring_mirror_total{workspace, endpoint, deployment, outcome}
        outcome: match | mismatch | error | dropped
    trainyard_scoring_batch_rows{workspace, endpoint, deployment}      (histogram)
        rows per batched run, for deployments with batching on: its _count is the number of
        batched ONNX Runtime runs, its _sum the rows they scored

``deployment`` is empty for requests refused before one was chosen (unknown endpoint, bad key).
Latency is measured from the request's arrival at the route to its answer being ready.

With several worker processes (``trainyard serve --workers N``) each writes to
``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` adds them up (prometheus_client's multiprocess
mode); ``trainyard serve`` sets that folder up.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (
    0.0002,
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    10.0,
)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LABELS = ("workspace", "endpoint", "deployment")


class Series:
    """The metric children of one (workspace, endpoint, deployment), looked up once."""

    __slots__ = ("_errors", "_labels", "latency", "requests", "rows")

    def __init__(self, metrics: ScoringMetrics, labels: tuple[str, str, str]) -> None:
        self._labels = labels
        self._errors = metrics.errors
        self.requests = metrics.requests.labels(*labels)
        self.latency = metrics.latency.labels(*labels)
        self.rows = metrics.rows.labels(*labels)

    def done(self, seconds: float, rows: int) -> None:
        """Count a scored request."""
        self.requests.inc()
        self.rows.inc(rows)
        self.latency.observe(seconds)

    def failed(self, seconds: float, code: str) -> None:
        """Count a refused or failed request."""
        self.requests.inc()
        self.latency.observe(seconds)
        self._errors.labels(*self._labels, code).inc()


class ScoringMetrics:
    """The scoring metrics on their own registry (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "trainyard_scoring_requests", "Scoring requests.", _LABELS, registry=r
        )
        self.errors = Counter(
            "trainyard_scoring_errors",
            "Scoring requests answered with an error.",
            (*_LABELS, "code"),
            registry=r,
        )
        self.latency = Histogram(
            "trainyard_scoring_latency_seconds",
            "Time to answer a scoring request.",
            _LABELS,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.rows = Counter("trainyard_scoring_rows", "Rows scored.", _LABELS, registry=r)
        self.mirror = Counter(
            "trainyard_scoring_mirror",
            "Mirrored requests by outcome of the comparison.",
            (*_LABELS, "outcome"),
            registry=r,
        )
        self.batch_rows = Histogram(
            "trainyard_scoring_batch_rows",
            "Rows per batched run (deployments with batching on).",
            _LABELS,
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self._series: dict[tuple[str, str, str], Series] = {}

    def series(self, workspace: str, endpoint: str, deployment: str) -> Series:
        """The children for these labels (cached)."""
        key = (workspace, endpoint, deployment)
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = Series(self, key)
        return found

    def mirrored(self, workspace: str, endpoint: str, deployment: str, outcome: str) -> None:
        """Count a mirror comparison."""
        self.mirror.labels(workspace, endpoint, deployment, outcome).inc()

    def render(self) -> bytes:
        """The exposition text (every worker's, in multiprocess mode)."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry: Any = CollectorRegistry()
            MultiProcessCollector(registry)
            return bytes(generate_latest(registry))
        return bytes(generate_latest(self.registry))
