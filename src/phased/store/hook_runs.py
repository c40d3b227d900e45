"""The ``hook_runs`` table: one row per hook per transition, claimed before the hook runs.

The unique key (rollout, transition, hook) is the lock: whoever inserts the
``running`` row runs the hook, and a second engine (or the same one after a
restart) finds the row instead. Audited through :mod:`phased.service.hook_runs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from phased.store.engine import Store
from phased.store.tables_external import hook_runs

MAX_DETAIL_CHARS = 4000


@dataclass(frozen=True, slots=True)
class HookRun:
    """One hook at one transition."""

    id: int
    rollout_id: int
    transition: str
    hook: str
    phase: str
    stage: str
    status: str
    """``running``, ``passed``, ``failed`` or ``interrupted``."""
    attempts: int
    detail: str
    claimed_by: str
    started_at: datetime
    finished_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (`phased hooks log --json`)."""
        return {
            "transition": self.transition,
            "hook": self.hook,
            "phase": self.phase,
            "stage": self.stage,
            "status": self.status,
            "attempts": self.attempts,
            "detail": self.detail,
            "claimed_by": self.claimed_by,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


def _run(row: Any) -> HookRun:
    return HookRun(
        id=row.id,
        rollout_id=row.rollout_id,
        transition=row.transition,
        hook=row.hook,
        phase=row.phase,
        stage=row.stage,
        status=row.status,
        attempts=row.attempts,
        detail=row.detail,
        claimed_by=row.claimed_by,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


def find(conn: Connection, rollout_id: int, transition: str, hook: str) -> HookRun | None:
    """The run of ``hook`` at ``transition``, if any."""
    t = hook_runs.c
    row = conn.execute(
        select(hook_runs).where(
            t.rollout_id == rollout_id, t.transition == transition, t.hook == hook
        )
    ).first()
    return _run(row) if row is not None else None


def failed_attempts(conn: Connection, rollout_id: int, prefix: str, hook: str) -> int:
    """Runs of ``hook`` that ended without success at transitions starting with ``prefix``."""
    t = hook_runs.c
    count = conn.execute(
        select(func.count()).where(
            t.rollout_id == rollout_id,
            t.hook == hook,
            t.transition.startswith(prefix, autoescape=True),
            t.status.in_(("failed", "interrupted")),
        )
    ).scalar_one()
    return int(count)


def claim(
    store: Store,
    *,
    rollout_id: int,
    transition: str,
    hook: str,
    phase: str,
    stage: str,
    by: str,
) -> tuple[bool, HookRun]:
    """Insert the ``running`` row: (True, run) if this caller may run it, else the row found.

    The insert is its own committed transaction: the claim must be visible to
    every other engine before the hook starts, and a lost race (the unique key
    refused it) leaves nothing behind.
    """
    try:
        with store.write() as conn:
            insert_run(
                conn,
                rollout_id=rollout_id,
                transition=transition,
                hook=hook,
                phase=phase,
                stage=stage,
                status="running",
                detail="",
                attempts=0,
                by=by,
                started_at=store.clock(),
                finished_at=None,
            )
            run = find(conn, rollout_id, transition, hook)
            assert run is not None
            return True, run
    except IntegrityError:
        with store.read() as conn:
            found = find(conn, rollout_id, transition, hook)
        assert found is not None
        return False, found


def mark_finished(
    conn: Connection, run_id: int, *, status: str, detail: str, attempts: int, now: datetime
) -> None:
    """Record how a run ended; only a row still ``running`` changes (a settled one stays)."""
    t = hook_runs.c
    conn.execute(
        hook_runs.update()
        .where(t.id == run_id, t.status == "running")
        .values(
            status=status,
            detail=detail[:MAX_DETAIL_CHARS],
            attempts=attempts,
            finished_at=now,
        )
    )


def insert_run(
    conn: Connection,
    *,
    rollout_id: int,
    transition: str,
    hook: str,
    phase: str,
    stage: str,
    status: str,
    detail: str,
    attempts: int,
    by: str,
    started_at: datetime,
    finished_at: datetime | None,
) -> None:
    """Add a run (a claim, or a polled hook's first answer); the unique key refuses a second."""
    conn.execute(
        hook_runs.insert().values(
            rollout_id=rollout_id,
            transition=transition,
            hook=hook,
            phase=phase,
            stage=stage,
            status=status,
            attempts=attempts,
            detail=detail[:MAX_DETAIL_CHARS],
            claimed_by=by,
            started_at=started_at,
            finished_at=finished_at,
        )
    )


def update_answered(
    conn: Connection, run: HookRun, *, status: str, detail: str, attempts: int, now: datetime
) -> None:
    """A later answer of a polled hook: the same row, its attempts added up."""
    conn.execute(
        hook_runs.update()
        .where(hook_runs.c.id == run.id)
        .values(
            status=status,
            attempts=run.attempts + attempts,
            detail=detail[:MAX_DETAIL_CHARS],
            finished_at=now,
        )
    )


def history(conn: Connection, rollout_id: int, *, limit: int = 200) -> list[HookRun]:
    """The rollout's hook runs, newest first."""
    t = hook_runs.c
    stmt = select(hook_runs).where(t.rollout_id == rollout_id).order_by(t.id.desc()).limit(limit)
    return [_run(r) for r in conn.execute(stmt)]
