"""Tokens: issuing, hashing, checking, and the bootstrap owner token.

Secrets are ``ty_`` plus 43 URL-safe characters; only their SHA-256 is stored. When auth is
required and no token exists yet, ``bootstrap_admin_token`` writes an owner token for every
workspace to ``$TRAINYARD_HOME/admin.token`` (mode 0600) and the log names the file, never the
secret.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid
from pathlib import Path

from trainyard.errors import InvalidArgument, PermissionDenied, Unauthenticated
from trainyard.schemas.auth import ROLE_RANK, Principal, Token, TokenCreated
from trainyard.store._base import TokenStore

ANONYMOUS = Principal(name="local", roles={"*": "owner"})


def hash_secret(secret: str) -> str:
    """The stored form of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenService:
    """Issue, list, revoke and check tokens."""

    def __init__(self, store: TokenStore, required: bool) -> None:
        self.store = store
        self.required = required

    def create(self, name: str, roles: dict[str, str]) -> TokenCreated:
        """A new token; the answer is the only place the secret appears."""
        for ws, role in roles.items():
            if role not in ROLE_RANK:
                raise InvalidArgument(
                    f"role {role!r} for {ws!r} must be reader, contributor or owner"
                )
        secret = "ty_" + secrets.token_urlsafe(32)
        token_id = uuid.uuid4().hex
        now = int(time.time() * 1000)
        self.store.create_token(token_id, name, hash_secret(secret), roles, now)
        return TokenCreated.model_validate(
            {
                "token_id": token_id,
                "name": name,
                "roles": roles,
                "created_at": now,
                "secret": secret,
            }
        )

    def list(self) -> list[Token]:
        """Every token (no secrets)."""
        return [Token.model_validate(t) for t in self.store.list_tokens()]

    def revoke(self, token_id: str) -> Token:
        """Revoke a token; requests with it fail from now on."""
        return Token.model_validate(self.store.revoke_token(token_id, int(time.time() * 1000)))

    def authenticate(self, authorization: str | None) -> Principal:
        """The caller behind an ``Authorization`` header (anonymous owner when auth is off)."""
        if not self.required:
            return ANONYMOUS
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthenticated(
                "this server requires a token: send 'Authorization: Bearer <token>' "
                "(set TRAINYARD_TOKEN for the SDK and CLI)"
            )
        found = self.store.find_token(hash_secret(authorization[7:].strip()))
        if found is None:
            raise Unauthenticated("the token is unknown or revoked")
        return Principal(name=str(found["name"]), roles=found["roles"])  # type: ignore[arg-type]


def authorize(principal: Principal, workspace: str, role: str) -> None:
    """Raise PermissionDenied unless ``principal`` has at least ``role`` in ``workspace``."""
    if principal.role_in(workspace) < ROLE_RANK[role]:
        raise PermissionDenied(
            f"{principal.name!r} needs the {role} role in workspace {workspace!r} for this"
        )


def bootstrap_admin_token(service: TokenService, path: Path) -> Path | None:
    """Write an owner token to ``path`` when auth is required and no token exists yet."""
    if not service.required or service.store.list_tokens():
        return None
    created = service.create("admin", {"*": "owner"})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(created.secret + "\n")
    return path
