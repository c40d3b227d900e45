"""Archived flags: what a deleted flag was, so it can be listed and restored.

Deleting a flag (``phased flag delete``, or a ``flags apply`` whose file
leaves it out) moves its last definition and states here in the same
transaction; the live tables no longer hold it, so SDKs are not served it.
Its rollouts, their history and the audit log keep referring to it by key and
stay readable. Migration ``0007`` creates the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Index,
    Integer,
    String,
    Table,
    delete,
    insert,
    select,
)

from phased.core.flags import Flag
from phased.store.tables import UTCDateTime, metadata

archived_flags = Table(
    "archived_flags",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False),
    Column("document", JSON, nullable=False, comment="The Flag with its environments"),
    Column("archived_by", String(200), nullable=False),
    Column("archived_at", UTCDateTime, nullable=False),
    Index("ix_archived_flags_key", "key"),
    comment="Deleted flags, newest last; restoring one moves it back to flags.",
)


@dataclass(frozen=True, slots=True)
class ArchivedFlag:
    """One archived flag as it was when it was deleted."""

    id: int
    flag: Flag
    archived_by: str
    archived_at: datetime


def archive(conn: Connection, flag: Flag, *, actor: str, now: datetime) -> None:
    """Keep ``flag`` (definition and every state) in the archive."""
    document = flag.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    document["key"] = flag.key
    conn.execute(
        insert(archived_flags).values(
            key=flag.key, document=document, archived_by=actor, archived_at=now
        )
    )


def _archived(row: object) -> ArchivedFlag:
    return ArchivedFlag(
        id=int(row.id),  # type: ignore[attr-defined]
        flag=Flag.model_validate(row.document),  # type: ignore[attr-defined]
        archived_by=str(row.archived_by),  # type: ignore[attr-defined]
        archived_at=row.archived_at,  # type: ignore[attr-defined]
    )


def listed(conn: Connection) -> list[ArchivedFlag]:
    """Every archived flag, the latest archive of each key only, by key."""
    rows = conn.execute(select(archived_flags).order_by(archived_flags.c.key, archived_flags.c.id))
    latest: dict[str, ArchivedFlag] = {}
    for row in rows:
        latest[str(row.key)] = _archived(row)
    return list(latest.values())


def latest(conn: Connection, key: str) -> ArchivedFlag | None:
    """The most recent archive of ``key``."""
    row = conn.execute(
        select(archived_flags)
        .where(archived_flags.c.key == key)
        .order_by(archived_flags.c.id.desc())
    ).first()
    return None if row is None else _archived(row)


def drop(conn: Connection, key: str) -> None:
    """Forget every archive of ``key`` (it was restored)."""
    conn.execute(delete(archived_flags).where(archived_flags.c.key == key))
