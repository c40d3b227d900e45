"""The durable alert outbox: alerts written in the same transaction as the decision.

The service layer calls :func:`enqueue` inside the transaction that records a
decision, so the alert exists exactly when the decision does — a rolled-back
decision leaves no alert, a committed one cannot lose its alert. The
:class:`Outbox` is the worker's side: it claims due rows with a lease, so two
workers (even on two hosts) never deliver one alert at the same time, and an
alert claimed by a worker that died is picked up again when the lease ends.

Works on SQLite and PostgreSQL. A claim is a conditional ``UPDATE`` that only
succeeds on a row nobody holds, which both databases apply atomically; on
PostgreSQL the candidate rows are also selected ``FOR UPDATE SKIP LOCKED`` so
competing workers do not queue behind each other.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from phased.core.alerts import Alert
from phased.core.clock import utc_now
from phased.store.alert_queue import STATUSES, DeliveryStatus, QueuedAlert
from phased.store.tables_alerts import alert_outbox

__all__ = ["STATUSES", "Outbox", "enqueue"]


def enqueue(connection: Connection | Session, alert: Alert, *, now: datetime | None = None) -> int:
    """Add ``alert`` to the outbox inside the caller's transaction; returns its id.

    Args:
        connection: the open transaction of the decision (a Connection or a Session).
        alert: what to send; ``created_at`` is set to ``now`` when missing.
        now: the decision's time (the store clock); the wall clock when None.
    """
    at = now or utc_now()
    stamped = alert if alert.created_at else alert.model_copy(update={"created_at": at})
    statement = (
        insert(alert_outbox)
        .values(
            status=DeliveryStatus.PENDING.value,
            severity=stamped.severity.value,
            message=stamped.message,
            flag=stamped.flag,
            rollout=stamped.rollout,
            dedup_key=stamped.dedup_key,
            group_key=stamped.group_key,
            alert=stamped.model_dump(mode="json"),
            attempts=0,
            channels_done=[],
            next_attempt_at=at,
            created_at=at,
            updated_at=at,
        )
        .returning(alert_outbox.c.id)
    )
    return int(connection.execute(statement).scalar_one())


def _row(row: Any) -> QueuedAlert:
    return QueuedAlert(
        id=int(row.id),
        alert=Alert.model_validate(row.alert),
        status=DeliveryStatus(row.status),
        attempts=int(row.attempts),
        channels_done=tuple(row.channels_done or ()),
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_error=row.last_error,
        claimed_by=row.claimed_by,
        claimed_until=row.claimed_until,
    )


class Outbox:
    """The worker's view of the outbox table (a :class:`~phased.store.alert_queue.AlertQueue`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _write(self) -> Any:
        conn = self.engine.connect()
        # On SQLite this makes the store's begin hook issue BEGIN IMMEDIATE, so a
        # claim never has to upgrade a read lock (which can fail with "busy").
        conn.execution_options(phased_write=True)
        return conn

    def put(self, alert: Alert, *, now: datetime) -> int:
        """Queue an alert in its own transaction (dedup summaries, `alerts test`)."""
        with self._write() as conn, conn.begin():
            return enqueue(conn, alert, now=now)

    def claim(
        self, worker: str, *, now: datetime, limit: int, lease_seconds: float
    ) -> list[QueuedAlert]:
        """Claim up to ``limit`` due alerts for ``worker`` until ``now + lease``."""
        t = alert_outbox.c
        free = or_(t.claimed_until.is_(None), t.claimed_until <= now)
        due = and_(t.status == DeliveryStatus.PENDING.value, t.next_attempt_at <= now, free)
        with self._write() as conn, conn.begin():
            candidates = select(t.id).where(due).order_by(t.next_attempt_at, t.id).limit(limit)
            if conn.dialect.name == "postgresql":
                candidates = candidates.with_for_update(skip_locked=True)
            ids = [int(i) for i in conn.execute(candidates).scalars()]
            claimed: list[int] = []
            until = now + timedelta(seconds=lease_seconds)
            for alert_id in ids:
                taken = conn.execute(
                    update(alert_outbox)
                    .where(t.id == alert_id, due)
                    .values(claimed_by=worker, claimed_until=until)
                )
                if taken.rowcount == 1:
                    claimed.append(alert_id)
            if not claimed:
                return []
            rows = conn.execute(select(alert_outbox).where(t.id.in_(claimed)).order_by(t.id))
            by_id = {r.id: _row(r) for r in rows}
        return [by_id[i] for i in claimed]

    def renew(self, alert_id: int, *, worker: str, now: datetime, lease_seconds: float) -> bool:
        """Extend ``worker``'s claim to ``now + lease`` if it is still live; False otherwise.

        The fence before every post: a claim that expired (another worker may
        hold the row now) is never extended, so no post starts on it.
        """
        t = alert_outbox.c
        with self._write() as conn, conn.begin():
            result = conn.execute(
                update(alert_outbox)
                .where(
                    t.id == alert_id,
                    t.claimed_by == worker,
                    t.claimed_until > now,
                    t.status == DeliveryStatus.PENDING.value,
                )
                .values(claimed_until=now + timedelta(seconds=lease_seconds))
            )
            return bool(result.rowcount == 1)

    def settle(
        self,
        alert_id: int,
        *,
        worker: str,
        status: DeliveryStatus,
        attempts: int,
        channels_done: tuple[str, ...],
        next_attempt_at: datetime,
        last_error: str | None,
        now: datetime,
    ) -> bool:
        """Record the outcome and release the claim; False if the claim was lost."""
        t = alert_outbox.c
        with self._write() as conn, conn.begin():
            result = conn.execute(
                update(alert_outbox)
                .where(
                    t.id == alert_id,
                    t.claimed_by == worker,
                    t.status == DeliveryStatus.PENDING.value,
                )
                .values(
                    status=status.value,
                    attempts=attempts,
                    channels_done=list(channels_done),
                    next_attempt_at=next_attempt_at,
                    last_error=last_error,
                    updated_at=now,
                    delivered_at=now if status is DeliveryStatus.DELIVERED else None,
                    claimed_by=None,
                    claimed_until=None,
                )
            )
            return bool(result.rowcount == 1)

    def get(self, alert_id: int) -> QueuedAlert | None:
        """One queued alert, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(alert_outbox).where(alert_outbox.c.id == alert_id)).first()
            conn.rollback()
        return None if row is None else _row(row)

    def list(self, *, status: DeliveryStatus | None = None, limit: int = 100) -> list[QueuedAlert]:
        """Queued alerts, newest first."""
        query = select(alert_outbox).order_by(alert_outbox.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(alert_outbox.c.status == status.value)
        with self.engine.connect() as conn:
            rows = [_row(r) for r in conn.execute(query)]
            conn.rollback()
        return rows

    def counts(self) -> dict[str, int]:
        """How many alerts are in each status."""
        query = select(alert_outbox.c.status, func.count()).group_by(alert_outbox.c.status)
        with self.engine.connect() as conn:
            found = {str(s): int(n) for s, n in conn.execute(query)}
            conn.rollback()
        return {status: found.get(status, 0) for status in STATUSES}
