"""The one clock contract of phased: a callable that returns an aware UTC datetime.

The store, the engine, the alert worker and the traces all take a
:data:`Clock`; the wall clock is :func:`utc_now`, and :class:`VirtualClock`
stands still until advanced, so a test or a simulation runs decisions, audit
entries and outcome windows on one timeline (``open_store(url, clock=virtual)``,
``Engine(store, clock=virtual)``).

The evaluation hot path compares override expiry with epoch seconds and
cannot afford a datetime per call: it takes an :data:`EpochClock`, and
:func:`epoch_of` turns any ``Clock`` into one (``time.time`` for the wall
clock itself).

This is the one module of the core that touches time: the rest of the core
takes ``now`` as a value, and may import only the two type names from here
(``tests/core/test_purity.py``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
"""The current moment, timezone-aware UTC."""

EpochClock = Callable[[], float]
"""Seconds since the epoch: the evaluation hot path's and the outcome tracker's clock."""


def utc_now() -> datetime:
    """The wall clock (the default :data:`Clock` everywhere)."""
    return datetime.now(UTC)


def epoch_of(clock: Clock) -> EpochClock:
    """``clock`` in epoch seconds: ``time.time`` for the wall clock, or ``clock().timestamp()``."""
    if clock is utc_now:
        return time.time
    return lambda: clock().timestamp()


class VirtualClock:
    """A :data:`Clock` that stands still until advanced (tests, simulations, replays).

    Waiting on it (``phased.engine.clock.wait``) advances it at once, so an engine loop
    on virtual time runs as fast as it can decide.
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 1, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("start: give a timezone-aware datetime")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The virtual moment (the same as calling the clock)."""
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
        """The virtual moment as epoch seconds (an :data:`EpochClock`: ``Tracker(clock=...)``)."""
        return self.now().timestamp()

    def __call__(self) -> datetime:
        return self.now()
