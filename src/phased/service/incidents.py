"""Incidents opened against a flag: recorded, audited, and acted on at once.

Opening one attaches it to the flag's going rollout and runs the engine's
decision right away in the same transaction, so a P0 (by default, or any
severity the plan's ``incidents`` maps to an action) rolls back before the
command returns (seed 002: "P0: immediate rollback").
"""

from __future__ import annotations

from dataclasses import dataclass

from phased.core import rollout_state as rs
from phased.core.decide import Decision
from phased.core.plans.model import INCIDENT_SEVERITIES
from phased.errors import ConflictError, NotFoundError, ValidationError
from phased.service import rollout_records as records
from phased.service.base import mutation, require_flag
from phased.service.plan_rollouts import step
from phased.store import incidents as repo
from phased.store.engine import Store
from phased.store.incidents import IncidentRecord

__all__ = [
    "IncidentRecord",
    "Opened",
    "check_severity",
    "list_incidents",
    "open_incident",
    "resolve_incident",
]


@dataclass(frozen=True, slots=True)
class Opened:
    """An opened incident and the decision it caused (None: no rollout was going)."""

    incident: IncidentRecord
    decision: Decision | None


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
        new_id = repo.insert_incident(
            m.conn,
            flag=flag,
            rollout_id=None if rollout is None else rollout.id,
            severity=level,
            title=title.strip(),
            actor=m.actor,
            now=m.now,
        )
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
                repo.set_action(m.conn, new_id, decision.kind.value)
        opened = repo.get(m.conn, new_id)
        assert opened is not None
    return Opened(opened, decision)


def _parse_key(key: str) -> int:
    text = key.strip().upper().removeprefix("INC-")
    if not text.isdigit():
        raise ValidationError(f"an incident id looks like INC-7 (got {key!r})", field="incident")
    return int(text)


def resolve_incident(store: Store, *, actor: str | None, incident: str) -> IncidentRecord:
    """Mark an incident resolved; a rollout it paused stays paused until resumed."""
    number = _parse_key(incident)
    with mutation(store, actor) as m:
        found = repo.get(m.conn, number)
        if found is None:
            raise NotFoundError(f"no incident INC-{number}", field="incident")
        if found.resolved_at is not None:
            raise ConflictError(
                f"INC-{number} was resolved by {found.resolved_by} "
                f"at {found.resolved_at.isoformat()}",
                field="incident",
            )
        repo.mark_resolved(m.conn, number, actor=m.actor, now=m.now)
        if found.rollout_id is not None:
            rollout = records.load(m.conn, int(found.rollout_id))
            if rollout.active:
                state = rs.resolve_incident(rollout.state, f"INC-{number}", m.now)
                records.save(m.conn, rollout, state, m.now)
        m.record("incident.resolve", f"incident:INC-{number}", {"flag": found.flag})
        done = repo.get(m.conn, number)
        assert done is not None
    return done


def list_incidents(
    store: Store, *, flag: str | None = None, open_only: bool = False
) -> list[IncidentRecord]:
    """Incidents, newest first."""
    with store.read() as conn:
        return repo.listed(conn, flag=flag, open_only=open_only)
