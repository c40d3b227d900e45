"""Deduplication and grouping of alerts within a time window.

* Seed 001: alerts with the same SHA-256 of severity + message + trace id are
  sent once per window (300 s by default).
* Beyond the seed, like Alertmanager's ``group_by``: alerts that share a
  flag + rollout + rule are one group; a storm of similar failures becomes one
  alert. A more severe alert in an open group is sent at once (escalation).

Either way, when a window closes with occurrences held back, :meth:`flush`
returns one summary alert carrying the repeat count.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from phased.alerts.model import Alert


@dataclass
class _Window:
    opened_at: float
    length: float
    sent: Alert
    held: int = 0
    last: Alert | None = None

    def closed(self, now: float) -> bool:
        return now >= self.opened_at + self.length


class Deduplicator:
    """Decides, per alert, whether to send it now; time is passed in (seconds)."""

    def __init__(self, *, window_seconds: float = 300.0, group_window_seconds: float | None = None):
        self.window = window_seconds
        self.group_window = window_seconds if group_window_seconds is None else group_window_seconds
        self._open: dict[str, _Window] = {}
        self._closed: list[Alert] = []
        self._lock = threading.Lock()

    def _key(self, alert: Alert) -> tuple[str, float]:
        group = alert.group_key
        if group is not None:
            return "group:" + group, self.group_window
        return "hash:" + alert.dedup_key, self.window

    def _close_expired(self, now: float) -> None:
        for key in [k for k, w in self._open.items() if w.closed(now)]:
            window = self._open.pop(key)
            if window.held:
                base = window.last or window.sent
                self._closed.append(
                    base.model_copy(
                        update={"repeats": window.held, "window_seconds": window.length}
                    )
                )

    def admit(self, alert: Alert, now: float) -> bool:
        """True: send this alert now. False: held back and counted."""
        if alert.is_summary:
            return True
        key, length = self._key(alert)
        with self._lock:
            self._close_expired(now)
            window = self._open.get(key)
            if window is None:
                if length > 0:
                    self._open[key] = _Window(opened_at=now, length=length, sent=alert)
                return True
            if alert.severity.rank > window.sent.severity.rank:
                window.sent = alert  # escalation: never sit on a worse alert
                return True
            window.held += 1
            window.last = alert
            return False

    def flush(self, now: float) -> list[Alert]:
        """Summaries of the windows closed by ``now`` that held alerts back."""
        with self._lock:
            self._close_expired(now)
            closed, self._closed = self._closed, []
            return closed
