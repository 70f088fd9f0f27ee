"""Run artifacts: streamed upload, listing and streamed download."""

from __future__ import annotations

import mimetypes

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from trainyard.errors import NotFound
from trainyard.schemas import ArtifactFile, ArtifactList
from trainyard.server.deps import ReadableWorkspace, Tracking, WritableWorkspace

router = APIRouter(
    prefix="/api/v1/workspaces/{workspace}/runs/{run_id}/artifacts", tags=["artifacts"]
)


@router.put("/{path:path}", response_model=ArtifactFile, status_code=201)
async def upload_artifact(
    workspace: WritableWorkspace, run_id: str, path: str, request: Request, tracking: Tracking
) -> ArtifactFile:
    """Store the request body at ``path`` (streamed: any size; replaces an existing file)."""
    writer = await to_thread.run_sync(tracking.artifact_writer, workspace, run_id, path)
    size = 0
    with writer as f:
        async for chunk in request.stream():
            if chunk:
                size += len(chunk)
                await to_thread.run_sync(f.write, chunk)
    return ArtifactFile(path=path.strip("/"), is_dir=False, size=size)


@router.get("", response_model=ArtifactList)
def list_artifacts(
    workspace: ReadableWorkspace,
    run_id: str,
    tracking: Tracking,
    path: str = "",
    recursive: bool = False,
) -> ArtifactList:
    """Entries below ``path`` (all files below it with ``recursive=true``)."""
    run = tracking.get_run(workspace, run_id)
    files = tracking.list_artifacts(workspace, run_id, path, recursive)
    return ArtifactList(
        root=run.artifact_uri,
        path=path,
        files=[ArtifactFile.model_validate(f) for f in files],
    )


@router.get("/{path:path}", response_class=StreamingResponse)
def download_artifact(
    workspace: ReadableWorkspace, run_id: str, path: str, tracking: Tracking
) -> StreamingResponse:
    """The file's bytes, streamed."""
    info = tracking.artifact_info(workspace, run_id, path)
    if info is None:
        raise NotFound(f"run {run_id!r} has no file {path!r}")
    chunks = tracking.read_artifact(workspace, run_id, path)
    media = mimetypes.guess_type(path)[0] or "application/octet-stream"
    headers = {"Content-Disposition": f'attachment; filename="{path.rsplit("/", 1)[-1]}"'}
    if info.size is not None:
        headers["Content-Length"] = str(info.size)
    return StreamingResponse(chunks, media_type=media, headers=headers)
