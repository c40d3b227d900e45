"""The store's tables, on one shared ``metadata``.

Other parts add their tables here (the alert outbox, rollout plans) together
with a migration in ``migrations/versions``. Definitions and states are JSON
documents validated by :mod:`phased.core.flags` on the way in and out; the
columns beside them are what queries and version checks need.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite keeps no zone; normalising to UTC on the way in (and marking naive
    values as UTC on the way out) makes a stored timestamp read back equal to
    the one written, which the audit hash depends on.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Stable constraint names so that later migrations can refer to them.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

store_head = Table(
    "store_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("revision", BigInteger, nullable=False),
    Column("audit_seq", BigInteger, nullable=False),
    Column("audit_hash", String(64), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
    comment=(
        "One row. Every mutation locks it first (serialising writers and audit appends), "
        "bumps revision (clients poll it) and moves the audit chain head."
    ),
)

flags = Table(
    "flags",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("definition", JSON, nullable=False, comment="Flag without environments"),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

flag_states = Table(
    "flag_states",
    metadata,
    Column(
        "flag_key",
        String(64),
        ForeignKey("flags.key", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("environment", String(64), primary_key=True),
    Column("state", JSON, nullable=False, comment="FlagState of one environment"),
    Column("version", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

segments = Table(
    "segments",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("definition", JSON, nullable=False, comment="Segment"),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("ts", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("entity", String(200), nullable=False),
    Column("details", Text, nullable=False, comment="canonical JSON: before/after"),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Index("ix_audit_log_ts", "ts"),
    Index("ix_audit_log_actor", "actor"),
    Index("ix_audit_log_action", "action"),
    Index("ix_audit_log_entity", "entity"),
    comment="Append-only; hash-chained (see phased.store.audit).",
)
