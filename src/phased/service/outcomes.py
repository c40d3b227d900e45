"""Outcome windows: ingesting batches idempotently, and the totals the engine judges.

Applications ship closed windows in batches, each with an id. A batch whose id
was already stored is ignored (a retried post is never counted twice); the
others are merged into ``outcome_windows`` per (flag, environment, arm, stage,
slot) in one transaction, together with the batch id. Ingesting writes
measurements, not decisions, so it leaves no audit entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from phased.core.gates import Observations, StageOutcomes
from phased.core.outcomes import Aggregate, Arm, OutcomeKey
from phased.core.rollout_state import StageRun
from phased.errors import ValidationError
from phased.service import rollups
from phased.store import outcomes as repo
from phased.store import rollups as rollups_repo
from phased.store.engine import Store
from phased.store.outcomes import totals

__all__ = [
    "MAX_BATCH_WINDOWS",
    "MAX_COUNT",
    "MAX_SLOT",
    "IngestResult",
    "Window",
    "check_batch_id",
    "forget_batches",
    "ingest",
    "observations",
    "read_totals",
    "run_outcomes",
    "totals",
]

Window = tuple[OutcomeKey, Aggregate]
_BATCH_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
MAX_BATCH_WINDOWS = 10_000


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one ingest did."""

    batch_id: str
    windows: int
    duplicate: bool
    """True when the batch id was already stored: nothing was counted again."""


def check_batch_id(batch_id: str) -> str:
    """1-64 characters of letters, digits and ``._:-`` (a UUID fits)."""
    if not isinstance(batch_id, str) or not _BATCH_ID.match(batch_id):
        raise ValidationError(
            f"must be 1-64 letters, digits or ._:- (got {batch_id!r}); a UUID works",
            field="batch_id",
        )
    return batch_id


MAX_SLOT = 2**40
"""Unix time // 10 stays below this until the year 350,000."""
MAX_COUNT = 2**53 - 1
"""Counts above this lose precision as JSON numbers and could overflow the columns when merged."""


def _check_window(index: int, key: OutcomeKey, agg: Aggregate) -> None:
    where = f"windows[{index}]"
    if not key.flag or len(key.flag) > 64 or not key.environment or len(key.environment) > 64:
        raise ValidationError(
            f"flag and environment must be 1-64 characters (got {key.flag!r}, {key.environment!r})",
            field=where,
        )
    if len(key.stage) > 64:
        raise ValidationError(f"stage is longer than 64 characters: {key.stage!r}", field=where)
    if agg.requests < 0 or not 0 <= agg.errors <= agg.requests:
        raise ValidationError(
            f"need 0 <= errors <= requests (got {agg.errors} of {agg.requests})", field=where
        )
    # The columns are 64-bit integers: anything larger is a corrupt sender, not traffic.
    if not 0 <= key.slot <= MAX_SLOT:
        raise ValidationError(
            f"slot must be unix time // 10, between 0 and {MAX_SLOT} (got {key.slot})",
            field=f"{where}.key.slot",
        )
    if agg.requests > MAX_COUNT:
        raise ValidationError(
            f"at most {MAX_COUNT} requests per window (got {agg.requests})", field=where
        )


def ingest(store: Store, batch_id: str, windows: Sequence[Window]) -> IngestResult:
    """Merge one batch of windows into the store, once.

    Args:
        batch_id: the sender's id for this batch; resending the same id is a no-op.
        windows: (key, aggregate) pairs; the same key twice in a batch is merged.

    Raises:
        ValidationError: a malformed batch id or window (nothing is stored).
    """
    check_batch_id(batch_id)
    if len(windows) > MAX_BATCH_WINDOWS:
        raise ValidationError(
            f"at most {MAX_BATCH_WINDOWS:,} windows per batch (got {len(windows):,}); "
            "send several batches",
            field="windows",
        )
    merged: dict[OutcomeKey, Aggregate] = {}
    for i, (key, agg) in enumerate(windows):
        _check_window(i, key, agg)
        if key in merged:
            merged[key].merge(agg)
        else:
            merged[key] = Aggregate.merged([agg])
    with store.write() as conn:
        now = store.clock()
        if repo.batch_seen(conn, batch_id):
            return IngestResult(batch_id, 0, duplicate=True)
        for key, agg in sorted(merged.items()):
            repo.merge_window(conn, key, agg, now)
        rollups.absorb(conn, merged, now)
        repo.remember_batch(conn, batch_id, len(merged), now)
    return IngestResult(batch_id, len(merged), duplicate=False)


def forget_batches(store: Store, older_than: datetime) -> int:
    """Drop remembered batch ids received before ``older_than``; returns how many.

    A sender retries for minutes, not days: ids older than that cannot come back.
    """
    with store.write() as conn:
        return repo.forget_batches(conn, older_than)


# -- reading totals -------------------------------------------------------------------


def read_totals(
    store: Store,
    flag: str,
    environment: str,
    *,
    stages: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[Arm, Aggregate]:
    """:func:`totals` in a read transaction of its own."""
    with store.read() as conn:
        return totals(conn, flag, environment, stages=stages, since=since, until=until)


def run_outcomes(
    conn: Connection,
    flag: str,
    run: StageRun,
    now: datetime,
    *,
    rollup: rollups_repo.Rollup | None = None,
) -> StageOutcomes:
    """What was measured during one stage run.

    Windows count when they carry the stage's name, or no stage at all (an
    application that does not label its outcomes), and fall within the run.

    Args:
        rollup: the run's windows merged up to a sealed slot; only the windows
            after it are read (the result is the same as reading all of them).
    """
    end = run.ended_at or now
    first, last = rollups.slot_range(run, now)
    if rollup is not None and rollup.covers(flag, run, last):
        arms = rollup.arms
        first = rollup.sealed_slot + 1
    else:
        arms = {Arm.CANDIDATE: Aggregate(), Arm.CONTROL: Aggregate()}
    rollups.merge_windows(conn, flag, run, first=first, last=last, into=arms)
    return StageOutcomes(
        stage=run.stage,
        environment=run.environment,
        candidate=arms[Arm.CANDIDATE],
        control=arms[Arm.CONTROL],
        elapsed_seconds=max((end - run.started_at) / timedelta(seconds=1), 0.0),
    )


def observations(
    conn: Connection,
    flag: str,
    runs: Sequence[StageRun],
    now: datetime,
    *,
    rollout_id: int | None = None,
) -> Observations:
    """The ``metrics`` argument of ``decide``: the open stage run and the ones before it.

    Args:
        rollout_id: the rollout the runs belong to; its rollups (when sealed)
            replace reading every window (:mod:`phased.service.rollups`).
    """
    if not runs:
        return Observations()
    sealed = rollups_repo.load(conn, rollout_id) if rollout_id is not None else {}
    measured = [
        run_outcomes(conn, flag, run, now, rollup=sealed.get(i)) for i, run in enumerate(runs)
    ]
    if runs[-1].ended_at is None:
        return Observations(current=measured[-1], earlier=tuple(measured[:-1]))
    return Observations(current=None, earlier=tuple(measured))
