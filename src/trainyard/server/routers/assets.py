"""Environments, data and code assets (versioned; files uploaded before registration), computes,
datastores."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from typing import IO

from anyio import to_thread
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from trainyard.core.jobs import AssetKind
from trainyard.schemas import assets as s
from trainyard.server.deps import Assets, ReadableWorkspace, WritableWorkspace

router = APIRouter(prefix="/api/v1/workspaces/{workspace}")


def _version(version: str) -> str | None:
    return None if version == "latest" else version


# ---------------------------------------------------------------- environments
@router.put(
    "/environments/{name}/versions/{version}",
    response_model=s.Environment,
    status_code=201,
    tags=["environments"],
)
def put_environment(
    workspace: WritableWorkspace,
    name: str,
    version: str,
    body: s.EnvironmentCreate,
    assets: Assets,
    response: Response,
) -> s.Environment:
    """Register an environment version (201), or update its description and tags (200)."""
    env, created = assets.put_environment(workspace, name, version, body)
    response.status_code = 201 if created else 200
    return env


@router.get("/environments", response_model=s.EnvironmentList, tags=["environments"])
def list_environments(workspace: ReadableWorkspace, assets: Assets) -> s.EnvironmentList:
    """The built-in ``python`` environment and every registered version."""
    return s.EnvironmentList(environments=assets.list_environments(workspace))


@router.get(
    "/environments/{name}/versions/{version}", response_model=s.Environment, tags=["environments"]
)
def get_environment(
    workspace: ReadableWorkspace, name: str, version: str, assets: Assets
) -> s.Environment:
    """One version (``latest``: the newest)."""
    return assets.get_environment(workspace, name, _version(version))


# ---------------------------------------------------------------- data and code
async def _upload(
    assets: Assets,
    workspace: str,
    kind: AssetKind,
    name: str,
    version: str,
    path: str,
    req: Request,
) -> s.UploadedFile:
    cm = assets.upload(workspace, kind, name, version, path)
    writer = await to_thread.run_sync(cm.__enter__)
    try:
        async for chunk in req.stream():
            if chunk:
                await to_thread.run_sync(writer.write, chunk)
    except BaseException as exc:
        await to_thread.run_sync(cm.__exit__, type(exc), exc, exc.__traceback__)
        raise
    await to_thread.run_sync(cm.__exit__, None, None, None)
    return s.UploadedFile(path=path.strip("/"), size=writer.size, sha256=writer.sha.hexdigest())


@router.put(
    "/data/{name}/versions/{version}/files/{path:path}",
    response_model=s.UploadedFile,
    status_code=201,
    tags=["data"],
)
async def upload_data_file(
    workspace: WritableWorkspace,
    name: str,
    version: str,
    path: str,
    request: Request,
    assets: Assets,
) -> s.UploadedFile:
    """Upload a file of a data version not registered yet (streamed)."""
    return await _upload(assets, workspace, AssetKind.DATA, name, version, path, request)


@router.put(
    "/data/{name}/versions/{version}", response_model=s.DataAsset, status_code=201, tags=["data"]
)
def put_data(
    workspace: WritableWorkspace,
    name: str,
    version: str,
    body: s.DataAssetCreate,
    assets: Assets,
    response: Response,
) -> s.DataAsset:
    """Register a data version: an http(s) ``path``, or the files uploaded to it."""
    data, created = assets.put_data(workspace, name, version, body)
    response.status_code = 201 if created else 200
    return data


@router.get("/data", response_model=s.DataAssetList, tags=["data"])
def list_data(workspace: ReadableWorkspace, assets: Assets) -> s.DataAssetList:
    """Every data asset version."""
    return s.DataAssetList(data=assets.list_data(workspace))


@router.get("/data/{name}/versions/{version}", response_model=s.DataAsset, tags=["data"])
def get_data(workspace: ReadableWorkspace, name: str, version: str, assets: Assets) -> s.DataAsset:
    """One version (``latest``: the newest)."""
    return assets.get_data(workspace, name, _version(version))


@router.get("/data/{name}/versions/{version}/files", response_model=s.DataFileList, tags=["data"])
def list_data_files(
    workspace: ReadableWorkspace, name: str, version: str, assets: Assets
) -> s.DataFileList:
    """The files of a data version (uploaded, a job's output, or in a datastore)."""
    return s.DataFileList(files=assets.data_files(workspace, name, _version(version)))


def _chunks(f: IO[bytes]) -> Iterator[bytes]:
    with f:
        while chunk := f.read(1 << 20):
            yield chunk


@router.get(
    "/data/{name}/versions/{version}/files/{path:path}",
    response_class=StreamingResponse,
    tags=["data"],
)
def download_data_file(
    workspace: ReadableWorkspace, name: str, version: str, path: str, assets: Assets
) -> StreamingResponse:
    """One file of a data version, streamed."""
    f, size = assets.open_data_file(workspace, name, _version(version), path)
    headers = {"Content-Disposition": f'attachment; filename="{path.rsplit("/", 1)[-1]}"'}
    if size is not None:
        headers["Content-Length"] = str(size)
    media = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return StreamingResponse(_chunks(f), media_type=media, headers=headers)


@router.put(
    "/code/{name}/versions/{version}/files/{path:path}",
    response_model=s.UploadedFile,
    status_code=201,
    tags=["code"],
)
async def upload_code_file(
    workspace: WritableWorkspace,
    name: str,
    version: str,
    path: str,
    request: Request,
    assets: Assets,
) -> s.UploadedFile:
    """Upload a file of a code version not registered yet (streamed)."""
    return await _upload(assets, workspace, AssetKind.CODE, name, version, path, request)


@router.put(
    "/code/{name}/versions/{version}", response_model=s.CodeAsset, status_code=201, tags=["code"]
)
def put_code(
    workspace: WritableWorkspace,
    name: str,
    version: str,
    body: s.CodeAssetCreate,
    assets: Assets,
    response: Response,
) -> s.CodeAsset:
    """Register the files uploaded to a code version (content-hashed)."""
    code, created = assets.put_code(workspace, name, version, body)
    response.status_code = 201 if created else 200
    return code


@router.get("/code", response_model=s.CodeAssetList, tags=["code"])
def list_code(workspace: ReadableWorkspace, assets: Assets) -> s.CodeAssetList:
    """Every code version."""
    return s.CodeAssetList(code=assets.list_code(workspace))


@router.get("/code/{name}/versions/{version}", response_model=s.CodeAsset, tags=["code"])
def get_code(workspace: ReadableWorkspace, name: str, version: str, assets: Assets) -> s.CodeAsset:
    """One version (``latest``: the newest)."""
    return assets.get_code(workspace, name, _version(version))


# ---------------------------------------------------------------- computes
@router.get("/computes", response_model=s.ComputeList, tags=["computes"])
def list_computes(workspace: ReadableWorkspace, assets: Assets) -> s.ComputeList:
    """The computes (``local`` is always there)."""
    return s.ComputeList(computes=assets.list_computes(workspace))


@router.get("/computes/{name}", response_model=s.Compute, tags=["computes"])
def get_compute(workspace: ReadableWorkspace, name: str, assets: Assets) -> s.Compute:
    """One compute."""
    return s.Compute.model_validate(assets.get_compute(workspace, name))


@router.put("/computes/{name}", response_model=s.Compute, tags=["computes"])
def put_compute(
    workspace: WritableWorkspace, name: str, body: s.ComputeCreate, assets: Assets
) -> s.Compute:
    """Create or replace a compute (``ray`` needs its dashboard address)."""
    return assets.put_compute(workspace, name, body)


# ---------------------------------------------------------------- datastores
@router.get("/datastores", response_model=s.DatastoreList, tags=["datastores"])
def list_datastores(workspace: ReadableWorkspace, assets: Assets) -> s.DatastoreList:
    """The datastores (``default``, the artifact store, is always there)."""
    return s.DatastoreList(datastores=assets.list_datastores(workspace))


@router.get("/datastores/{name}", response_model=s.Datastore, tags=["datastores"])
def get_datastore(workspace: ReadableWorkspace, name: str, assets: Assets) -> s.Datastore:
    """One datastore."""
    return assets.get_datastore(workspace, name)


@router.put("/datastores/{name}", response_model=s.Datastore, status_code=201, tags=["datastores"])
def put_datastore(
    workspace: WritableWorkspace,
    name: str,
    body: s.DatastoreCreate,
    assets: Assets,
    response: Response,
) -> s.Datastore:
    """Register a datastore (201) or replace its URL, description and tags (200)."""
    found, created = assets.put_datastore(workspace, name, body)
    response.status_code = 201 if created else 200
    return found
