"""Jobs (command and sweep): submit (PUT with a name, POST for a generated one), read, list,
cancel, logs, register an output as data. A sweep is shown with its trials and best trial."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from trainyard.core.jobs import JobStatus
from trainyard.jobs.service import MAX_LOG_CHUNK
from trainyard.schemas import assets as s_assets
from trainyard.schemas.jobs import AnyJob, JobDocument, JobList
from trainyard.server.deps import Jobs, ReadableWorkspace, WritableWorkspace

router = APIRouter(prefix="/api/v1/workspaces/{workspace}/jobs", tags=["jobs"])


@router.put("/{name}", response_model=AnyJob, status_code=201)
def put_job(
    workspace: WritableWorkspace, name: str, body: JobDocument, jobs: Jobs, response: Response
) -> AnyJob:
    """Submit a job named ``name`` (201); the same document again answers 200, another 409."""
    job, created = jobs.submit(workspace, body, name)
    response.status_code = 201 if created else 200
    return job


@router.post("", response_model=AnyJob, status_code=201)
def create_job(workspace: WritableWorkspace, body: JobDocument, jobs: Jobs) -> AnyJob:
    """Submit a job; its name is generated unless the document has one."""
    return jobs.submit(workspace, body)[0]


@router.get("", response_model=JobList)
def list_jobs(
    workspace: ReadableWorkspace,
    jobs: Jobs,
    status: JobStatus | None = None,
    max_results: int = Query(100, ge=1, le=1000),
    page_token: str | None = None,
) -> JobList:
    """Jobs, newest first, optionally of one status."""
    return jobs.list(workspace, status, max_results, page_token)


@router.get("/{name}", response_model=AnyJob)
def get_job(workspace: ReadableWorkspace, name: str, jobs: Jobs) -> AnyJob:
    """The document as submitted, its status and history, its run and resolved assets; a
    sweep's trials and best trial."""
    return jobs.get(workspace, name)


@router.post("/{name}/cancel", response_model=AnyJob)
def cancel_job(workspace: WritableWorkspace, name: str, jobs: Jobs) -> AnyJob:
    """Cancel: at once when queued; a running job's process group is ended first."""
    return jobs.cancel(workspace, name)


@router.get("/{name}/logs", response_class=Response)
def read_logs(
    workspace: ReadableWorkspace,
    name: str,
    jobs: Jobs,
    stream: Annotated[str, Query(pattern="^(stdout|stderr)$")] = "stdout",
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LOG_CHUNK)] = MAX_LOG_CHUNK,
) -> Response:
    """Bytes of a log from ``offset`` (for following it: ask again from ``Trainyard-Next-Offset``).

    ``Trainyard-Log-Complete: true`` says the job ended and every byte was read.
    """
    chunk = jobs.read_log(workspace, name, stream, offset, limit)
    return Response(
        chunk.data,
        media_type="text/plain; charset=utf-8",
        headers={
            "Trainyard-Next-Offset": str(chunk.next_offset),
            "Trainyard-Log-Complete": "true" if chunk.complete else "false",
            "Trainyard-Job-Status": chunk.status.value,
        },
    )


@router.post(
    "/{name}/outputs/{output}/register",
    response_model=s_assets.DataAsset,
    status_code=201,
    tags=["data"],
)
def register_output(
    workspace: WritableWorkspace,
    name: str,
    output: str,
    body: s_assets.RegisterOutput,
    jobs: Jobs,
    response: Response,
) -> s_assets.DataAsset:
    """Register a Completed job's output folder as a ``uri_folder`` data version (201; the
    same again: 200)."""
    data, created = jobs.register_output(workspace, name, output, body)
    response.status_code = 201 if created else 200
    return data
