"""Data the UI's scripts fetch: chart series, a metric as CSV, a run's live log, a job's log tail.

These routes are for the web studio, not a public API: they are left out of the OpenAPI
document and may change with the pages. They authorise like the REST routes (``{workspace}``
in the path, header or the UI's cookie) and answer errors in the API's JSON shape, which the
scripts show as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from trainyard.core.downsample import minmax_indices
from trainyard.core.entities import Metric
from trainyard.errors import InvalidArgument
from trainyard.server.deps import Jobs, ReadableWorkspace, Tracking
from trainyard.server.routers import _ui_views as views
from trainyard.server.routers._ui_common import UiRoute
from trainyard.server.routers.ui_jobs import LOG_TAIL_LINES, log_tails
from trainyard.tracking import TrackingService

router = APIRouter(
    prefix="/ui/api/workspaces/{workspace}", route_class=UiRoute, include_in_schema=False
)

HISTORY_PAGE = 100_000
DEFAULT_POINTS = 1000
MAX_POINTS = 20_000
LOG_CHUNK = 256 * 1024
MAX_SERIES_RUNS = 50


def _json(body: object) -> Response:
    # orjson writes NaN as null, which Plotly draws as a gap.
    return Response(orjson.dumps(body), media_type="application/json")


def _history(tracking: TrackingService, workspace: str, run_id: str, key: str) -> list[Metric]:
    points: list[Metric] = []
    token = None
    while True:
        page = tracking.metric_history(workspace, run_id, key, HISTORY_PAGE, token)
        points.extend(page.items)
        token = page.next_page_token
        if token is None:
            return points


def _series(
    tracking: TrackingService, workspace: str, run_id: str, key: str, points: int
) -> dict[str, object]:
    history = _history(tracking, workspace, run_id, key)
    chosen = [history[i] for i in minmax_indices([m.value for m in history], points)]
    return {
        "run_id": run_id,
        "key": key,
        "total": len(history),
        "x": [m.step for m in chosen],
        "t": [m.timestamp for m in chosen],
        "y": [m.value for m in chosen],
    }


@router.get("/runs/{run_id}/metric-series")
def metric_series(
    workspace: ReadableWorkspace,
    run_id: str,
    tracking: Tracking,
    key: str,
    points: int = Query(DEFAULT_POINTS, ge=4, le=MAX_POINTS),
) -> Response:
    """A metric's history thinned to at most ``points`` points, peaks and troughs kept.

    ``{"run_id", "key", "total", "x": [step...], "t": [timestamp ms...], "y": [value...]}``;
    ``total`` is the number of points logged (the full history is the REST metric-history
    route, or ``metric-history.csv``).
    """
    return _json(_series(tracking, workspace, run_id, key, points))


@router.get("/metric-series")
def compare_series(
    workspace: ReadableWorkspace,
    tracking: Tracking,
    key: str,
    runs: list[str] = Query(default=[]),
    points: int = Query(DEFAULT_POINTS, ge=4, le=MAX_POINTS),
) -> Response:
    """The same for several runs at once (``?runs=a,b,c``): ``{"key", "series": [...]}``.

    A run that never logged ``key`` is left out of ``series``.
    """
    ids = views.split_ids(runs)
    if not ids or len(ids) > MAX_SERIES_RUNS:
        raise InvalidArgument(f"give between 1 and {MAX_SERIES_RUNS} run ids in 'runs'")
    series = []
    for run_id in ids:
        run = tracking.get_run(workspace, run_id)
        if key in run.metrics:
            one = _series(tracking, workspace, run_id, key, points)
            series.append({**one, "name": run.name})
    return _json({"key": key, "series": series})


@router.get("/runs/{run_id}/metric-history.csv")
def metric_csv(workspace: ReadableWorkspace, run_id: str, tracking: Tracking, key: str) -> Response:
    """Every point of a metric as CSV (``step,timestamp,value``), streamed page by page."""
    first = tracking.metric_history(workspace, run_id, key, HISTORY_PAGE)

    def rows() -> Iterator[bytes]:
        page = first
        yield b"step,timestamp,value\n"
        while True:
            yield "".join(f"{m.step},{m.timestamp},{m.value!r}\n" for m in page.items).encode()
            if page.next_page_token is None:
                return
            page = tracking.metric_history(
                workspace, run_id, key, HISTORY_PAGE, page.next_page_token
            )

    filename = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{run_id}-{key}") + ".csv"
    return StreamingResponse(
        rows(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/runs/{run_id}/log")
def log_tail(
    workspace: ReadableWorkspace,
    run_id: str,
    tracking: Tracking,
    offset: int = Query(0, ge=0),
) -> Response:
    """The run's log from byte ``offset`` on (at most 256 KiB), and the run's status.

    ``{"path", "offset", "size", "text", "reset", "status", "terminal"}``: poll again with the
    answer's ``offset`` until ``terminal`` is true and ``offset == size``. ``path`` is None
    while the run has no log file yet; ``reset`` says the file shrank (it was replaced) and
    ``text`` starts again from its beginning. The file is read from its start on each call
    (the artifact store has no ranged read yet), which is cheap for logs of a few MB.
    """
    run = tracking.get_run(workspace, run_id)
    path = views.find_log(tracking, workspace, run_id)
    body: dict[str, object] = {
        "path": path,
        "offset": offset,
        "size": 0,
        "text": "",
        "reset": False,
        "status": run.status.value,
        "terminal": run.status.is_terminal,
    }
    if path is not None:
        info = tracking.artifact_info(workspace, run_id, path)
        size = (info.size if info else None) or 0
        reset = size < offset
        start = 0 if reset else offset
        data = views.read_range(tracking.read_artifact(workspace, run_id, path), start, LOG_CHUNK)
        cut = views.complete_utf8(data)
        body.update(
            offset=start + cut,
            size=size,
            text=data[:cut].decode("utf-8", errors="replace"),
            reset=reset,
        )
    return _json(body)


@router.get("/jobs/{name}/log-tail")
def job_log_tail(workspace: ReadableWorkspace, name: str, jobs: Jobs) -> Response:
    """The last lines of a job's logs and its status, for the job page to refresh while live.

    ``{"stdout", "stderr", "lines", "status", "terminal"}``: each log's last ``lines`` lines,
    read with ``JobService.tail_log`` (what the REST ``/jobs/{name}/logs`` route reads with).
    """
    job = jobs.get(workspace, name)
    return _json(
        {
            **log_tails(jobs, workspace, name),
            "lines": LOG_TAIL_LINES,
            "status": job.status.value,
            "terminal": job.status.is_terminal,
        }
    )
