"""The rollout page's history as a story (see :mod:`phased.core.story`).

Recorded decisions and the flag's manual changes since the rollout began, in
one time line, newest first; runs of holds at one stage are one line with a
count and a time span; every other line links to its audit entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from phased.core.durations import format_duration
from phased.core.gates import GateResult
from phased.core.story import NOTABLE, collapse, span
from phased.service.rollout_records import HistoryEntry, Rollout
from phased.store.audit import AuditEntry

ACTIONS = {
    "apply": "rollout.start",
    "advance": "rollout.advance",
    "approve": "rollout.approve",
    "check": "rollout.check",
    "pause": "rollout.pause",
    "resume": "rollout.resume",
    "rollback": "rollout.rollback",
    "complete": "rollout.complete",
}
"""A history kind and the audit action written with it."""

AUDIT_LIMIT = 1000
"""Entries the linked audit page lists (the link's entry is among them)."""

WORDS = {
    "hold": "held",
    "apply": "plan applied",
    "advance": "advanced",
    "approve": "approved",
    "check": "checklist ticked",
    "pause": "paused",
    "resume": "resumed",
    "rollback": "rolled back",
    "complete": "completed",
    "manual": "manual change",
    "drift": "drift",
}


@dataclass(frozen=True, slots=True)
class Item:
    """One event of the time line: a recorded decision or a manual change of the flag."""

    at: datetime
    kind: str
    stage: str
    actor: str
    source: str
    reason: str
    dry_run: bool = False
    evaluations: tuple[GateResult, ...] = ()
    alerts: tuple[dict[str, Any], ...] = ()
    audit_id: int | None = None


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the story as the template prints it."""

    kind: str
    words: str
    stage: str
    at: datetime
    until: datetime | None
    """For folded holds: the later end of the span."""
    count: int
    lasted: str
    actor: str
    source: str
    reason: str
    first_reason: str
    notable: bool
    dry_run: bool
    audit_url: str | None
    evaluations: tuple[GateResult, ...] = field(default=())
    alerts: tuple[dict[str, Any], ...] = field(default=())


def _items(
    rollout: Rollout, history: Sequence[HistoryEntry], audit: Sequence[AuditEntry]
) -> list[Item]:
    by_key = {(e.action, e.ts): e.id for e in audit if e.entity == rollout.entity}
    items = [
        Item(
            at=h.at,
            kind=h.kind,
            stage=h.stage,
            actor=h.actor,
            source=h.source,
            reason=h.reason,
            dry_run=h.dry_run,
            evaluations=h.evaluations,
            alerts=h.alerts,
            audit_id=by_key.get((ACTIONS.get(h.kind, ""), h.at)),
        )
        for h in history
    ]
    since = rollout.created_at
    # A flag write in the same transaction as a rollout entry is the rollout's own
    # (an advance, a rollback); any other write to the flag is a manual change.
    own = {e.ts for e in audit if e.entity == rollout.entity}
    for e in audit:
        if e.entity != f"flag:{rollout.flag}" or e.ts in own:
            continue
        if since is not None and e.ts <= since:
            continue
        items.append(
            Item(
                at=e.ts,
                kind="manual",
                stage="",
                actor=e.actor,
                source="manual",
                reason=f"{e.action} by {e.actor} while the plan controls the flag",
                audit_id=e.id,
            )
        )
    items.sort(key=lambda i: i.at)
    return items


def story_lines(
    rollout: Rollout, history: Sequence[HistoryEntry], audit: Sequence[AuditEntry]
) -> list[Line]:
    """The time line, newest first (see the module docs)."""
    lines = collapse(
        _items(rollout, history, audit), kind=lambda i: i.kind, stage=lambda i: i.stage
    )
    out = []
    for line in reversed(lines):
        first, last = span(line.first.at, line.last.at)
        newest = line.last if line.last.at >= line.first.at else line.first
        oldest = line.first if newest is line.last else line.last
        item = newest
        url = None
        if item.audit_id is not None:
            entity = rollout.entity if item.kind != "manual" else f"flag:{rollout.flag}"
            url = f"/ui/audit?entity={quote(entity)}&limit={AUDIT_LIMIT}#e{item.audit_id}"
        out.append(
            Line(
                kind=line.kind,
                words=WORDS.get(line.kind, line.kind),
                stage=item.stage,
                at=first,
                until=last if line.collapsed else None,
                count=line.count,
                lasted=format_duration(last - first) if line.collapsed else "",
                actor=item.actor,
                source=item.source,
                reason=item.reason,
                first_reason=oldest.reason if line.collapsed else "",
                notable=line.kind in NOTABLE or line.kind == "manual" or item.source == "forced",
                dry_run=item.dry_run,
                audit_url=url,
                evaluations=item.evaluations if not line.collapsed else (),
                alerts=item.alerts,
            )
        )
    return out
