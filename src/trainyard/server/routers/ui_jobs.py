"""The web studio's job pages: the jobs of a workspace, and a job (command or sweep).

Both read through ``JobService`` (``app.state.jobs``), as the REST jobs router does. The job page
shows the document as submitted beside what it resolved to, its run, a sweep's trials, and the
tail of its log (``JobService.tail_log``, the route REST's ``/logs`` reads with); while the job
is live, ``job.js`` refreshes that tail from ``ui_api.py``'s ``/jobs/{name}/log-tail``.
"""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from trainyard.core.jobs import JobStatus
from trainyard.jobs.service import JobService, LogChunk
from trainyard.schemas.jobs import Job, SweepJob
from trainyard.server.deps import Jobs
from trainyard.server.routers._ui_common import HtmlPageRoute, UiPage, page_route, pager

router = APIRouter(prefix="/ui", route_class=HtmlPageRoute, include_in_schema=False)

JOBS_PER_PAGE = 50
LOG_TAIL_LINES = 200
LOG_TAIL_BYTES = 64 * 1024
"""The tail is the last 200 lines of at most the last 64 KiB of the log."""


def job_times(job: Job | SweepJob, now: int) -> tuple[int | None, int | None, int | None]:
    """``(started, ended, duration)`` in UTC ms from the status history (None when unknown).

    A job starts when it becomes Running; a live job's duration runs until ``now``.
    """
    started = next((h.time for h in job.status_history if h.status == JobStatus.RUNNING), None)
    ended = next((h.time for h in job.status_history if h.status.is_terminal), None)
    if started is None:
        return None, ended, None
    return started, ended, (ended if ended is not None else now) - started


def tail_text(chunk: LogChunk, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log tail (a first line cut in the middle is dropped)."""
    text = chunk.data.decode("utf-8", errors="replace")
    parts = text.splitlines(keepends=True)
    if chunk.offset > 0 and parts:
        parts = parts[1:]
    return "".join(parts[-lines:])


def log_tails(jobs: JobService, workspace: str, name: str) -> dict[str, str]:
    """``{"stdout": text, "stderr": text}``: the tail of each of the job's logs."""
    return {
        stream: tail_text(jobs.tail_log(workspace, name, stream, LOG_TAIL_BYTES))
        for stream in ("stdout", "stderr")
    }


def job_kind(job: Job | SweepJob) -> str:
    """``command`` or ``sweep``."""
    return "sweep" if isinstance(job, SweepJob) else "command"


@page_route(router, "/jobs")
def jobs_page(ui: UiPage, jobs: Jobs, page_token: str | None = None) -> HTMLResponse:
    """The workspace's jobs, newest first, a page at a time."""
    page = jobs.list(ui.workspace, None, JOBS_PER_PAGE, page_token)
    now = int(time.time() * 1000)
    return ui.render(
        "jobs.html",
        nav="jobs",
        rows=[(j, job_kind(j), job_times(j, now)[2]) for j in page.jobs],
        **pager(page_token, JOBS_PER_PAGE, page.next_page_token),
    )


@page_route(router, "/jobs/{name}")
def job_page(ui: UiPage, jobs: Jobs, name: str) -> HTMLResponse:
    """A job: command, environment, code, compute, inputs and outputs as resolved, status and
    error, its run, a sweep's trials, and the tail of its log."""
    job = jobs.get(ui.workspace, name)
    started, ended, duration = job_times(job, int(time.time() * 1000))
    sweep = job if isinstance(job, SweepJob) else None
    return ui.render(
        "job.html",
        nav="jobs",
        job=job,
        kind=job_kind(job),
        sweep=sweep,
        command=sweep.trial.command if sweep else getattr(job, "command", ""),
        environment=sweep.trial.environment if sweep else getattr(job, "environment", ""),
        code=sweep.trial.code if sweep else getattr(job, "code", None),
        started=started,
        ended=ended,
        duration=duration,
        logs=log_tails(jobs, ui.workspace, name),
        tail_lines=LOG_TAIL_LINES,
    )
