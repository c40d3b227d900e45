"""The ``tokens`` area over the HTTP API (:mod:`phased.service.tokens`); admin tokens only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from phased.backend.http_areas import RemoteStore, when
from phased.service.tokens import NewToken
from phased.store.tokens import TokenRow


def token_of(data: dict[str, Any]) -> TokenRow:
    """A ``TokenPublic`` document as a :class:`TokenRow`.

    The server never sends a token's hash, so ``token_hash`` is empty: a row
    read over the API can be listed, not checked against a secret.
    """
    return TokenRow(
        id=data["id"],
        name=data["name"],
        role=data["role"],
        environment=data.get("environment"),
        token_hash="",
        prefix=data["prefix"],
        created_by=data["created_by"],
        created_at=datetime.fromisoformat(data["created_at"]),
        revoked_at=when(data.get("revoked_at")),
    )


class HttpTokens:
    """The ``tokens`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

    def create_token(
        self, *, actor: str | None, name: str, role: str, environment: str | None = None
    ) -> NewToken:
        """Create a token on the server; its secret comes back once."""
        del actor
        body = {"name": name, "role": role, "environment": environment}
        data = self.http.request("POST", "/tokens", json=body)
        return NewToken(token_of(data["token"]), data["secret"])

    def list_tokens(self, *, include_revoked: bool = False) -> list[TokenRow]:
        """Tokens, oldest first."""
        rows = self.http.request("GET", "/tokens", params={"include_revoked": include_revoked})
        return [token_of(row) for row in rows]

    def revoke_token(self, *, actor: str | None, token_id: str) -> TokenRow:
        """Revoke a token at once."""
        del actor
        return token_of(self.http.request("DELETE", f"/tokens/{token_id}"))
