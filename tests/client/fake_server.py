"""An in-memory fake of the REST routes the SDK uses, served through ``httpx.MockTransport``.

Request bodies are validated with the real wire models, so a client that sends something the
server would refuse fails here too. ``hook`` runs before routing: return a response (or raise an
``httpx`` error) to inject a fault, or None to let the request through.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import httpx
import orjson
from pydantic import BaseModel, ValidationError

from trainyard import schemas
from trainyard.client import BatcherOptions, RetryPolicy

FAST_RETRY = RetryPolicy(attempts=6, total=2.0, base_delay=0.001, max_delay=0.004)
FAST_BATCH_RETRY = RetryPolicy(
    attempts=None, total=0.2, base_delay=0.001, max_delay=0.01, statuses=frozenset(range(500, 600))
)
FAST_BATCHER = BatcherOptions(interval=0.01, retry=FAST_BATCH_RETRY)

Hook = Callable[[httpx.Request], httpx.Response | None]


def error(status: int, code: str, message: str) -> httpx.Response:
    """An error answer in Trainyard's format."""
    return httpx.Response(status, json={"error": {"code": code, "message": message}})


class FakeServer:
    """Experiments, runs, params, tags, metrics and artifacts, kept in dicts."""

    def __init__(self, page_limit: int = 1000) -> None:
        self.page_limit = page_limit  # the largest page served, to exercise pagination
        self.lock = threading.Lock()
        self.experiments: dict[str, dict[str, Any]] = {}
        self.runs: dict[str, dict[str, Any]] = {}
        self.metrics: dict[str, list[dict[str, Any]]] = {}  # run_id -> points, arrival order
        self.files: dict[tuple[str, str], bytes] = {}
        self.requests: list[httpx.Request] = []
        self.batch_sizes: list[int] = []  # metrics per accepted log-batch
        self.hook: Hook | None = None
        self._ids = itertools.count(1)

    def transport(self) -> httpx.MockTransport:
        """The transport to hand to ``trainyard.connect``."""
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Route one request."""
        with self.lock:
            self.requests.append(request)
        if self.hook is not None and (answer := self.hook(request)) is not None:
            return answer
        parts = [unquote(p) for p in request.url.raw_path.split(b"?")[0].decode().split("/")]
        if parts[:4] != ["", "api", "v1", "workspaces"] or len(parts) < 6:
            return error(404, "NOT_FOUND", f"no route {request.url.path}")
        ws, route = parts[4], parts[5:]
        try:
            with self.lock:
                return self._route(request, ws, route)
        except ValidationError as exc:
            return error(400, "INVALID_ARGUMENT", str(exc))

    # --- routing ----------------------------------------------------------------------------

    def _route(self, req: httpx.Request, ws: str, route: list[str]) -> httpx.Response:
        m, q = req.method, req.url.params
        if route == ["experiments"] and m == "GET":
            items = sorted(self.experiments.values(), key=lambda e: e["name"])
            return self._page(req, "experiments", items)
        if route == ["experiments"] and m == "POST":
            return self._create_experiment(ws, _parse(schemas.ExperimentCreate, req))
        if route == ["experiments", "by-name"] and m == "GET":
            for exp in self.experiments.values():
                if exp["name"] == q["name"]:
                    return httpx.Response(200, json=exp)
            return error(404, "NOT_FOUND", f"experiment {q['name']!r} does not exist")
        if route == ["runs"] and m == "POST":
            return self._create_run(ws, _parse(schemas.RunCreate, req))
        if route == ["runs", "search"] and m == "POST":
            return self._search(_parse(schemas.RunSearch, req))
        if len(route) < 2 or route[0] != "runs":
            return error(404, "NOT_FOUND", f"no route {req.url.path}")
        run = self.runs.get(route[1])
        if run is None:
            return error(404, "NOT_FOUND", f"run {route[1]!r} does not exist in workspace {ws!r}")
        rest = route[2:]
        if not rest and m == "GET":
            return httpx.Response(200, json=self._public(run))
        if not rest and m == "PATCH":
            update = _parse(schemas.RunUpdate, req)
            for key, value in update.model_dump(exclude_none=True, mode="json").items():
                run[key] = value
            if update.status in ("FINISHED", "FAILED", "KILLED"):
                run["end_time"] = _now()
            return httpx.Response(200, json=self._public(run))
        if rest == ["log-batch"] and m == "POST":
            return self._log_batch(run, _parse(schemas.LogBatch, req))
        if rest == ["metric-history"] and m == "GET":
            points = [p for p in self.metrics[run["run_id"]] if p["key"] == q["key"]]
            points.sort(key=lambda p: (p["step"], p["timestamp"]))
            answer = self._page(req, "metrics", points)
            return httpx.Response(200, json={"key": q["key"], **orjson.loads(answer.content)})
        if rest[:1] == ["artifacts"]:
            return self._artifacts(req, run, "/".join(rest[1:]))
        return error(404, "NOT_FOUND", f"no route {req.url.path}")

    def _page(self, req: httpx.Request, field: str, items: list[Any]) -> httpx.Response:
        size = min(int(req.url.params.get("max_results", 100)), self.page_limit)
        start = int(req.url.params.get("page_token") or 0)
        nxt = str(start + size) if start + size < len(items) else None
        return httpx.Response(
            200, json={field: items[start : start + size], "next_page_token": nxt}
        )

    def _create_experiment(self, ws: str, body: schemas.ExperimentCreate) -> httpx.Response:
        if any(e["name"] == body.name for e in self.experiments.values()):
            return error(409, "ALREADY_EXISTS", f"experiment {body.name!r} exists already")
        exp_id = str(next(self._ids))
        self.experiments[exp_id] = {
            "experiment_id": exp_id,
            "workspace": ws,
            "name": body.name,
            "artifact_location": f"file:///artifacts/{exp_id}",
            "lifecycle_stage": "active",
            "created_at": _now(),
            "updated_at": _now(),
            "tags": body.tags,
        }
        return httpx.Response(201, json=self.experiments[exp_id])

    def _create_run(self, ws: str, body: schemas.RunCreate) -> httpx.Response:
        if body.experiment_id not in self.experiments:
            return error(404, "NOT_FOUND", f"experiment {body.experiment_id!r} does not exist")
        run_id = uuid.uuid4().hex
        self.runs[run_id] = {
            "run_id": run_id,
            "experiment_id": body.experiment_id,
            "workspace": ws,
            "name": body.name or f"run-{len(self.runs) + 1}",
            "status": "RUNNING",
            "start_time": _now(),
            "lifecycle_stage": "active",
            "artifact_uri": f"file:///artifacts/{run_id}",
            "parent_run_id": body.parent_run_id,
            "params": {},
            "tags": dict(body.tags),
        }
        self.metrics[run_id] = []
        return httpx.Response(201, json=self._public(self.runs[run_id]))

    def _public(self, run: dict[str, Any]) -> dict[str, Any]:
        latest: dict[str, dict[str, Any]] = {}
        for p in self.metrics[run["run_id"]]:
            best = latest.get(p["key"])
            if best is None or (p["step"], p["timestamp"]) >= (best["step"], best["timestamp"]):
                latest[p["key"]] = p
        return {**run, "metrics": latest}

    def _log_batch(self, run: dict[str, Any], body: schemas.LogBatch) -> httpx.Response:
        for key, value in body.params.items():
            if run["params"].get(key, value) != value:
                return error(409, "CONFLICT", f"param {key!r} already has another value")
        run["params"].update(body.params)
        run["tags"].update(body.tags)
        points = self.metrics[run["run_id"]]
        for m in body.metrics:
            points.append(
                {"key": m.key, "value": m.value, "timestamp": m.timestamp, "step": m.step}
            )
        if body.metrics:
            self.batch_sizes.append(len(body.metrics))
        counts = {"metrics": len(body.metrics), "params": len(body.params), "tags": len(body.tags)}
        return httpx.Response(200, json=counts)

    def _search(self, body: schemas.RunSearch) -> httpx.Response:
        runs = [self._public(r) for r in self.runs.values()]
        runs = [r for r in runs if r["experiment_id"] in body.experiment_ids]
        for clause in reversed(body.order_by):  # "metrics.`key` ASC", nulls last
            target, _, direction = clause.partition(" ")
            key = target.removeprefix("metrics.").strip("`")
            have = [r for r in runs if key in r["metrics"]]
            have.sort(key=lambda r: r["metrics"][key]["value"], reverse=direction == "DESC")
            runs = have + [r for r in runs if key not in r["metrics"]]
        size = min(body.max_results, self.page_limit)
        start = int(body.page_token or 0)
        nxt = str(start + size) if start + size < len(runs) else None
        return httpx.Response(
            200, json={"runs": runs[start : start + size], "next_page_token": nxt}
        )

    def _artifacts(self, req: httpx.Request, run: dict[str, Any], path: str) -> httpx.Response:
        run_id = run["run_id"]
        if req.method == "PUT":
            self.files[(run_id, path)] = req.content
            return httpx.Response(
                201, json={"path": path, "is_dir": False, "size": len(req.content)}
            )
        if path:
            data = self.files.get((run_id, path))
            if data is None:
                return error(404, "NOT_FOUND", f"artifact {path!r} does not exist")
            return httpx.Response(200, content=data)
        files = [
            {"path": p, "is_dir": False, "size": len(b)}
            for (r, p), b in sorted(self.files.items())
            if r == run_id
        ]
        dirs = {p.rsplit("/", 1)[0] for (r, p) in self.files if r == run_id and "/" in p}
        listing = files + [{"path": d, "is_dir": True} for d in sorted(dirs)]
        return httpx.Response(200, json={"root": run["artifact_uri"], "path": "", "files": listing})


def _parse(model: type[Any], req: httpx.Request) -> Any:
    assert req.headers.get("content-type") == "application/json"
    parsed: BaseModel = model.model_validate_json(req.content)
    return parsed


def _now() -> int:
    return time.time_ns() // 1_000_000
