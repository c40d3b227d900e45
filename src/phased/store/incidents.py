"""The ``incidents`` table: what was opened against a flag, and how it ended.

Severities are checked and rollouts acted on by :mod:`phased.service.incidents`,
the only writer; an incident's id is its key (``INC-7``) once formatted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from phased.store.tables_rollouts import incidents


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """One incident."""

    id: int
    flag: str
    rollout_id: int | None
    severity: str
    title: str
    opened_by: str
    opened_at: datetime
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    action: str | None = None

    @property
    def key(self) -> str:
        """``INC-7``: how people and the rollout state name it."""
        return f"INC-{self.id}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "id": self.key,
            "flag": self.flag,
            "rollout": self.rollout_id,
            "severity": self.severity,
            "title": self.title,
            "opened_by": self.opened_by,
            "opened_at": self.opened_at.isoformat(),
            "resolved_by": self.resolved_by,
            "resolved_at": None if self.resolved_at is None else self.resolved_at.isoformat(),
            "action": self.action,
        }


def _record(row: Any) -> IncidentRecord:
    return IncidentRecord(
        id=int(row.id),
        flag=row.flag,
        rollout_id=row.rollout_id,
        severity=row.severity,
        title=row.title,
        opened_by=row.opened_by,
        opened_at=row.opened_at,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
        action=row.action,
    )


def insert_incident(
    conn: Connection,
    *,
    flag: str,
    rollout_id: int | None,
    severity: str,
    title: str,
    actor: str,
    now: datetime,
) -> int:
    """Store a newly opened incident; its id."""
    new_id = conn.execute(
        insert(incidents)
        .values(
            flag=flag,
            rollout_id=rollout_id,
            severity=severity,
            title=title,
            opened_by=actor,
            opened_at=now,
        )
        .returning(incidents.c.id)
    ).scalar_one()
    return int(new_id)


def get(conn: Connection, incident_id: int) -> IncidentRecord | None:
    """The incident with this id, or None."""
    row = conn.execute(select(incidents).where(incidents.c.id == incident_id)).first()
    return None if row is None else _record(row)


def set_action(conn: Connection, incident_id: int, action: str) -> None:
    """Remember what opening the incident did to its rollout."""
    conn.execute(update(incidents).where(incidents.c.id == incident_id).values(action=action))


def mark_resolved(conn: Connection, incident_id: int, *, actor: str, now: datetime) -> None:
    """Close the incident in ``actor``'s name."""
    conn.execute(
        update(incidents)
        .where(incidents.c.id == incident_id)
        .values(resolved_by=actor, resolved_at=now)
    )


def listed(
    conn: Connection, *, flag: str | None = None, open_only: bool = False
) -> list[IncidentRecord]:
    """Incidents, newest first; of one flag, or only the unresolved ones, when asked."""
    stmt = select(incidents).order_by(incidents.c.id.desc())
    if flag is not None:
        stmt = stmt.where(incidents.c.flag == flag)
    if open_only:
        stmt = stmt.where(incidents.c.resolved_at.is_(None))
    return [_record(r) for r in conn.execute(stmt)]
