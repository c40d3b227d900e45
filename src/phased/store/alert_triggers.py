"""The ``alert_triggers`` table: inbound endpoints an alerting system calls to stop a rollout.

Only a token's hash is kept (the caller hashes it): a leaked database does
not hand out working trigger URLs. Audited through
:mod:`phased.service.alert_triggers`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from phased.store.tables_external import alert_triggers


@dataclass(frozen=True, slots=True)
class AlertTrigger:
    """One inbound endpoint (never its token)."""

    id: int
    flag: str
    name: str
    action: str | None
    match: dict[str, str]
    enabled: bool
    created_by: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """The JSON form for listings."""
        return {
            "id": self.id,
            "flag": self.flag,
            "name": self.name,
            "action": self.action,
            "match": self.match,
            "enabled": self.enabled,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
        }


def _trigger(row: Any) -> AlertTrigger:
    return AlertTrigger(
        id=row.id,
        flag=row.flag,
        name=row.name,
        action=row.action,
        match=dict(row.match or {}),
        enabled=bool(row.enabled),
        created_by=row.created_by,
        created_at=row.created_at,
    )


def named(conn: Connection, flag: str, name: str) -> AlertTrigger | None:
    """The trigger ``name`` of ``flag`` (enabled or not), if any."""
    t = alert_triggers.c
    row = conn.execute(select(alert_triggers).where(t.flag == flag, t.name == name)).first()
    return _trigger(row) if row is not None else None


def by_token_hash(conn: Connection, token_hash: str) -> AlertTrigger | None:
    """The trigger whose token hashes to ``token_hash`` (enabled or not), if any."""
    row = conn.execute(
        select(alert_triggers).where(alert_triggers.c.token_hash == token_hash)
    ).first()
    return _trigger(row) if row is not None else None


def all_triggers(conn: Connection, flag: str | None = None) -> list[AlertTrigger]:
    """Every trigger (of one flag), oldest first."""
    stmt = select(alert_triggers).order_by(alert_triggers.c.id)
    if flag is not None:
        stmt = stmt.where(alert_triggers.c.flag == flag)
    return [_trigger(r) for r in conn.execute(stmt)]


def insert_trigger(
    conn: Connection,
    *,
    flag: str,
    name: str,
    token_hash: str,
    action: str | None,
    match: Mapping[str, str],
    created_by: str,
    created_at: datetime,
) -> AlertTrigger:
    """Store a new, enabled trigger and return it as stored."""
    inserted = conn.execute(
        alert_triggers.insert().values(
            flag=flag,
            name=name,
            token_hash=token_hash,
            action=action,
            match=dict(match),
            enabled=True,
            created_by=created_by,
            created_at=created_at,
        )
    ).inserted_primary_key
    assert inserted is not None
    row = conn.execute(select(alert_triggers).where(alert_triggers.c.id == inserted[0])).one()
    return _trigger(row)


def disable_trigger(conn: Connection, trigger_id: int) -> None:
    """Turn a trigger off: its token stops working (the row stays, for the audit's sake)."""
    conn.execute(
        alert_triggers.update().where(alert_triggers.c.id == trigger_id).values(enabled=False)
    )
