"""Incidents opened against a flag: recorded, audited, and acted on at once.

Opening one attaches it to the flag's going rollout and runs the engine's
decision right away in the same transaction, so a P0 (by default, or any
severity the plan's ``incidents`` maps to an action) rolls back before the
command returns (seed 002: "P0: immediate rollback").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from phased.core import rollout_state as rs
from phased.core.decide import Decision
from phased.core.plans.model import INCIDENT_SEVERITIES
from phased.errors import ConflictError, NotFoundError, ValidationError
from phased.service import rollout_records as records
from phased.service.base import mutation, require_flag
from phased.service.plan_rollouts import step
from phased.store.engine import Store
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


@dataclass(frozen=True, slots=True)
class Opened:
    """An opened incident and the decision it caused (None: no rollout was going)."""

    incident: IncidentRecord
    decision: Decision | None


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


def check_severity(severity: str) -> str:
    """``P0``..``P3`` (case-insensitive)."""
    value = severity.strip().upper()
    if value not in INCIDENT_SEVERITIES:
        raise ValidationError(
            f"unknown severity {severity!r}; use {', '.join(INCIDENT_SEVERITIES)} "
            "(P0 critical: rolls back at once)",
            field="severity",
        )
    return value


def open_incident(
    store: Store,
    *,
    actor: str | None,
    flag: str,
    severity: str,
    title: str = "",
    environment: str | None = None,
) -> Opened:
    """Open an incident on ``flag`` (audited as ``incident.open``) and act on it now."""
    level = check_severity(severity)
    with mutation(store, actor) as m:
        require_flag(m.snapshot.flagset, flag)
        rollout = records.active(m.conn, flag)
        if rollout is not None and environment not in (None, *rollout.environments):
            rollout = None
        new_id = m.conn.execute(
            insert(incidents)
            .values(
                flag=flag,
                rollout_id=None if rollout is None else rollout.id,
                severity=level,
                title=title.strip(),
                opened_by=m.actor,
                opened_at=m.now,
            )
            .returning(incidents.c.id)
        ).scalar_one()
        key = f"INC-{new_id}"
        m.record(
            "incident.open",
            f"incident:{key}",
            {
                "flag": flag,
                "severity": level,
                "title": title.strip(),
                "rollout": rollout and rollout.id,
            },
        )
        decision = None
        if rollout is not None:
            attached = rs.open_incident(
                rollout.state,
                rs.Incident(
                    id=key, severity=level, title=title.strip(), opened_by=m.actor, opened_at=m.now
                ),
            )
            rollout = records.save(m.conn, rollout, attached, m.now)
            applied = step(m, rollout, source="manual")
            decision = applied.decision
            if applied.acted:
                m.conn.execute(
                    update(incidents)
                    .where(incidents.c.id == new_id)
                    .values(action=decision.kind.value)
                )
        row = m.conn.execute(select(incidents).where(incidents.c.id == new_id)).one()
    return Opened(_record(row), decision)


def _parse_key(key: str) -> int:
    text = key.strip().upper().removeprefix("INC-")
    if not text.isdigit():
        raise ValidationError(f"an incident id looks like INC-7 (got {key!r})", field="incident")
    return int(text)


def resolve_incident(store: Store, *, actor: str | None, incident: str) -> IncidentRecord:
    """Mark an incident resolved; a rollout it paused stays paused until resumed."""
    number = _parse_key(incident)
    with mutation(store, actor) as m:
        row = m.conn.execute(select(incidents).where(incidents.c.id == number)).first()
        if row is None:
            raise NotFoundError(f"no incident INC-{number}", field="incident")
        if row.resolved_at is not None:
            raise ConflictError(
                f"INC-{number} was resolved by {row.resolved_by} at {row.resolved_at.isoformat()}",
                field="incident",
            )
        m.conn.execute(
            update(incidents)
            .where(incidents.c.id == number)
            .values(resolved_by=m.actor, resolved_at=m.now)
        )
        if row.rollout_id is not None:
            rollout = records.load(m.conn, int(row.rollout_id))
            if rollout.active:
                state = rs.resolve_incident(rollout.state, f"INC-{number}", m.now)
                records.save(m.conn, rollout, state, m.now)
        m.record("incident.resolve", f"incident:INC-{number}", {"flag": row.flag})
        done = m.conn.execute(select(incidents).where(incidents.c.id == number)).one()
    return _record(done)


def list_incidents(
    store: Store, *, flag: str | None = None, open_only: bool = False
) -> list[IncidentRecord]:
    """Incidents, newest first."""
    stmt = select(incidents).order_by(incidents.c.id.desc())
    if flag is not None:
        stmt = stmt.where(incidents.c.flag == flag)
    if open_only:
        stmt = stmt.where(incidents.c.resolved_at.is_(None))
    with store.read() as conn:
        return [_record(r) for r in conn.execute(stmt)]
