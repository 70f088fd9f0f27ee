"""The model registry: registered models, versions (uploaded or from a run), aliases, files."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from trainyard.core.model_ref import ModelRef
from trainyard.core.registry import ModelVersion as ModelVersionEntity
from trainyard.schemas.models import (
    AliasSet,
    ModelCreate,
    ModelUpdate,
    ModelVersion,
    ModelVersionFromRun,
    ModelVersionList,
    RegisteredModel,
    RegisteredModelList,
)
from trainyard.server.deps import ReadableWorkspace, Registry, WritableWorkspace

router = APIRouter(prefix="/api/v1/workspaces/{workspace}", tags=["models"])

MaxResults = Annotated[int, Query(ge=1, le=1000)]


def _out(v: ModelVersionEntity) -> ModelVersion:
    out = ModelVersion.model_validate(v)
    out.has_native = v.native_key is not None
    return out


@router.post("/models", response_model=RegisteredModel, status_code=201)
def create_model(
    workspace: WritableWorkspace, body: ModelCreate, registry: Registry
) -> RegisteredModel:
    """Create a registered model (409 if the name is taken)."""
    m = registry.create_model(workspace, body.name, body.description, body.tags)
    return RegisteredModel.model_validate(m)


@router.get("/models", response_model=RegisteredModelList)
def list_models(
    workspace: ReadableWorkspace,
    registry: Registry,
    name_contains: str | None = None,
    max_results: MaxResults = 100,
    page_token: str | None = None,
) -> RegisteredModelList:
    """Registered models by name, with their aliases and latest version."""
    page = registry.list_models(workspace, name_contains, max_results, page_token)
    return RegisteredModelList(
        models=[RegisteredModel.model_validate(m) for m in page.items],
        next_page_token=page.next_page_token,
    )


@router.get("/models/{name}", response_model=RegisteredModel)
def get_model(workspace: ReadableWorkspace, name: str, registry: Registry) -> RegisteredModel:
    """One registered model."""
    return RegisteredModel.model_validate(registry.get_model(workspace, name))


@router.patch("/models/{name}", response_model=RegisteredModel)
def update_model(
    workspace: WritableWorkspace, name: str, body: ModelUpdate, registry: Registry
) -> RegisteredModel:
    """Set the description and/or tags."""
    m = registry.update_model(workspace, name, body.description, body.tags)
    return RegisteredModel.model_validate(m)


@router.delete("/models/{name}", status_code=204)
def delete_model(workspace: WritableWorkspace, name: str, registry: Registry) -> None:
    """Delete the model with every version, alias and file."""
    registry.delete_model(workspace, name)


@router.get("/models/{name}/versions", response_model=ModelVersionList)
def list_versions(
    workspace: ReadableWorkspace,
    name: str,
    registry: Registry,
    max_results: MaxResults = 100,
    page_token: str | None = None,
) -> ModelVersionList:
    """A model's versions, newest first."""
    page = registry.list_versions(workspace, name, max_results, page_token)
    return ModelVersionList(
        versions=[_out(v) for v in page.items], next_page_token=page.next_page_token
    )


@router.post("/models/{name}/versions", response_model=ModelVersion, status_code=201)
def create_version_from_run(
    workspace: WritableWorkspace, name: str, body: ModelVersionFromRun, registry: Registry
) -> ModelVersion:
    """Register the ONNX file a run logged (checked here; 409 if its parity check failed)."""
    v = registry.register_from_run(
        workspace,
        name,
        body.run_id,
        body.artifact_path,
        native_artifact_path=body.native_artifact_path,
        parity=None if body.parity is None else body.parity.model_dump(),
        force=body.force,
        description=body.description,
        tags=body.tags,
        failure=body.failure,
    )
    return _out(v)


