"""API tokens, for owners of every workspace (``ws.tokens``)."""

from __future__ import annotations

from trainyard import schemas
from trainyard.client._transport import Transport


class Tokens:
    """Issue, list and revoke tokens (``POST/GET/DELETE /api/v1/tokens``)."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def create(self, name: str, roles: dict[str, str]) -> schemas.TokenCreated:
        """A new token with ``roles`` (workspace, or ``*``, to reader/contributor/owner).

        The answer holds the secret; it is never shown again.
        """
        data = self._transport.request("POST", "/tokens", json={"name": name, "roles": roles})
        return schemas.TokenCreated.model_validate(data)

    def list(self) -> list[schemas.Token]:
        """Every token, without secrets."""
        data = self._transport.request("GET", "/tokens")
        return schemas.TokenList.model_validate(data).tokens

    def revoke(self, token_id: str) -> schemas.Token:
        """Revoke a token by id."""
        return schemas.Token.model_validate(
            self._transport.request("DELETE", f"/tokens/{token_id}")
        )
