"""Health, identity, workspaces and tokens."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from trainyard.schemas.auth import Principal, Token, TokenCreate, TokenCreated, TokenList
from trainyard.server.deps import Caller, GlobalOwner, Tokens, Tracking

router = APIRouter(prefix="/api/v1")


class Health(BaseModel):
    """Liveness answer."""

    status: str
    version: str


class WorkspaceOut(BaseModel):
    """A workspace."""

    name: str
    created_at: int


class WorkspaceList(BaseModel):
    """Every workspace."""

    workspaces: list[WorkspaceOut]


@router.get("/health", response_model=Health, tags=["system"])
def health() -> Health:
    """The server is up."""
    from trainyard._version import __version__

    return Health(status="ok", version=__version__)


@router.get("/whoami", response_model=Principal, tags=["system"])
def whoami(caller: Caller) -> Principal:
    """Who the token belongs to and its roles."""
    return caller


@router.get("/workspaces", response_model=WorkspaceList, tags=["workspaces"])
def list_workspaces(tracking: Tracking, caller: Caller) -> WorkspaceList:
    """The workspaces the caller can read."""
    return WorkspaceList(
        workspaces=[
            WorkspaceOut(name=w.name, created_at=w.created_at)
            for w in tracking.list_workspaces()
            if caller.role_in(w.name) > 0
        ]
    )


@router.put("/workspaces/{name}", response_model=WorkspaceOut, tags=["workspaces"])
def put_workspace(name: str, tracking: Tracking, _: GlobalOwner) -> WorkspaceOut:
    """Create a workspace (idempotent)."""
    w = tracking.ensure_workspace(name)
    return WorkspaceOut(name=w.name, created_at=w.created_at)


@router.post("/tokens", response_model=TokenCreated, status_code=201, tags=["tokens"])
def create_token(body: TokenCreate, tokens: Tokens, _: GlobalOwner) -> TokenCreated:
    """Issue a token; the secret is in this answer only."""
    return tokens.create(body.name, dict(body.roles))


@router.get("/tokens", response_model=TokenList, tags=["tokens"])
def list_tokens(tokens: Tokens, _: GlobalOwner) -> TokenList:
    """Every token, without secrets."""
    return TokenList(tokens=tokens.list())


@router.delete("/tokens/{token_id}", response_model=Token, tags=["tokens"])
def revoke_token(token_id: str, tokens: Tokens, _: GlobalOwner) -> Token:
    """Revoke a token."""
    return tokens.revoke(token_id)
