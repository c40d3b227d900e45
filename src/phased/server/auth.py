"""Who a request is and what it may do: bearer tokens, roles, permissions.

Tokens are checked from memory: :class:`TokenTable` maps the SHA-256 of each
active secret to its :class:`Principal` and is reloaded when the store
revision moves (creating or revoking a token is a mutation like any other).
A request therefore costs one hash and one dict lookup, never a query.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from phased.errors import AuthenticationError, PermissionDeniedError
from phased.service.tokens import Role, hash_secret
from phased.store.engine import Store
from phased.store.tokens import all_tokens


class Permission(StrEnum):
    """One kind of thing a request does; each route requires exactly one."""

    READ = "read"  # flags, segments, overrides, plans, rollouts, audit, outcomes
    WRITE_FLAGS = "write_flags"  # flags, segments, overrides, percentages, flags apply
    RUN_PLANS = "run_plans"  # apply plans, advance, resume, tick checklists
    STOP = "stop"  # pause, roll back, open incidents: anyone on call may pull the brake
    APPROVE = "approve"  # approve a stage; the plan's roles and four-eyes decide further
    ADMIN = "admin"  # tokens, members, forced advances, debug traces
    SDK_READ = "sdk_read"  # the compiled flag set and its stream
    SDK_WRITE = "sdk_write"  # outcome batches

    @property
    def is_mutation(self) -> bool:
        """Mutations are rate-limited per token; reads are not."""
        return self not in (Permission.READ, Permission.SDK_READ)


_PEOPLE = frozenset({Role.ADMIN, Role.PM, Role.DEVELOPER})
ROLE_PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.READ: _PEOPLE | {Role.VIEWER},
    Permission.WRITE_FLAGS: _PEOPLE,
    Permission.RUN_PLANS: _PEOPLE,
    Permission.STOP: _PEOPLE,
    Permission.APPROVE: _PEOPLE,
    Permission.ADMIN: frozenset({Role.ADMIN}),
    Permission.SDK_READ: frozenset(Role),
    Permission.SDK_WRITE: frozenset({Role.ADMIN, Role.DEVELOPER, Role.SDK}),
}


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
        with store.read() as conn:
            rows = all_tokens(conn)
        self._by_hash = {
            row.token_hash: Principal(row.id, row.name, Role(row.role), row.environment)
            for row in rows
            if row.active
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
