"""The ``rollout_approvals`` and ``rollout_checks`` tables.

The rollout state holds approvals and ticks too (that is what ``decide``
reads); these rows repeat them, written in the same transaction, so "who
approved what, when" is one indexed query instead of a scan of JSON.
Written only through :mod:`phased.service.approvals`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select

from phased.store.tables_rollouts import rollout_approvals, rollout_checks


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    """One approval as the sign-off table shows it."""

    stage: str
    actor: str
    roles: tuple[str, ...]
    at: datetime


def insert_approval(
    conn: Connection, rollout_id: int, *, stage: str, actor: str, roles: Iterable[str], at: datetime
) -> None:
    """Keep one approval beside the state that now holds it."""
    conn.execute(
        insert(rollout_approvals).values(
            rollout_id=rollout_id, stage=stage, actor=actor, roles=list(roles), at=at
        )
    )


def insert_check(
    conn: Connection, rollout_id: int, *, stage: str, item: str, actor: str, at: datetime
) -> None:
    """Keep one checklist tick beside the state that now holds it."""
    conn.execute(
        insert(rollout_checks).values(
            rollout_id=rollout_id, stage=stage, item=item, actor=actor, at=at
        )
    )


def approvals_for(conn: Connection, rollout_id: int) -> list[ApprovalRecord]:
    """Every approval given for a rollout, oldest first."""
    t = rollout_approvals.c
    rows = conn.execute(select(rollout_approvals).where(t.rollout_id == rollout_id).order_by(t.id))
    return [ApprovalRecord(r.stage, r.actor, tuple(r.roles), r.at) for r in rows]
