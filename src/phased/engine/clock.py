"""Clocks for the engine: the wall clock, and a virtual one that moves only when told.

A :class:`VirtualClock` is also a store clock (``open_store(url,
clock=virtual)``), so decisions, audit entries and outcome windows all share
one timeline in tests and simulations.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the engine needs from time."""

    def now(self) -> datetime:
        """The current moment, timezone-aware."""

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Let ``seconds`` pass (or until ``stop`` is set); True when stopped."""


class RealClock:
    """The wall clock; waiting sleeps, and wakes at once when ``stop`` is set."""

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Sleep on the event."""
        return stop.wait(seconds)

    def __call__(self) -> datetime:
        return self.now()


class VirtualClock:
    """A clock that stands still until advanced; waiting advances it instantly."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 1, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("start: give a timezone-aware datetime")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The virtual moment."""
        with self._lock:
            return self._now

    def advance(self, by: float | timedelta) -> datetime:
        """Move time forward by seconds or a timedelta; returns the new moment."""
        delta = by if isinstance(by, timedelta) else timedelta(seconds=by)
        if delta < timedelta(0):
            raise ValueError(f"time only moves forward (got {delta})")
        with self._lock:
            self._now += delta
            return self._now

    def timestamp(self) -> float:
        """The virtual moment as Unix seconds (a tracker clock: ``Tracker(clock=...)``)."""
        return self.now().timestamp()

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Advance by ``seconds`` at once."""
        self.advance(seconds)
        return stop.is_set()

    def __call__(self) -> datetime:
        return self.now()
