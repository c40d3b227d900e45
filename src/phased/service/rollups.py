"""Outcome rollups: what the engine reads instead of every window of a long stage.

A stage run counts the outcome windows labelled with its stage (or with no
stage) from the slot it started in to the slot it ended in (or now). A 7-day
stage is 60,480 slots per arm; reading them all on every pass is what this
module avoids. :func:`seal` merges each run's windows up to a *sealed* slot
into one row per arm (``outcome_rollups``), and the engine then reads that row
plus the windows after it (:func:`phased.service.outcomes.observations`).

Windows keep arriving after their slot (a process flushes every few seconds,
a retried batch minutes later), so only slots older than a lateness horizon
(``PHASED_ROLLUP_LATENESS_SECONDS``, 5 minutes by default) are sealed. A batch
that arrives later still, for an already sealed slot, is merged into the
rollups too, in the transaction that stores it (:func:`absorb`): the rollup
plus the recent windows always equal a full read of the windows.

Rollups are a cache and write no audit entry; deleting them only makes the
next pass read the windows again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from phased.core.outcomes import Aggregate, Arm, OutcomeKey, slot_of
from phased.core.rollout_state import StageRun
from phased.store import outcomes as windows_repo
from phased.store import rollups as repo
from phased.store.engine import Store
from phased.store.rollups import Rollup, load

DEFAULT_LATENESS = timedelta(minutes=5)
SEAL_STEP_SLOTS = 6
"""Seal a running stage once a minute's slots are sealable: one small write a minute, not a pass."""
SEAL_CHUNK_SLOTS = 2_160
"""Six hours of slots per write transaction, so catching up on a week never blocks ingest long."""


def slot_range(run: StageRun, now: datetime) -> tuple[int, int]:
    """The first and last slot a stage run counts (both included)."""
    end = run.ended_at or now
    return slot_of(run.started_at.timestamp()), slot_of(end.timestamp())


def merge_windows(
    conn: Connection,
    flag: str,
    run: StageRun,
    *,
    first: int,
    last: int,
    into: Mapping[Arm, Aggregate],
) -> int:
    """Merge ``run``'s windows in slots ``first..last`` into ``into``; returns how many."""
    return windows_repo.merge_stage_windows(
        conn, flag, run.environment, run.stage, first=first, last=last, into=into
    )


@dataclass(frozen=True, slots=True)
class SealReport:
    """What one :func:`seal` call did."""

    runs: int = 0
    """Stage runs whose rollup moved forward."""
    windows: int = 0
    """Windows read to move them."""


def seal(
    store: Store,
    rollouts: Iterable[tuple[int, str, Sequence[StageRun]]],
    now: datetime,
    *,
    lateness: timedelta = DEFAULT_LATENESS,
) -> SealReport:
    """Move each stage run's rollup up to the last slot older than ``lateness``.

    Args:
        rollouts: (rollout id, flag, stage runs) of the rollouts to keep rolled up.
        now: the engine's moment; slots ending after ``now - lateness`` stay raw.
    """
    horizon = slot_of((now - lateness).timestamp())  # slots before this one are sealable
    runs = windows = 0
    for rollout_id, flag, stage_runs in rollouts:
        with store.read() as conn:
            existing = load(conn, rollout_id)
        for index, run in enumerate(stage_runs):
            first, last = slot_range(run, now)
            target = min(last, horizon - 1)
            rollup = existing.get(index)
            sealed = rollup.sealed_slot if rollup and rollup.covers(flag, run, last) else first - 1
            if target <= sealed:
                continue
            if rollup is not None and target < last and target - sealed < SEAL_STEP_SLOTS:
                continue
            ref = _RunRef(rollout_id, index, flag, run)
            windows += _seal_run(store, ref, sealed=sealed, target=target, now=now)
            runs += 1
    return SealReport(runs, windows)


@dataclass(frozen=True, slots=True)
class _RunRef:
    rollout_id: int
    index: int
    flag: str
    run: StageRun


def _seal_run(store: Store, ref: _RunRef, *, sealed: int, target: int, now: datetime) -> int:
    first = slot_of(ref.run.started_at.timestamp())
    count = 0
    while sealed < target:
        upto = min(target, sealed + SEAL_CHUNK_SLOTS)
        with store.write() as conn:
            # Re-read under the write lock: whatever is stored is what the windows add to.
            current = load(conn, ref.rollout_id).get(ref.index)
            if current is not None and current.covers(ref.flag, ref.run, target):
                arms, start = current.arms, current.sealed_slot + 1
            else:
                arms, start = {Arm.CANDIDATE: Aggregate(), Arm.CONTROL: Aggregate()}, first
            if start > upto:
                return count
            count += merge_windows(conn, ref.flag, ref.run, first=start, last=upto, into=arms)
            rollup = Rollup(ref.flag, ref.run.environment, ref.run.stage, first, upto, arms)
            repo.replace(conn, ref.rollout_id, ref.index, rollup, now)
        sealed = upto
    return count


def absorb(conn: Connection, windows: Mapping[OutcomeKey, Aggregate], now: datetime) -> int:
    """Merge late windows into every rollup already sealed past their slot; returns how many.

    Called by ingest in its own transaction, so a batch arriving after its
    slot was sealed is counted exactly once, like any other.
    """
    if not windows:
        return 0
    oldest = min(key.slot for key in windows)
    pairs = {(key.flag, key.environment) for key in windows}
    touched = 0
    for row in repo.sealed_past(conn, pairs, oldest):
        total: Aggregate | None = None
        for key, agg in windows.items():
            if (
                (key.flag, key.environment, key.arm.value) == (row.flag, row.environment, row.arm)
                and key.stage in (row.stage, "")
                and row.first_slot <= key.slot <= row.sealed_slot
            ):
                if total is None:
                    total = row.aggregate()
                total.merge(agg)
        if total is None:
            continue
        repo.update_arm(conn, row, total, now)
        touched += 1
    return touched
