"""The ``alerts_config`` table: the one alerts document set through the API, with a version.

The document is kept as given (``${VAR}`` references unexpanded), so each
worker expands it where it runs. Which document applies (stored, else the
file) is :mod:`phased.alerts.stored`; writes go through
:mod:`phased.service.alerts`, which audits them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from phased.store.tables_alerts import alerts_config


@dataclass(frozen=True, slots=True)
class StoredAlertsConfig:
    """The stored document and who set it."""

    version: int
    document: dict[str, Any]
    updated_by: str
    updated_at: datetime


def read_config(conn: Connection) -> StoredAlertsConfig | None:
    """The stored document, or None when none was ever set."""
    row = conn.execute(select(alerts_config)).first()
    if row is None:
        return None
    return StoredAlertsConfig(
        version=int(row.version),
        document=dict(row.document),
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def stored_version(conn: Connection) -> int:
    """The stored document's version (0 when none): one indexed read, cheap to poll."""
    value = conn.execute(select(alerts_config.c.version)).scalar()
    return 0 if value is None else int(value)


def write_config(
    conn: Connection,
    *,
    version: int,
    document: dict[str, Any],
    updated_by: str,
    updated_at: datetime,
) -> None:
    """Store ``document`` as ``version``, replacing the stored one (version 1 creates it)."""
    values = {
        "version": version,
        "document": document,
        "updated_by": updated_by,
        "updated_at": updated_at,
    }
    if version > 1:
        conn.execute(update(alerts_config).where(alerts_config.c.id == 1).values(values))
    else:
        conn.execute(insert(alerts_config).values(id=1, **values))
