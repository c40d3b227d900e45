"""API tokens: create (the secret is returned once), list, revoke, look up by secret.

Tokens are mutations like any other: they run in :func:`mutation`, so who
created or revoked one is in the audit chain, and the store revision moves
(servers reload their in-memory token table on it).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from phased.errors import NotFoundError, ValidationError
from phased.service.base import check_environment, mutation
from phased.store import tokens as repo
from phased.store.engine import Store
from phased.store.tokens import TokenRow

TOKEN_PREFIX = "phd_"


class Role(StrEnum):
    """What a token may do (see ``docs/api.md`` for the full table)."""

    ADMIN = "admin"  # everything, including tokens, members and forced advances
    PM = "pm"  # product changes and plan approvals where the plan names pm
    DEVELOPER = "developer"  # flags, overrides, segments, plans, rollbacks
    VIEWER = "viewer"  # read everything, change nothing
    SDK = "sdk"  # read one environment's flag set, write outcomes; nothing else


def hash_secret(secret: str) -> str:
    """The stored form of a token secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_role(value: str) -> Role:
    """A :class:`Role` from text, or a ValidationError listing the roles."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise ValidationError(
            f"unknown role {value!r}; use one of: {', '.join(r.value for r in Role)}",
            field="role",
        ) from None


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just created: the only moment its secret exists outside the caller."""

    token: TokenRow
    secret: str


def create_token(
    store: Store,
    *,
    actor: str | None,
    name: str,
    role: str | Role,
    environment: str | None = None,
) -> NewToken:
    """Create a token; the returned secret is not stored and cannot be shown again.

    Raises:
        ValidationError: unknown role, empty name, an sdk token without an
            environment (or an unknown one).
    """
    parsed = role if isinstance(role, Role) else parse_role(role)
    clean = name.strip()
    if not clean or len(clean) > 200:
        raise ValidationError(
            f"give a name of 1..200 characters (got {name!r}), e.g. --name alice", field="name"
        )
    if parsed is Role.SDK and environment is None:
        raise ValidationError(
            "an sdk token reads one environment's flags; add --env, e.g. --env prod",
            field="env",
        )
    env = check_environment(store, environment) if environment is not None else None
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with mutation(store, actor) as m:
        row = TokenRow(
            id=secrets.token_hex(8),
            name=clean,
            role=parsed.value,
            environment=env,
            token_hash=hash_secret(secret),
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            created_by=m.actor,
            created_at=m.now,
            revoked_at=None,
        )
        repo.insert_token(m.conn, row)
        m.record(
            "token.create",
            f"token:{row.id}",
            {"after": {"name": clean, "role": parsed.value, "environment": env}},
        )
    return NewToken(row, secret)


def list_tokens(store: Store, *, include_revoked: bool = False) -> list[TokenRow]:
    """Tokens, oldest first."""
    with store.read() as conn:
        rows = repo.all_tokens(conn)
    return [r for r in rows if include_revoked or r.active]


def revoke_token(store: Store, *, actor: str | None, token_id: str) -> TokenRow:
    """Revoke a token at once (servers drop it on their next revision check).

    Raises:
        NotFoundError: no active token has this id.
    """
    with mutation(store, actor) as m:
        row = repo.get_token(m.conn, token_id)
        if row is None or not repo.revoke_token(m.conn, token_id, m.now):
            raise NotFoundError(
                f"no active token with id {token_id!r}; see `phased token list`", field="id"
            )
        m.record(
            "token.revoke",
            f"token:{token_id}",
            {"before": {"name": row.name, "role": row.role, "environment": row.environment}},
        )
    return row


def has_tokens(store: Store) -> bool:
    """True once any active token exists (bootstrap checks this)."""
    with store.read() as conn:
        return repo.count_active(conn) > 0
