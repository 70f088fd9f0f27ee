"""MLflow's artifact proxy (``/api/2.0/mlflow-artifacts/artifacts``) on Trainyard's artifact store.

The client turns ``mlflow-artifacts:/<key>`` into ``.../mlflow-artifacts/artifacts/<key>``; our
keys are ``<experiment>/<run_id>/artifacts/<file>`` for runs and
``<experiment>/models/<model_id>/artifacts/<file>`` for logged models. A path is served only
when it lies under a run's or a logged model's artifact root in the caller's workspace, and then
through the same service calls (and path checks) as the native artifact routes, so a file logged
with ``mlflow.log_artifact`` is listed by ``GET /api/v1/.../runs/{id}/artifacts`` and the other
way round.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import IO

from anyio import to_thread
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from trainyard.core.entities import ArtifactInfo
from trainyard.errors import InvalidArgument, NotFound
from trainyard.server.deps import Tracking
from trainyard.server.mlflow._deps import LoggedModels, ReadWorkspace, WriteWorkspace
from trainyard.server.mlflow._errors import MlflowRoute
from trainyard.server.mlflow._wire import answer
from trainyard.store.artifacts.paths import safe_key
from trainyard.tracking import LoggedModelService, TrackingService

router = APIRouter(route_class=MlflowRoute)

_RUN_ID = re.compile(r"[0-9a-f]{32}")
_MODEL_ID = re.compile(r"m-[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class Target:
    """The run's or logged model's files a proxy path points into."""

    workspace: str
    owner_id: str
    rel: str
    tracking: TrackingService | None
    models: LoggedModelService | None

    def info(self) -> ArtifactInfo | None:
        if self.tracking is not None:
            return self.tracking.artifact_info(self.workspace, self.owner_id, self.rel)
        assert self.models is not None
        return self.models.artifact_info(self.workspace, self.owner_id, self.rel)

    def writer(self) -> AbstractContextManager[IO[bytes]]:
        if self.tracking is not None:
            return self.tracking.artifact_writer(self.workspace, self.owner_id, self.rel)
        assert self.models is not None
        return self.models.artifact_writer(self.workspace, self.owner_id, self.rel)

    def read(self) -> Iterator[bytes]:
        if self.tracking is not None:
            return self.tracking.read_artifact(self.workspace, self.owner_id, self.rel)
        assert self.models is not None
        return self.models.read_artifact(self.workspace, self.owner_id, self.rel)

    def children(self) -> list[ArtifactInfo]:
        """Entries directly below, with names relative to the listed folder."""
        if self.tracking is not None:
            found = self.tracking.list_artifacts(self.workspace, self.owner_id, self.rel)
            cut = len(self.rel) + 1 if self.rel else 0
            return [ArtifactInfo(e.path[cut:], e.is_dir, e.size) for e in found]
        assert self.models is not None
        return self.models.list_artifacts(self.workspace, self.owner_id, self.rel)


def locate(
    workspace: str, path: str, tracking: TrackingService, models: LoggedModelService
) -> Target | None:
    """The run or logged model whose artifact root holds ``path``, or None if none does."""
    key = safe_key(path, allow_empty=True)
    parts = key.split("/") if key else []
    for i in range(len(parts) - 1):
        if parts[i + 1] != "artifacts":
            continue
        root, rel = "/".join(parts[: i + 2]), "/".join(parts[i + 2 :])
        if _RUN_ID.fullmatch(parts[i]):
            run = tracking.get_run(workspace, parts[i])
            if run.artifact_uri.strip("/") != root:
                raise NotFound(f"run {parts[i]!r} keeps its artifacts elsewhere, not at {root!r}")
            return Target(workspace, parts[i], rel, tracking, None)
        if _MODEL_ID.fullmatch(parts[i]) and i > 0 and parts[i - 1] == "models":
            model = models.get(workspace, parts[i])
            if model.artifact_location.strip("/") != root:
                raise NotFound(f"logged model {parts[i]!r} keeps its files elsewhere")
            return Target(workspace, parts[i], rel, None, models)
    return None


@router.put("/artifacts/{path:path}")
async def upload(
    workspace: WriteWorkspace,
    path: str,
    request: Request,
    tracking: Tracking,
    models: LoggedModels,
) -> Response:
    """Store the body at ``path`` (streamed; replaces an existing file)."""
    target = await to_thread.run_sync(locate, workspace, path, tracking, models)
    if target is None or not target.rel:
        raise InvalidArgument(
            f"Invalid path {path!r}: files go under a run's or a logged model's artifact root"
        )
    writer = await to_thread.run_sync(target.writer)
    with writer as f:
        async for chunk in request.stream():
            if chunk:
                await to_thread.run_sync(f.write, chunk)
    return answer()


@router.get("/artifacts")
def list_artifacts(
    workspace: ReadWorkspace, tracking: Tracking, models: LoggedModels, path: str = ""
) -> Response:
    """Entries directly below ``path`` (``{}`` for a file or a missing folder)."""
    target = locate(workspace, path, tracking, models)
    if target is None:
        return answer()
    info = target.info()
    if info is None or not info.is_dir:
        return answer()
    files = []
    for e in target.children():
        entry: dict[str, object] = {"path": e.path, "is_dir": e.is_dir}
        if not e.is_dir and e.size is not None:
            entry["file_size"] = e.size
        files.append(entry)
    return answer({"files": files} if files else None)


@router.get("/artifacts/{path:path}")
def download(
    workspace: ReadWorkspace, path: str, tracking: Tracking, models: LoggedModels
) -> StreamingResponse:
    """The file's bytes, streamed (RESOURCE_DOES_NOT_EXIST if absent, 400 for a folder)."""
    target = locate(workspace, path, tracking, models)
    info = target.info() if target is not None else None
    if target is None or info is None:
        raise NotFound(f"File {path!r} does not exist")
    if info.is_dir:
        raise InvalidArgument(f"Artifact path {path!r} refers to a directory; list it instead")
    headers = {}
    if info.size is not None:
        headers["Content-Length"] = str(info.size)
    media = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return StreamingResponse(target.read(), media_type=media, headers=headers)
