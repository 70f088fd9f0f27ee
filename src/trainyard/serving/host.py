"""The scoring host: the loaded deployments of every endpoint, following the store.

One host per process (``trainyard up`` and each ``trainyard serve`` worker). It keeps the
current :class:`RoutingTable` in :attr:`ScoringHost.table` and follows the store:

- :meth:`sync` reads the store's serving revision; when it moved, it reads a snapshot of every
  endpoint, loads and warms the sessions of deployments that are new or whose model or replicas
  changed (the others keep their runtime), builds a new table, swaps it in with one assignment,
  and retires the runtimes the new table no longer uses (they drain, then close). A deployment
  therefore takes traffic only once warm, and a replaced one finishes its requests first.
- A poller thread calls :meth:`sync` every ``poll_seconds`` (one small query when nothing
  changed); the serving service also calls it right after each write, so the process that
  took the change applies it before answering.
- :meth:`prepare` loads a model ahead of a write (the service refuses a deployment whose model
  does not load, before recording anything); the next :meth:`sync` uses it.

A deployment with ``batching`` on gets a :class:`~trainyard.serving.batching.Batcher` on its
target, kept across tables while its runtime, setting and timeout stay the same (a model that
cannot be batched, see :attr:`LoadedModel.batchable`, is served unbatched, with a warning).

A deployment whose model fails to load here keeps its previous runtime if it had one (and
serves the previous model), else its requests answer 503 with the reason; loading is retried
every ``RETRY_SECONDS``.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

from trainyard.core.serving import Deployment, Endpoint, cumulative
from trainyard.errors import TrainyardError
from trainyard.registry import RegistryService
from trainyard.serving.batching import Batcher
from trainyard.serving.metrics import ScoringMetrics
from trainyard.serving.mirror import Mirror
from trainyard.serving.request_log import RequestLog
from trainyard.serving.routing import Route, RoutingTable, Target
from trainyard.serving.runtime import INLINE_BUDGET_S, DeploymentRuntime, LoadedModel
from trainyard.store import ArtifactStore
from trainyard.store._serving_base import ServingStore

log = logging.getLogger("trainyard.serving")

RETRY_SECONDS = 10.0
Key = tuple[str, str, str]


class ScoringHost:
    """Loaded deployments and the routing table (see the module docstring).

    Args:
        store: the serving store to follow.
        registry: where model files come from.
        artifacts: where request logs go.
        poll_seconds: how often the poller looks at the store's revision.
        inline_budget_s: model time under which a request runs on the event loop (see
            :mod:`trainyard.serving.runtime`).
    """

    def __init__(
        self,
        store: ServingStore,
        registry: RegistryService,
        artifacts: ArtifactStore,
        *,
        poll_seconds: float = 1.0,
        inline_budget_s: float = INLINE_BUDGET_S,
    ) -> None:
        self.store = store
        self.registry = registry
        self.poll_seconds = poll_seconds
        self.inline_budget_s = inline_budget_s
        self.metrics = ScoringMetrics()
        self.mirror = Mirror(self.metrics)
        self.request_log = RequestLog(artifacts)
        self.table = RoutingTable()
        self.ready = False
        self._lock = threading.RLock()
        self._runtimes: dict[Key, DeploymentRuntime] = {}
        self._batchers: dict[Key, Batcher] = {}
        self._prepared: dict[tuple[str, str, int], LoadedModel] = {}
        self._failed_at = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Load every endpoint now, then follow the store in a background thread."""
        try:
            self.sync(force=True)
        except Exception:
            log.exception("could not load the endpoints; retrying in the background")
        # Everything alive now (libraries, the app, the loaded models) lives as long as the
        # process: keep it out of the cyclic collector's full passes, which would otherwise
        # walk it every so often on the request path (milliseconds of p99 latency).
        gc.freeze()
        self._thread = threading.Thread(target=self._poll, name="trainyard-serving", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following, flush the logs, close every runtime."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.mirror.stop()
        self.request_log.stop()
        with self._lock:
            for runtime in self._runtimes.values():
                runtime.retire()
            self._runtimes = {}
            self.table = RoutingTable()

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            retry = self._failed_at and time.monotonic() - self._failed_at > RETRY_SECONDS
            try:
                self.sync(force=bool(retry))
            except Exception:
                log.exception("could not follow the serving store")

    # ------------------------------------------------------------------ loading
    def load(self, workspace: str, model_id: str, replicas: int) -> LoadedModel:
        """Read a version's ONNX file from the registry; create, then warm, its sessions.

        Raises:
            TrainyardError: the version is missing or not READY (NotFound, Conflict), or ONNX
                Runtime cannot load or run it (InvalidArgument).
        """
        version, chunks, _, _ = self.registry.open_file(workspace, model_id)
        content = b"".join(chunks)
        model = LoadedModel(content, replicas, version.signature.get("feature_names"))
        model.warm(self.inline_budget_s)
        log.info(
            "loaded %s:%s (%d replicas): %.0f us/run + %.2f us/row, inline up to %d rows",
            version.name,
            version.version,
            replicas,
            model.cost_s[0] * 1e6,
            model.cost_s[1] * 1e6,
            model.inline_rows,
        )
        return model

    def prepare(self, workspace: str, model_id: str, replicas: int) -> None:
        """Load a model for a deployment about to be written (see the module docstring)."""
        model = self.load(workspace, model_id, replicas)
        with self._lock:
            self._prepared[(workspace, model_id, replicas)] = model

    def discard(self, workspace: str, model_id: str, replicas: int) -> None:
        """Forget a prepared model whose write failed."""
        with self._lock:
            self._prepared.pop((workspace, model_id, replicas), None)

    # ------------------------------------------------------------------ following
    def sync(self, force: bool = False) -> bool:
        """Apply the store's state if its revision moved (or ``force``); True if it did."""
        with self._lock:
            if not force and self.store.revision() == self.table.revision:
                return False
            revision, endpoints = self.store.snapshot()
            self._apply(revision, endpoints)
            return True

    def _apply(self, revision: int, endpoints: list[Endpoint]) -> None:
        self._failed_at = 0.0
        runtimes: dict[Key, DeploymentRuntime] = {}
        batchers: dict[Key, Batcher] = {}
        routes: dict[tuple[str, str], Route] = {}
        for e in endpoints:
            targets: dict[str, Target] = {}
            missing: dict[str, str] = {}
            for d in e.deployments.values():
                key = (e.workspace, e.name, d.name)
                runtime, problem = self._runtime(key, d)
                if runtime is None:
                    missing[d.name] = problem
                    continue
                runtimes[key] = runtime
                batcher = self._batcher(key, d, runtime)
                if batcher is not None:
                    batchers[key] = batcher
                targets[d.name] = Target(
                    d.name,
                    runtime,
                    d.limits,
                    d.log_requests,
                    self.metrics.series(e.workspace, e.name, d.name),
                    [
                        (b"x-trainyard-deployment", d.name.encode()),
                        (b"x-trainyard-model-version", runtime.label.encode()),
                    ],
                    batcher,
                )
            names, bounds = cumulative({k: v for k, v in e.traffic.items() if k in e.deployments})
            ((mirror_name, share),) = e.mirror.items() or (("", 0),)
            routes[(e.workspace, e.name)] = Route(
                workspace=e.workspace,
                name=e.name,
                open=e.auth.value == "none",
                keys=(e.keys.primary.encode(), e.keys.secondary.encode()),
                targets=targets,
                names=names,
                bounds=bounds,
                mirror=targets.get(mirror_name),
                mirror_percent=share,
                missing=missing,
            )
        old, self._runtimes = self._runtimes, runtimes
        self._batchers = batchers
        self.table = RoutingTable(revision, routes)  # the swap: one reference assignment
        self.ready = True
        for key, runtime in old.items():
            if runtimes.get(key) is not runtime:
                runtime.retire()

    def _batcher(self, key: Key, d: Deployment, runtime: DeploymentRuntime) -> Batcher | None:
        """The deployment's batcher: the current one if nothing it depends on changed."""
        if d.batching is None:
            return None
        timeout_s = d.limits.timeout_ms / 1000
        current = self._batchers.get(key)
        if (
            current is not None
            and current.runtime is runtime
            and (current.batching, current.timeout_s) == (d.batching, timeout_s)
        ):
            return current
        if not runtime.model.batchable:
            log.warning(
                "deployment %s: %s cannot be batched (its inputs or outputs do not take rows "
                "along a first axis of free size); it is served unbatched",
                "/".join(key),
                runtime.label,
            )
            return None
        return Batcher(runtime, d.batching, timeout_s, self.metrics.batch_rows.labels(*key).observe)

    def _runtime(self, key: Key, d: Deployment) -> tuple[DeploymentRuntime | None, str]:
        current = self._runtimes.get(key)
        if current is not None and (current.model_id, current.replicas) == (
            d.model_id,
            d.replicas,
        ):
            return current, ""
        model = self._prepared.pop((d.workspace, d.model_id, d.replicas), None)
        if model is None:
            try:
                model = self.load(d.workspace, d.model_id, d.replicas)
            except TrainyardError as exc:
                self._failed_at = time.monotonic()
                problem = (
                    f"deployment {d.name!r} of endpoint {d.endpoint!r} cannot load "
                    f"{d.model_name}:{d.model_version}: {exc.message}"
                )
                log.error("%s", problem)
                return current, problem
        runtime = DeploymentRuntime(key, d.model_id, d.model_name, d.model_version, model)
        return runtime, ""