@router.put("/models/{name}/versions/{version}", response_model=ModelVersion, status_code=201)
async def upload_version(
    workspace: WritableWorkspace,
    name: str,
    version: int,
    request: Request,
    response: Response,
    registry: Registry,
    description: str = "",
) -> ModelVersion:
    """Store the body (raw ONNX bytes, streamed) as version ``version``, the next number.

    The file must pass the ONNX checker and load in ONNX Runtime (400 otherwise, nothing kept).
    Repeating the same upload answers 200 with the version; other bytes for an existing version
    are a 409.
    """
    await to_thread.run_sync(registry.get_model, workspace, name)  # 404 before the body
    with tempfile.TemporaryDirectory(prefix="trainyard-upload-") as tmp:
        path = Path(tmp) / "upload.onnx"
        f = await to_thread.run_sync(path.open, "wb")
        try:
            async for chunk in request.stream():
                if chunk:
                    await to_thread.run_sync(f.write, chunk)
        finally:
            await to_thread.run_sync(f.close)
        v, created = await to_thread.run_sync(
            lambda: registry.register_upload(workspace, name, path, version, description)
        )
    if not created:
        response.status_code = 200
    return _out(v)


@router.get("/models/{name}/versions/{version}", response_model=ModelVersion)
def get_version(
    workspace: ReadableWorkspace, name: str, version: int, registry: Registry
) -> ModelVersion:
    """One version."""
    return _out(registry.get_version(workspace, name, version))


@router.delete("/models/{name}/versions/{version}", status_code=204)
def delete_version(
    workspace: WritableWorkspace, name: str, version: int, registry: Registry
) -> None:
    """Delete a version, the aliases on it and its files."""
    registry.delete_version(workspace, name, version)


@router.get("/models/{name}/versions/{version}/download", response_class=StreamingResponse)
def download_version(
    workspace: ReadableWorkspace, name: str, version: int, registry: Registry, native: bool = False
) -> StreamingResponse:
    """The version's ONNX file (or, with ``native=true``, the native model kept beside it)."""
    return _download(registry, workspace, f"{name}:{version}", native)


@router.get("/models/{name}/aliases/{alias}", response_model=ModelVersion)
def get_alias(
    workspace: ReadableWorkspace, name: str, alias: str, registry: Registry
) -> ModelVersion:
    """The version an alias points at."""
    return _out(registry.resolve(workspace, ModelRef(name=name, alias=alias)))


@router.put("/models/{name}/aliases/{alias}", response_model=ModelVersion)
def set_alias(
    workspace: WritableWorkspace, name: str, alias: str, body: AliasSet, registry: Registry
) -> ModelVersion:
    """Point the alias at a version, moving it atomically if it pointed elsewhere."""
    return _out(registry.set_alias(workspace, name, alias, body.version))


@router.delete("/models/{name}/aliases/{alias}", status_code=204)
def delete_alias(workspace: WritableWorkspace, name: str, alias: str, registry: Registry) -> None:
    """Remove an alias."""
    registry.delete_alias(workspace, name, alias)


@router.get("/model-versions/{ref}", response_model=ModelVersion)
def resolve(workspace: ReadableWorkspace, ref: str, registry: Registry) -> ModelVersion:
    """The version a reference names: a model id, ``name:3``, ``name@alias`` or ``name``."""
    return _out(registry.resolve(workspace, ref))


@router.get("/model-versions/{ref}/download", response_class=StreamingResponse)
def download_ref(
    workspace: ReadableWorkspace, ref: str, registry: Registry, native: bool = False
) -> StreamingResponse:
    """The ONNX file (or native file) of the version a reference names."""
    return _download(registry, workspace, ref, native)


def _download(registry: Registry, workspace: str, ref: str, native: bool) -> StreamingResponse:
    v, chunks, size, file = registry.open_file(workspace, ref, native)
    filename = file if native else f"{v.name}-v{v.version}.onnx"
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Trainyard-Model-Id": v.model_id,
    }
    if size is not None:
        headers["Content-Length"] = str(size)
    return StreamingResponse(chunks, media_type="application/octet-stream", headers=headers)
