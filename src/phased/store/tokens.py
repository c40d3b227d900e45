"""The ``api_tokens`` table and its queries.

A token's secret is never stored: only its SHA-256 (a random 256-bit secret
needs no slow hash) and a short prefix people can recognise in listings.
Written only through :mod:`phased.service.tokens`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    String,
    Table,
    insert,
    select,
    update,
)

from phased.store.tables import UTCDateTime, metadata

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("environment", String(64), nullable=True, comment="sdk tokens: the one environment"),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False, comment="first characters, for people"),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    CheckConstraint("role IN ('admin', 'pm', 'developer', 'viewer', 'sdk')", name="role"),
    comment="API tokens; the secret is shown once and only its SHA-256 is kept.",
)


@dataclass(frozen=True, slots=True)
class TokenRow:
    """One stored token (never the secret)."""

    id: str
    name: str
    role: str
    environment: str | None
    token_hash: str
    prefix: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """False once revoked."""
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        """JSON for listings (the hash stays out)."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "environment": self.environment,
            "prefix": self.prefix,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def _row(row: Any) -> TokenRow:
    return TokenRow(
        id=row.id,
        name=row.name,
        role=row.role,
        environment=row.environment,
        token_hash=row.token_hash,
        prefix=row.prefix,
        created_by=row.created_by,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def all_tokens(conn: Connection) -> list[TokenRow]:
    """Every token, oldest first (revoked ones included)."""
    rows = conn.execute(select(api_tokens).order_by(api_tokens.c.created_at, api_tokens.c.id))
    return [_row(r) for r in rows]


def get_token(conn: Connection, token_id: str) -> TokenRow | None:
    """One token by id."""
    row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
    return _row(row) if row is not None else None


def count_active(conn: Connection) -> int:
    """How many tokens are not revoked."""
    rows = conn.execute(select(api_tokens.c.id).where(api_tokens.c.revoked_at.is_(None))).all()
    return len(rows)


def insert_token(conn: Connection, token: TokenRow) -> None:
    """Store a new token."""
    conn.execute(
        insert(api_tokens).values(
            id=token.id,
            name=token.name,
            role=token.role,
            environment=token.environment,
            token_hash=token.token_hash,
            prefix=token.prefix,
            created_by=token.created_by,
            created_at=token.created_at,
            revoked_at=None,
        )
    )


def revoke_token(conn: Connection, token_id: str, now: datetime) -> bool:
    """Mark a token revoked; False if it was not active."""
    result = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1
