"""Outcome rollups as stored: one row per (rollout, stage run, arm), read back whole.

The rows are a cache of the windows (:mod:`phased.store.tables_rollups`);
:mod:`phased.service.rollups` decides when to move them and what they hold.
A run is only trusted when both arms are stored and sealed to the same slot,
so a half-written pair reads as no rollup at all and the windows are read instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from phased.core.outcomes import Aggregate, Arm, slot_of
from phased.core.rollout_state import StageRun
from phased.store.tables_rollups import outcome_rollups


@dataclass(slots=True)
class Rollup:
    """One stage run's windows of both arms, merged from ``first_slot`` to ``sealed_slot``."""

    flag: str
    environment: str
    stage: str
    first_slot: int
    sealed_slot: int
    arms: dict[Arm, Aggregate]

    def covers(self, flag: str, run: StageRun, last_slot: int) -> bool:
        """Whether this rollup is a prefix of ``run``'s windows (else read them all)."""
        return (
            (self.flag, self.environment, self.stage) == (flag, run.environment, run.stage)
            and self.first_slot == slot_of(run.started_at.timestamp())
            and self.sealed_slot <= last_slot
        )


@dataclass(frozen=True, slots=True)
class SealedArm:
    """One stored arm of one run's rollup, its aggregate still as stored."""

    rollout_id: int
    run: int
    arm: str
    flag: str
    environment: str
    stage: str
    first_slot: int
    sealed_slot: int
    data: dict[str, Any]
    """``Aggregate.to_dict()``; parsed by :meth:`aggregate` only when a late window touches it."""

    def aggregate(self) -> Aggregate:
        """The stored aggregate, as a fresh object the caller may merge into."""
        return Aggregate.from_dict(self.data)


def load(conn: Connection, rollout_id: int) -> dict[int, Rollup]:
    """The rollout's complete rollups by run index (a run missing an arm has none)."""
    r = outcome_rollups.c
    rows = conn.execute(select(outcome_rollups).where(r.rollout_id == rollout_id)).all()
    found: dict[int, Rollup] = {}
    broken: set[int] = set()
    for row in rows:
        run = int(row.run)
        rollup = found.get(run)
        if rollup is None:
            rollup = found[run] = Rollup(
                row.flag, row.environment, row.stage, row.first_slot, row.sealed_slot, {}
            )
        elif rollup.sealed_slot != row.sealed_slot:
            broken.add(run)
        rollup.arms[Arm(row.arm)] = Aggregate.from_dict(row.data)
    return {
        run: rollup
        for run, rollup in found.items()
        if run not in broken and set(rollup.arms) == set(Arm)
    }


def replace(conn: Connection, rollout_id: int, run: int, rollup: Rollup, now: datetime) -> None:
    """Store ``rollup`` as run ``run`` of the rollout, both arms in one write."""
    r = outcome_rollups.c
    conn.execute(delete(outcome_rollups).where(r.rollout_id == rollout_id, r.run == run))
    conn.execute(
        insert(outcome_rollups),
        [
            {
                "rollout_id": rollout_id,
                "run": run,
                "arm": arm.value,
                "flag": rollup.flag,
                "environment": rollup.environment,
                "stage": rollup.stage,
                "first_slot": rollup.first_slot,
                "sealed_slot": rollup.sealed_slot,
                "requests": agg.requests,
                "errors": agg.errors,
                "data": agg.to_dict(),
                "updated_at": now,
            }
            for arm, agg in rollup.arms.items()
        ],
    )


def sealed_past(conn: Connection, pairs: Iterable[tuple[str, str]], oldest: int) -> list[SealedArm]:
    """Every stored arm of the (flag, environment) ``pairs`` sealed at or after slot ``oldest``.

    These are the rollups a late window of those pairs may belong to; one query for a batch.
    """
    r = outcome_rollups.c
    where = or_(*(and_(r.flag == flag, r.environment == env) for flag, env in sorted(pairs)))
    rows = conn.execute(select(outcome_rollups).where(where, r.sealed_slot >= oldest)).all()
    return [
        SealedArm(
            rollout_id=row.rollout_id,
            run=row.run,
            arm=row.arm,
            flag=row.flag,
            environment=row.environment,
            stage=row.stage,
            first_slot=row.first_slot,
            sealed_slot=row.sealed_slot,
            data=row.data,
        )
        for row in rows
    ]


def update_arm(conn: Connection, sealed: SealedArm, total: Aggregate, now: datetime) -> None:
    """Overwrite one stored arm's aggregate (its sealed slot stays)."""
    r = outcome_rollups.c
    conn.execute(
        update(outcome_rollups)
        .where(r.rollout_id == sealed.rollout_id, r.run == sealed.run, r.arm == sealed.arm)
        .values(requests=total.requests, errors=total.errors, data=total.to_dict(), updated_at=now)
    )
