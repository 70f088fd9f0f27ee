"""Named dependencies (``Annotated`` aliases) that routes take: services and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Request

from trainyard.schemas.auth import Principal
from trainyard.server.auth import TokenService, authorize
from trainyard.tracking import TrackingService


def _tracking(request: Request) -> TrackingService:
    return request.app.state.tracking  # type: ignore[no-any-return]


def _tokens(request: Request) -> TokenService:
    return request.app.state.tokens  # type: ignore[no-any-return]


def _principal(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    return request.app.state.tokens.authenticate(authorization)  # type: ignore[no-any-return]


Tracking = Annotated[TrackingService, Depends(_tracking)]
Tokens = Annotated[TokenService, Depends(_tokens)]
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
