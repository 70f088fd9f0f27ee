"""Tokens and principals."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["reader", "contributor", "owner"]
ROLE_RANK: dict[str, int] = {"reader": 1, "contributor": 2, "owner": 3}


class TokenCreate(BaseModel):
    """Body of ``POST /api/v1/tokens``: a name and the role per workspace (``*`` for all)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    roles: dict[str, Role] = Field(min_length=1)


class Token(BaseModel):
    """A token as listed: never the secret."""

    model_config = ConfigDict(from_attributes=True)
    token_id: str
    name: str
    roles: dict[str, Role]
    created_at: int
    revoked_at: int | None = None


class TokenCreated(Token):
    """The answer to a create: the only time the secret is shown."""

    secret: str


class TokenList(BaseModel):
    """Every token, revoked ones included."""

    tokens: list[Token]


class Principal(BaseModel):
    """Who is calling, and what they may do where."""

    name: str
    roles: dict[str, Role]

    def role_in(self, workspace: str) -> int:
        """The rank of the caller's role in ``workspace`` (0 for none)."""
        role = self.roles.get(workspace) or self.roles.get("*")
        return ROLE_RANK.get(role, 0) if role else 0
