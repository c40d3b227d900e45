"""Who a request is and what it may do: bearer tokens, roles, permissions.

The role rules themselves (:class:`Permission`, ``ROLE_PERMISSIONS``) live in
:mod:`phased.service.policy`, shared with the dashboard and the CLI; they are
re-exported here.

Tokens are checked from memory: :class:`TokenTable` maps the SHA-256 of each
active secret to its :class:`Principal` and is reloaded when the store
revision moves (creating or revoking a token is a mutation like any other).
A request therefore costs one hash and one dict lookup, never a query.
"""

from __future__ import annotations

from dataclasses import dataclass

from phased.errors import AuthenticationError, PermissionDeniedError
from phased.service.policy import ROLE_PERMISSIONS, Permission
from phased.service.tokens import Role, hash_secret, list_tokens
from phased.store.engine import Store

__all__ = ["ROLE_PERMISSIONS", "Permission", "Principal", "TokenTable"]


@dataclass(frozen=True, slots=True)
class Principal:
    """The owner of a valid token: the audit actor of everything it changes."""

    token_id: str
    name: str
    role: Role
    environment: str | None = None

    def allows(self, permission: Permission) -> bool:
        """True when this token's role grants ``permission``."""
        return self.role in ROLE_PERMISSIONS[permission]

    def require(self, permission: Permission) -> None:
        """Raise :class:`PermissionDeniedError` naming the roles that would do."""
        if not self.allows(permission):
            roles = ", ".join(sorted(r.value for r in ROLE_PERMISSIONS[permission]))
            raise PermissionDeniedError(
                f"a {self.role.value} token may not do this ({permission.value}); "
                f"it needs one of: {roles}",
                field="token",
            )

    def environment_for(self, requested: str | None) -> str | None:
        """The environment an sdk token is bound to, refusing any other."""
        if self.environment is None:
            return requested
        if requested is not None and requested != self.environment:
            raise PermissionDeniedError(
                f"this token reads environment {self.environment!r} only (asked for "
                f"{requested!r}); use a token created with --env {requested}",
                field="env",
            )
        return self.environment


class TokenTable:
    """Active tokens by hash, held in memory and swapped whole on reload."""

    def __init__(self) -> None:
        self._by_hash: dict[str, Principal] = {}

    def __len__(self) -> int:
        return len(self._by_hash)

    def reload(self, store: Store) -> None:
        """Read every active token (called when the store revision moves)."""
        self._by_hash = {
            row.token_hash: Principal(row.id, row.name, Role(row.role), row.environment)
            for row in list_tokens(store)  # active ones only
        }

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal of an ``Authorization: Bearer <token>`` header.

        Raises:
            AuthenticationError: missing, malformed, unknown or revoked token.
        """
        if not authorization:
            raise AuthenticationError(
                "no token; send 'Authorization: Bearer <token>' (create one with "
                "`phased token create --role viewer --name NAME`)",
                field="authorization",
            )
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise AuthenticationError(
                "malformed Authorization header; send 'Bearer <token>'", field="authorization"
            )
        principal = self._by_hash.get(hash_secret(secret.strip()))
        if principal is None:
            raise AuthenticationError(
                "unknown or revoked token; ask an admin for a new one", field="authorization"
            )
        return principal
