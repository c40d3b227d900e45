"""Where decided alerts wait for delivery: an in-memory queue, beside the protocol.

The protocol (:class:`AlertQueue`) and its records live in
:mod:`phased.store.alert_queue`, so the durable outbox table
(:mod:`phased.store.outbox`) implements it from the store; they are
importable from here too. The in-memory queue serves tests, ``phased alerts
test`` and embedding without a store, with the same claims and leases.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from datetime import datetime, timedelta

from phased.core.alerts import Alert
from phased.store.alert_queue import STATUSES, AlertQueue, DeliveryStatus, QueuedAlert

__all__ = ["STATUSES", "AlertQueue", "DeliveryStatus", "MemoryQueue", "QueuedAlert"]


class MemoryQueue:
    """A thread-safe in-process queue (lost with the process: not for production)."""

    def __init__(self) -> None:
        self._rows: dict[int, QueuedAlert] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def put(self, alert: Alert, *, now: datetime) -> int:
        """Queue an alert; returns its id."""
        stamped = alert if alert.created_at else alert.model_copy(update={"created_at": now})
        with self._lock:
            alert_id = next(self._ids)
            self._rows[alert_id] = QueuedAlert(
                id=alert_id,
                alert=stamped,
                status=DeliveryStatus.PENDING,
                attempts=0,
                channels_done=(),
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            return alert_id

    def claim(
        self, worker: str, *, now: datetime, limit: int, lease_seconds: float
    ) -> list[QueuedAlert]:
        """Claim up to ``limit`` due alerts for ``worker``."""
        until = now + timedelta(seconds=lease_seconds)
        claimed: list[QueuedAlert] = []
        with self._lock:
            for row in sorted(self._rows.values(), key=lambda r: (r.next_attempt_at, r.id)):
                if len(claimed) >= limit:
                    break
                free = row.claimed_until is None or row.claimed_until <= now
                if row.status is DeliveryStatus.PENDING and row.next_attempt_at <= now and free:
                    taken = replace(row, claimed_by=worker, claimed_until=until)
                    self._rows[row.id] = taken
                    claimed.append(taken)
        return claimed

    def renew(self, alert_id: int, *, worker: str, now: datetime, lease_seconds: float) -> bool:
        """Extend ``worker``'s live claim to ``now + lease``; False if it expired or was lost."""
        with self._lock:
            row = self._rows[alert_id]
            live = row.claimed_until is not None and row.claimed_until > now
            if row.claimed_by != worker or not live or row.status is not DeliveryStatus.PENDING:
                return False
            until = now + timedelta(seconds=lease_seconds)
            self._rows[alert_id] = replace(row, claimed_until=until)
            return True

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
        with self._lock:
            row = self._rows[alert_id]
            if row.claimed_by != worker or row.status is not DeliveryStatus.PENDING:
                return False
            self._rows[alert_id] = replace(
                row,
                status=status,
                attempts=attempts,
                channels_done=channels_done,
                next_attempt_at=next_attempt_at,
                last_error=last_error,
                updated_at=now,
                claimed_by=None,
                claimed_until=None,
            )
            return True

    def list(self, *, status: DeliveryStatus | None = None, limit: int = 100) -> list[QueuedAlert]:
        """Queued alerts, newest first."""
        with self._lock:
            rows = [r for r in self._rows.values() if status is None or r.status is status]
        return sorted(rows, key=lambda r: r.id, reverse=True)[:limit]
