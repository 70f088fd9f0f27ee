"""Named dependencies (``Annotated`` aliases) that routes take: services and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Request

from trainyard.jobs import AssetService, JobService
from trainyard.registry import RegistryService
from trainyard.schemas.auth import Principal
from trainyard.server.auth import TokenService, authorize
from trainyard.serving import ServingService
from trainyard.tracking import TrackingService


def _tracking(request: Request) -> TrackingService:
    return request.app.state.tracking  # type: ignore[no-any-return]


def _registry(request: Request) -> RegistryService:
    return request.app.state.registry  # type: ignore[no-any-return]


def _tokens(request: Request) -> TokenService:
    return request.app.state.tokens  # type: ignore[no-any-return]


TOKEN_COOKIE = "trainyard_token"
"""The HttpOnly cookie the web UI's sign-in form sets (``routers/ui.py``)."""

_SAFE_METHODS = frozenset({"GET", "HEAD"})


def _principal(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    """The caller: the ``Authorization`` header, else the UI's cookie on a read.

    The cookie only stands in for the header on GET and HEAD, so a page on another site cannot
    make a signed-in browser write anything (the cookie is also ``SameSite=Lax``). It is
    read from the request rather than declared, to keep it out of the API's OpenAPI document.
    """
    cookie = request.cookies.get(TOKEN_COOKIE)
    if authorization is None and cookie and request.method in _SAFE_METHODS:
        authorization = f"Bearer {cookie}"
    return request.app.state.tokens.authenticate(authorization)  # type: ignore[no-any-return]


Tracking = Annotated[TrackingService, Depends(_tracking)]
Tokens = Annotated[TokenService, Depends(_tokens)]
Registry = Annotated[RegistryService, Depends(_registry)]
Caller = Annotated[Principal, Depends(_principal)]
WorkspaceName = Annotated[str, Path(description="The workspace, e.g. 'default'.")]


def _reader(workspace: WorkspaceName, caller: Caller) -> str:
    authorize(caller, workspace, "reader")
    return workspace


def _contributor(workspace: WorkspaceName, caller: Caller) -> str:
    authorize(caller, workspace, "contributor")
    return workspace


def _owner(workspace: WorkspaceName, caller: Caller) -> str:
    authorize(caller, workspace, "owner")
    return workspace


ReadableWorkspace = Annotated[str, Depends(_reader)]
WritableWorkspace = Annotated[str, Depends(_contributor)]
OwnedWorkspace = Annotated[str, Depends(_owner)]


def require_global_owner(caller: Caller) -> Principal:
    """The caller, if they own every workspace (token administration)."""
    authorize(caller, "*", "owner")
    return caller


GlobalOwner = Annotated[Principal, Depends(require_global_owner)]


def _jobs(request: Request) -> JobService:
    return request.app.state.jobs  # type: ignore[no-any-return]


def _assets(request: Request) -> AssetService:
    return request.app.state.assets  # type: ignore[no-any-return]


Jobs = Annotated[JobService, Depends(_jobs)]
Assets = Annotated[AssetService, Depends(_assets)]


def _serving(request: Request) -> ServingService:
    return request.app.state.serving  # type: ignore[no-any-return]


Serving = Annotated[ServingService, Depends(_serving)]
