"""The record of stage hooks: claimed before a hook runs, finished after, never run twice.

A hook run is keyed by (rollout, transition, hook). The engine inserts the
row (``running``) *before* it starts the hook, in its own committed
transaction; the unique key means a second engine, or the same one after a
restart, finds the row and does not run the hook again. A row still
``running`` when an engine finds it belongs to an engine that died mid-hook:
it becomes ``interrupted`` and the rollout waits for a person, who may resume
(a new attempt). Each finished run is audited (``hook.run``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from phased.core.gates import GateResult, Verdict
from phased.service.base import mutation
from phased.service.rollout_records import Rollout
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


def attempts_before(store: Store, rollout_id: int, prefix: str, hook: str) -> int:
    """Finished-without-success runs of ``hook`` at transitions starting with ``prefix``."""
    t = hook_runs.c
    with store.read() as conn:
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
    """Insert the ``running`` row: (True, run) if this caller may run it, else the row found."""
    try:
        with store.write() as conn:
            conn.execute(
                hook_runs.insert().values(
                    rollout_id=rollout_id,
                    transition=transition,
                    hook=hook,
                    phase=phase,
                    stage=stage,
                    status="running",
                    attempts=0,
                    detail="",
                    claimed_by=by,
                    started_at=store.clock(),
                    finished_at=None,
                )
            )
            run = find(conn, rollout_id, transition, hook)
            assert run is not None
            return True, run
    except IntegrityError:
        with store.read() as conn:
            found = find(conn, rollout_id, transition, hook)
        assert found is not None
        return False, found


def finish(
    store: Store,
    run: HookRun,
    *,
    status: str,
    detail: str,
    attempts: int,
    entity: str,
    actor: str,
) -> HookRun:
    """Record how the run ended (only a ``running`` row changes) and audit it."""
    t = hook_runs.c
    with mutation(store, actor) as m:
        m.conn.execute(
            hook_runs.update()
            .where(t.id == run.id, t.status == "running")
            .values(
                status=status,
                detail=detail[:MAX_DETAIL_CHARS],
                attempts=attempts,
                finished_at=m.now,
            )
        )
        m.record(
            "hook.run",
            entity,
            {
                "rollout": run.rollout_id,
                "hook": run.hook,
                "phase": run.phase,
                "stage": run.stage,
                "transition": run.transition,
                "status": status,
                "attempts": attempts,
                "detail": detail[:500],
            },
        )
        done = find(m.conn, run.rollout_id, run.transition, run.hook)
    assert done is not None
    return done


def poll(
    store: Store,
    *,
    rollout_id: int,
    transition: str,
    hook: str,
    phase: str,
    stage: str,
    status: str,
    detail: str,
    attempts: int,
    entity: str,
    actor: str,
) -> None:
    """Record one ask of a polled hook (confirm_advance): one row per transition, updated.

    The audit gets an entry when the answer changes, not at every pass.
    """
    t = hook_runs.c
    with mutation(store, actor) as m:
        found = find(m.conn, rollout_id, transition, hook)
        if found is None:
            m.conn.execute(
                hook_runs.insert().values(
                    rollout_id=rollout_id,
                    transition=transition,
                    hook=hook,
                    phase=phase,
                    stage=stage,
                    status=status,
                    attempts=attempts,
                    detail=detail[:MAX_DETAIL_CHARS],
                    claimed_by=actor,
                    started_at=m.now,
                    finished_at=m.now,
                )
            )
        else:
            m.conn.execute(
                hook_runs.update()
                .where(t.id == found.id)
                .values(
                    status=status,
                    attempts=found.attempts + attempts,
                    detail=detail[:MAX_DETAIL_CHARS],
                    finished_at=m.now,
                )
            )
        if found is None or found.status != status:
            m.record(
                "hook.run",
                entity,
                {
                    "rollout": rollout_id,
                    "hook": hook,
                    "phase": phase,
                    "stage": stage,
                    "transition": transition,
                    "status": status,
                    "detail": detail[:500],
                },
            )


def history(conn: Connection, rollout_id: int, *, limit: int = 200) -> list[HookRun]:
    """The rollout's hook runs, newest first."""
    t = hook_runs.c
    stmt = select(hook_runs).where(t.rollout_id == rollout_id).order_by(t.id.desc()).limit(limit)
    return [_run(r) for r in conn.execute(stmt)]


_VERDICTS = {
    "passed": Verdict.PASS,
    "failed": Verdict.FAIL,
    "interrupted": Verdict.FAIL,
    "running": Verdict.WAITING,
}


def latest_results(conn: Connection, rollout: Rollout) -> list[GateResult]:
    """The last run of each hook of the current and the next stage, as status lines."""
    index = min(rollout.state.stage, len(rollout.plan.stages) - 1)
    names = {s.name for s in rollout.plan.stages[index : index + 2]}
    seen: set[tuple[str, str, str]] = set()
    out: list[GateResult] = []
    for run in history(conn, rollout.id):
        key = (run.stage, run.phase, run.hook)
        if run.stage not in names or key in seen:
            continue
        seen.add(key)
        out.append(
            GateResult(
                kind="requirement",
                label=f"{run.phase} hook {run.hook}",
                metric="hook",
                stage=run.stage,
                verdict=_VERDICTS.get(run.status, Verdict.ERROR),
                reason=f"{run.phase} hook {run.hook} {run.status} "
                f"({run.started_at.isoformat(timespec='seconds')}): {run.detail}",
            )
        )
    return list(reversed(out))
