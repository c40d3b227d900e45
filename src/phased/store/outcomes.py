"""Outcome windows and the batch ids that keep ingest idempotent.

One ``outcome_windows`` row per (flag, environment, arm, stage, slot) holds
the merged :class:`~phased.core.outcomes.Aggregate` of every window shipped
for it; ``outcome_batches`` remembers which batch ids were already counted.
Written only through :mod:`phased.service.outcomes` (and the correction
window of :mod:`phased.service.compare`), always under the store's write lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from phased.core.outcomes import Aggregate, Arm, OutcomeKey, slot_of
from phased.store.tables_rollouts import outcome_batches, outcome_windows


def batch_seen(conn: Connection, batch_id: str) -> bool:
    """Whether a batch with this id was already counted (a retry must not count twice)."""
    row = conn.execute(select(outcome_batches.c.id).where(outcome_batches.c.id == batch_id)).first()
    return row is not None


def remember_batch(conn: Connection, batch_id: str, windows: int, now: datetime) -> None:
    """Keep the batch id, in the transaction that counted its windows."""
    conn.execute(insert(outcome_batches).values(id=batch_id, windows=windows, received_at=now))


def forget_batches(conn: Connection, older_than: datetime) -> int:
    """Drop batch ids received before ``older_than``; returns how many."""
    result = conn.execute(delete(outcome_batches).where(outcome_batches.c.received_at < older_than))
    return int(result.rowcount or 0)


def merge_window(conn: Connection, key: OutcomeKey, agg: Aggregate, now: datetime) -> None:
    """Add ``agg`` to the stored window of ``key`` (creating it).

    Callers hold the store's write lock, so the read-merge-write cannot interleave.
    """
    t = outcome_windows.c
    where = and_(
        t.flag == key.flag,
        t.environment == key.environment,
        t.arm == key.arm.value,
        t.stage == key.stage,
        t.slot == key.slot,
    )
    row = conn.execute(select(t.data).where(where)).first()
    if row is None:
        conn.execute(
            insert(outcome_windows).values(
                **key.to_dict(),
                requests=agg.requests,
                errors=agg.errors,
                data=agg.to_dict(),
                updated_at=now,
            )
        )
        return
    total = Aggregate.from_dict(row.data)
    total.merge(agg)
    conn.execute(
        update(outcome_windows)
        .where(where)
        .values(requests=total.requests, errors=total.errors, data=total.to_dict(), updated_at=now)
    )


def totals(
    conn: Connection,
    flag: str,
    environment: str,
    *,
    stages: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[Arm, Aggregate]:
    """Both arms' outcomes of ``flag`` in ``environment``, merged over the matching windows.

    Args:
        stages: only windows labelled with one of these stages (None: any label).
        since: windows whose 10-second slot contains or follows this moment.
        until: windows whose slot starts at or before this moment.
    """
    t = outcome_windows.c
    stmt = select(t.arm, t.data).where(t.flag == flag, t.environment == environment)
    if stages is not None:
        stmt = stmt.where(t.stage.in_(list(stages)))
    if since is not None:
        stmt = stmt.where(t.slot >= slot_of(since.timestamp()))
    if until is not None:
        stmt = stmt.where(t.slot <= slot_of(until.timestamp()))
    out = {Arm.CANDIDATE: Aggregate(), Arm.CONTROL: Aggregate()}
    for row in conn.execute(stmt):
        out[Arm(row.arm)].merge(Aggregate.from_dict(row.data))
    return out


def merge_stage_windows(
    conn: Connection,
    flag: str,
    environment: str,
    stage: str,
    *,
    first: int,
    last: int,
    into: Mapping[Arm, Aggregate],
) -> int:
    """Merge the windows a run of ``stage`` counts in slots ``first..last``; returns how many.

    A run counts windows labelled with its stage and unlabelled ones (an
    application that does not say which stage it is in).
    """
    if last < first:
        return 0
    t = outcome_windows.c
    stmt = select(t.arm, t.data).where(
        t.flag == flag,
        t.environment == environment,
        t.stage.in_([stage, ""]),
        t.slot >= first,
        t.slot <= last,
    )
    count = 0
    for row in conn.execute(stmt):
        into[Arm(row.arm)].merge(Aggregate.from_dict(row.data))
        count += 1
    return count


def last_traffic_slot(conn: Connection, flag: str, arm: Arm | None = None) -> int | None:
    """The newest slot with any request for ``flag`` (on ``arm`` only, when given)."""
    t = outcome_windows.c
    query = select(func.max(t.slot)).where(t.flag == flag, t.requests > 0)
    if arm is not None:
        query = query.where(t.arm == arm.value)
    slot = conn.execute(query).scalar_one_or_none()
    return None if slot is None else int(slot)
