"""The web studio's tracking pages: experiments, an experiment's runs, a run, a file, compare.

Each page reads through ``TrackingService`` and renders a template of ``trainyard/ui/templates``;
the data its scripts fetch afterwards (chart series, the live log) comes from ``ui_api.py``, and
file downloads from the REST artifact route. Every page exists for the ``default`` workspace at
``/ui/...`` and for any other at ``/ui/w/{workspace}/...`` (see ``_ui_common.page_route``).
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from trainyard.core.entities import Page, Run
from trainyard.errors import InvalidArgument, NotFound
from trainyard.server.deps import Tracking
from trainyard.server.routers import _ui_views as views
from trainyard.server.routers._ui_common import (
    HtmlPageRoute,
    UiPage,
    page_route,
    pager,
    url_path,
)

router = APIRouter(prefix="/ui", route_class=HtmlPageRoute, include_in_schema=False)

EXPERIMENTS_PER_PAGE = 50
MAX_COMPARED = 50


@page_route(router, "")
def experiments_page(
    ui: UiPage,
    tracking: Tracking,
    q: str = "",
    page_token: str | None = None,
) -> HTMLResponse:
    """Every experiment of the workspace, by name, with run counts and last activity."""
    page = tracking.list_experiments(
        ui.workspace, q.strip() or None, False, EXPERIMENTS_PER_PAGE, page_token
    )
    return ui.render(
        "experiments.html",
        nav="experiments",
        q=q,
        rows=page.items,
        **pager(page_token, EXPERIMENTS_PER_PAGE, page.next_page_token),
    )


@page_route(router, "/experiments/{experiment_id}")
def runs_page(
    ui: UiPage,
    tracking: Tracking,
    experiment_id: str,
    filter_: str = Query("", alias="filter"),
    order_by: str = "",
    max_results: int = Query(views.DEFAULT_PAGE_SIZE, ge=1, le=max(views.PAGE_SIZES)),
    cols: str = "",
    col: list[str] = Query(default=[]),
    page_token: str | None = None,
) -> HTMLResponse:
    """One page of the experiment's runs as a table: filter, sort, columns, select, page."""
    experiment = tracking.get_experiment(ui.workspace, experiment_id)
    query = views.RunsQuery(
        filter_, order_by, max_results, tuple(col) if cols else None, page_token
    )
    error = None
    page: Page[Run]
    try:
        page = tracking.search_runs(
            ui.workspace, [experiment_id], filter_, [order_by] if order_by.strip() else [],
            max_results, page_token,
        )  # fmt: skip
    except InvalidArgument as exc:
        error, page = exc.message, Page([], None)
    total = next(
        (
            n
            for e, n, _ in tracking.list_experiments(ui.workspace, experiment.name).items
            if e.experiment_id == experiment_id
        ),
        None,
    )
    return ui.render(
        "runs.html",
        status=400 if error else 200,
        nav="experiments",
        experiment=experiment,
        total=total,
        table=views.RunsTable.build(page.items, query),
        error=error,
        here=f"{ui.base}/experiments/{experiment_id}",
        **pager(None if error else page_token, max_results, page.next_page_token),
        page_sizes=views.PAGE_SIZES,
        now=int(time.time() * 1000),
        duration=views.run_duration,
    )


@page_route(router, "/runs/{run_id}")
def run_page(ui: UiPage, tracking: Tracking, run_id: str, path: str = "") -> HTMLResponse:
    """A run: details, params, tags, a chart per metric, its files and its (live) log."""
    run = tracking.get_run(ui.workspace, run_id)
    experiment = tracking.get_experiment(ui.workspace, run.experiment_id)
    log_path = views.find_log(tracking, ui.workspace, run_id)
    return ui.render(
        "run.html",
        nav="experiments",
        run=run,
        experiment=experiment,
        files=tracking.list_artifacts(ui.workspace, run_id, path),
        files_path=path.strip("/"),
        files_crumbs=views.breadcrumbs(path),
        metrics=sorted(run.metrics.values(), key=lambda m: m.key),
        log_path=log_path,
        show_log=log_path is not None or not run.status.is_terminal,
        duration=views.run_duration(run, int(time.time() * 1000)),
    )


@page_route(router, "/runs/{run_id}/files/{path:path}")
def file_page(ui: UiPage, tracking: Tracking, run_id: str, path: str) -> Response:
    """One of a run's files, shown inline when it is small text, CSV or an image."""
    run = tracking.get_run(ui.workspace, run_id)
    info = tracking.artifact_info(ui.workspace, run_id, path)
    if info is None:
        raise NotFound(f"run {run_id!r} has no file {path!r}")
    if info.is_dir:
        return RedirectResponse(
            f"{ui.base}/runs/{url_path(run_id)}?path={url_path(info.path)}#files", 303
        )
    kind = views.preview_kind(info.path)
    chunks = None if kind == "image" else tracking.read_artifact(ui.workspace, run_id, info.path)
    return ui.render(
        "file.html",
        nav="experiments",
        run=run,
        file=info,
        crumbs=views.breadcrumbs(info.path),
        preview=views.build_preview(info.path, info.size, chunks),
        download=f"{ui.api}/runs/{url_path(run_id)}/artifacts/{url_path(info.path)}",
    )


@page_route(router, "/compare")
def compare_page(
    ui: UiPage, tracking: Tracking, runs: list[str] = Query(default=[])
) -> HTMLResponse:
    """Runs side by side: a chart per metric, parallel coordinates, the params that differ."""
    ids = views.split_ids(runs)
    if not ids:
        raise InvalidArgument("choose runs to compare: /ui/compare?runs=<run id>,<run id>,...")
    if len(ids) > MAX_COMPARED:
        raise InvalidArgument(f"{len(ids)} runs chosen; compare at most {MAX_COMPARED} at once")
    chosen = [tracking.get_run(ui.workspace, i) for i in ids]
    metric_keys = sorted({k for r in chosen for k in r.metrics})
    experiments = {
        e: tracking.get_experiment(ui.workspace, e) for e in {r.experiment_id for r in chosen}
    }
    return ui.render(
        "compare.html",
        nav="experiments",
        runs=chosen,
        experiments=experiments,
        metric_keys=metric_keys,
        differing=views.differing_params(chosen),
        data=views.compare_data(chosen),
    )
