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

from sqlalchemy import Connection

from phased.core.gates import GateResult, Verdict
from phased.service.base import mutation
from phased.service.rollout_records import Rollout, require
from phased.store.engine import Store
from phased.store.hook_runs import (
    HookRun,
    claim,
    failed_attempts,
    find,
    history,
    insert_run,
    mark_finished,
    update_answered,
)

# The engine and `hooks log` reach the records through this use-case module.
__all__ = [
    "HookRun",
    "RunLog",
    "attempts_before",
    "claim",
    "finish",
    "history",
    "latest_results",
    "list_runs",
    "poll",
]


@dataclass(frozen=True, slots=True)
class RunLog:
    """A rollout's hook runs: the rollout is named even when nothing ran yet."""

    rollout_id: int
    runs: tuple[HookRun, ...]
    """Newest first."""


def list_runs(store: Store, flag: str, *, limit: int = 200) -> RunLog:
    """The hook runs of the flag's latest rollout (``phased hooks log``), newest first."""
    with store.read() as conn:
        rollout = require(conn, flag, going=False)
        return RunLog(rollout.id, tuple(history(conn, rollout.id, limit=limit)))


def attempts_before(store: Store, rollout_id: int, prefix: str, hook: str) -> int:
    """Finished-without-success runs of ``hook`` at transitions starting with ``prefix``."""
    with store.read() as conn:
        return failed_attempts(conn, rollout_id, prefix, hook)


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
    with mutation(store, actor) as m:
        mark_finished(m.conn, run.id, status=status, detail=detail, attempts=attempts, now=m.now)
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
    with mutation(store, actor) as m:
        found = find(m.conn, rollout_id, transition, hook)
        if found is None:
            insert_run(
                m.conn,
                rollout_id=rollout_id,
                transition=transition,
                hook=hook,
                phase=phase,
                stage=stage,
                status=status,
                detail=detail,
                attempts=attempts,
                by=actor,
                started_at=m.now,
                finished_at=m.now,
            )
        else:
            update_answered(
                m.conn, found, status=status, detail=detail, attempts=attempts, now=m.now
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
