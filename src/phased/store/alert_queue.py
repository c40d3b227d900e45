"""The alert queue protocol: what the alert worker needs from wherever alerts wait.

Two queues implement it: the outbox table (:mod:`phased.store.outbox`, durable)
and :class:`~phased.alerts.queue.MemoryQueue` (tests, ``phased alerts test``,
embedding without a store). Both hand out *claims*: a worker owns a claimed
alert until its lease ends, so two workers never deliver one alert at the
same time, and an alert claimed by a worker that died is picked up again
when the lease runs out. The protocol lives here, below the alerts package,
so the store's outbox can implement it without importing upward.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from phased.core.alerts import Alert


class DeliveryStatus(StrEnum):
    """Where one queued alert stands."""

    PENDING = "pending"  # waiting for its first or next attempt
    DELIVERED = "delivered"  # every routed channel accepted it
    FAILED = "failed"  # retries exhausted or refused for good; shown by `alerts list --failed`
    SUPPRESSED = "suppressed"  # a duplicate inside its dedup window; counted in the summary
    SKIPPED = "skipped"  # ENABLE_ALERTS was off, or no channel takes this severity

    @property
    def is_terminal(self) -> bool:
        """Whether the worker is done with it."""
        return self is not DeliveryStatus.PENDING


STATUSES = tuple(status.value for status in DeliveryStatus)
"""Every delivery status, in the order counts and filters list them."""


@dataclass(frozen=True, slots=True)
class QueuedAlert:
    """One alert in a queue, with its delivery state."""

    id: int
    alert: Alert
    status: DeliveryStatus
    attempts: int
    channels_done: tuple[str, ...]
    next_attempt_at: datetime
    created_at: datetime
    updated_at: datetime
    last_error: str | None = None
    claimed_by: str | None = None
    claimed_until: datetime | None = None


class AlertQueue(Protocol):
    """What the worker needs from a queue."""

    def put(self, alert: Alert, *, now: datetime) -> int:
        """Queue an alert; returns its id."""
        ...

    def claim(
        self, worker: str, *, now: datetime, limit: int, lease_seconds: float
    ) -> list[QueuedAlert]:
        """Claim up to ``limit`` due alerts for ``worker`` until ``now + lease``."""
        ...

    def renew(self, alert_id: int, *, worker: str, now: datetime, lease_seconds: float) -> bool:
        """Extend ``worker``'s live claim to ``now + lease``; False if it expired or was lost."""
        ...

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
        ...

    def list(self, *, status: DeliveryStatus | None = None, limit: int = 100) -> list[QueuedAlert]:
        """Queued alerts, newest first."""
        ...
