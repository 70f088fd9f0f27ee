"""The SQL token store (only hashes of secrets are kept)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, select, update

from trainyard.errors import NotFound
from trainyard.store._base import TokenStore
from trainyard.store.sql import tables as t
from trainyard.store.sql.engine import Database


def _token_dict(row: Any) -> dict[str, object]:
    return {
        "token_id": row.token_id,
        "name": row.name,
        "roles": json.loads(row.roles),
        "created_at": row.created_at,
        "revoked_at": row.revoked_at,
    }


class SqlTokenStore(TokenStore):
    """``TokenStore`` over the same database as the tracking store."""

    db: Database

    def create_token(
        self, token_id: str, name: str, secret_hash: str, roles: dict[str, str], created_at: int
    ) -> None:
        """Insert a token row."""
        with self.db.write() as conn:
            conn.execute(
                insert(t.tokens).values(
                    token_id=token_id,
                    name=name,
                    secret_hash=secret_hash,
                    roles=json.dumps(roles),
                    created_at=created_at,
                )
            )

    def find_token(self, secret_hash: str) -> dict[str, object] | None:
        """The live token with that hash, or None."""
        with self.db.read() as conn:
            row = conn.execute(
                select(t.tokens).where(
                    t.tokens.c.secret_hash == secret_hash, t.tokens.c.revoked_at.is_(None)
                )
            ).first()
        return _token_dict(row) if row else None

    def list_tokens(self) -> list[dict[str, object]]:
        """Every token, newest first."""
        with self.db.read() as conn:
            rows = conn.execute(select(t.tokens).order_by(t.tokens.c.created_at.desc())).all()
        return [_token_dict(r) for r in rows]

    def revoke_token(self, token_id: str, revoked_at: int) -> dict[str, object]:
        """Revoke a token (idempotent)."""
        with self.db.write() as conn:
            row = conn.execute(select(t.tokens).where(t.tokens.c.token_id == token_id)).first()
            if row is None:
                raise NotFound(f"token {token_id!r} does not exist")
            if row.revoked_at is None:
                conn.execute(
                    update(t.tokens)
                    .where(t.tokens.c.token_id == token_id)
                    .values(revoked_at=revoked_at)
                )
            row = conn.execute(select(t.tokens).where(t.tokens.c.token_id == token_id)).first()
        return _token_dict(row)
