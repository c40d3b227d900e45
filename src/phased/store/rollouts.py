"""The ``rollouts`` and ``rollout_history`` tables read and written as records.

A rollout row keeps the plan and its :class:`~phased.core.rollout_state.RolloutState`
as JSON; here they come back validated, so nothing above sees a row. Writes
are version-checked: :func:`update_state` reports whether the row was still at
the version the caller read, and the caller decides what a lost race means.
Written only through :mod:`phased.service.rollout_records`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from phased.core.gates import GateResult
from phased.core.plans.model import DEFAULT_ROLES, Plan, Stage
from phased.core.rollout_state import RolloutState
from phased.core.stage_entry import Waiting
from phased.store.tables_rollouts import rollout_history, rollouts

TERMINAL = ("rolled_back", "completed")


@dataclass(frozen=True, slots=True)
class Rollout:
    """One applied plan and where it is."""

    id: int
    flag: str
    environment: str
    plan: Plan
    plan_source: str
    plan_path: str
    state: RolloutState
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None = None
    alerted: dict[str, str] = field(default_factory=dict)
    """Alert keys already sent during the current stage run (key -> time)."""

    @property
    def phase(self) -> str:
        """``pending``, ``running``, ``paused``, ``rolled_back`` or ``completed``."""
        return self.state.phase.value

    @property
    def active(self) -> bool:
        """Not yet completed nor rolled back."""
        return not self.state.phase.is_terminal

    @property
    def stage(self) -> Stage:
        """The current (or, while pending, the first) stage."""
        return self.plan.stages[min(self.state.stage, len(self.plan.stages) - 1)]

    @property
    def stage_environment(self) -> str:
        """The environment the current stage runs in."""
        return self.plan.stage_environment(min(self.state.stage, len(self.plan.stages) - 1))

    @property
    def environments(self) -> tuple[str, ...]:
        """Every environment some stage runs in, in stage order."""
        out: list[str] = []
        for i in range(len(self.plan.stages)):
            env = self.plan.stage_environment(i)
            if env not in out:
                out.append(env)
        return tuple(out)

    @property
    def entity(self) -> str:
        """The audit entity: ``rollout:awf_bundle``."""
        return f"rollout:{self.flag}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``phased rollout status --json``)."""
        return {
            "id": self.id,
            "flag": self.flag,
            "environment": self.stage_environment,
            "phase": self.phase,
            "stage": self.stage.name,
            "stage_index": self.state.stage,
            "stages": [s.name for s in self.plan.stages],
            "mode": self.plan.mode.value,
            "plan_path": self.plan_path,
            "started_by": self.state.started_by,
            "stage_started_at": _iso(self.state.stage_started_at),
            "reason": self.state.reason,
            "version": self.version,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "ended_at": _iso(self.ended_at),
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _rollout(row: Any) -> Rollout:
    plan = Plan.model_validate(row.plan, context={"roles": DEFAULT_ROLES})
    return Rollout(
        id=int(row.id),
        flag=row.flag,
        environment=row.environment,
        plan=plan,
        plan_source=row.plan_source,
        plan_path=row.plan_path,
        state=RolloutState.model_validate(row.state),
        version=int(row.version),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        ended_at=row.ended_at,
        alerted=dict(row.alerted or {}),
    )


def get(conn: Connection, rollout_id: int, *, flag: str | None = None) -> Rollout | None:
    """The rollout with this id (and, given ``flag``, only if it is that flag's)."""
    stmt = select(rollouts).where(rollouts.c.id == rollout_id)
    if flag is not None:
        stmt = stmt.where(rollouts.c.flag == flag)
    row = conn.execute(stmt).first()
    return None if row is None else _rollout(row)


def active(conn: Connection, flag: str) -> Rollout | None:
    """The flag's newest rollout that is neither completed nor rolled back."""
    row = conn.execute(
        select(rollouts)
        .where(rollouts.c.flag == flag, rollouts.c.phase.not_in(TERMINAL))
        .order_by(rollouts.c.id.desc())
    ).first()
    return None if row is None else _rollout(row)


def latest(conn: Connection, flag: str) -> Rollout | None:
    """The flag's most recent rollout, finished or not."""
    row = conn.execute(
        select(rollouts).where(rollouts.c.flag == flag).order_by(rollouts.c.id.desc())
    ).first()
    return None if row is None else _rollout(row)


def all_rollouts(conn: Connection, *, active_only: bool = False) -> list[Rollout]:
    """Rollouts by flag then newest first; only going ones with ``active_only``."""
    stmt = select(rollouts).order_by(rollouts.c.flag, rollouts.c.id.desc())
    if active_only:
        stmt = stmt.where(rollouts.c.phase.not_in(TERMINAL))
    return [_rollout(r) for r in conn.execute(stmt)]


def known_flags(conn: Connection) -> list[str]:
    """Flags that have had a rollout, by name."""
    return [str(f) for f in conn.execute(select(rollouts.c.flag).distinct().order_by("flag"))]


def ids_of(conn: Connection, flag: str) -> list[int]:
    """The ids of every rollout of ``flag``, oldest first."""
    stmt = select(rollouts.c.id).where(rollouts.c.flag == flag).order_by(rollouts.c.id)
    return [int(i) for i in conn.execute(stmt).scalars()]


def insert_rollout(
    conn: Connection,
    *,
    plan: Plan,
    source: str,
    path: str,
    state: RolloutState,
    actor: str,
    now: datetime,
) -> Rollout:
    """Store a newly applied plan at version 1."""
    result = conn.execute(
        insert(rollouts)
        .values(
            flag=plan.flag,
            environment=plan.stage_environment(0),
            phase=state.phase.value,
            plan=plan.model_dump(mode="json"),
            plan_source=source,
            plan_path=path,
            state=state.model_dump(mode="json"),
            alerted={},
            version=1,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        .returning(rollouts.c.id)
    )
    stored = get(conn, int(result.scalar_one()))
    assert stored is not None
    return stored


def update_state(
    conn: Connection,
    rollout: Rollout,
    state: RolloutState,
    now: datetime,
    *,
    alerted: dict[str, str],
) -> bool:
    """Write the next version; False when the row is no longer at ``rollout.version``."""
    values: dict[str, Any] = {
        "state": state.model_dump(mode="json"),
        "phase": state.phase.value,
        "version": rollout.version + 1,
        "updated_at": now,
        "alerted": alerted,
    }
    if state.phase.is_terminal and rollout.ended_at is None:
        values["ended_at"] = now
    result = conn.execute(
        update(rollouts)
        .where(rollouts.c.id == rollout.id, rollouts.c.version == rollout.version)
        .values(**values)
    )
    return result.rowcount == 1


# -- history ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One recorded decision about a rollout."""

    id: int
    at: datetime
    actor: str
    kind: str
    source: str
    stage: str
    stage_index: int
    phase: str
    reason: str
    dry_run: bool
    evaluations: tuple[GateResult, ...]
    alerts: tuple[dict[str, Any], ...]
    waiting: tuple[Waiting, ...]

    def signature(self) -> tuple[Any, ...]:
        """What must differ for a new hold to be worth recording."""
        return signature(self.kind, self.stage, self.phase, self.evaluations, self.waiting)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "kind": self.kind,
            "source": self.source,
            "stage": self.stage,
            "stage_index": self.stage_index,
            "phase": self.phase,
            "reason": self.reason,
            "dry_run": self.dry_run,
            "evaluations": [e.model_dump(mode="json") for e in self.evaluations],
            "alerts": list(self.alerts),
            "waiting": [w.model_dump(mode="json") for w in self.waiting],
        }


def signature(
    kind: str,
    stage: str,
    phase: str,
    evaluations: Iterable[GateResult],
    waiting: Iterable[Waiting],
) -> tuple[Any, ...]:
    """Kind, stage, phase, every check's verdict and what is awaited."""
    return (
        kind,
        stage,
        phase,
        tuple((e.kind, e.label, e.verdict.value) for e in evaluations),
        tuple(w.detail for w in waiting),
    )


def _history(row: Any) -> HistoryEntry:
    return HistoryEntry(
        id=int(row.id),
        at=row.at,
        actor=row.actor,
        kind=row.kind,
        source=row.source,
        stage=row.stage,
        stage_index=int(row.stage_index),
        phase=row.phase,
        reason=row.reason,
        dry_run=bool(row.dry_run),
        evaluations=tuple(GateResult.model_validate(e) for e in row.evaluations),
        alerts=tuple(row.alerts),
        waiting=tuple(Waiting.model_validate(w) for w in row.waiting),
    )


def add_history(
    conn: Connection,
    rollout_id: int,
    *,
    at: datetime,
    actor: str,
    kind: str,
    source: str,
    state: RolloutState,
    stage: str,
    reason: str,
    dry_run: bool = False,
    evaluations: Sequence[GateResult] = (),
    alerts: Sequence[dict[str, Any]] = (),
    waiting: Sequence[Waiting] = (),
) -> None:
    """Append one decision (with every evaluation behind it) to the rollout's history."""
    conn.execute(
        insert(rollout_history).values(
            rollout_id=rollout_id,
            at=at,
            actor=actor,
            kind=kind,
            source=source,
            stage=stage,
            stage_index=state.stage,
            phase=state.phase.value,
            reason=reason,
            dry_run=dry_run,
            evaluations=[e.model_dump(mode="json") for e in evaluations],
            alerts=list(alerts),
            waiting=[w.model_dump(mode="json") for w in waiting],
        )
    )


def history(
    conn: Connection, rollout_id: int, *, limit: int | None = None, newest_first: bool = False
) -> list[HistoryEntry]:
    """The rollout's recorded decisions (oldest first unless ``newest_first``)."""
    order = rollout_history.c.id.desc() if newest_first or limit else rollout_history.c.id
    stmt = select(rollout_history).where(rollout_history.c.rollout_id == rollout_id).order_by(order)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = [_history(r) for r in conn.execute(stmt)]
    return rows if newest_first or limit is None else rows[::-1]
