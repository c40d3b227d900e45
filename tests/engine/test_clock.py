"""The engine's clocks: the virtual one moves only when told, and waiting moves it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from phased.engine.clock import RealClock, VirtualClock


class TestVirtualClock:
    """Virtual time stands still, advances on demand, and never goes back."""

    def test_advance_and_wait(self) -> None:
        clock = VirtualClock(datetime(2026, 1, 1, tzinfo=UTC))
        assert clock() == clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
        clock.advance(timedelta(minutes=5))
        assert not clock.wait(60, threading.Event())
        assert clock.now() == datetime(2026, 1, 1, 0, 6, tzinfo=UTC)
        assert clock.timestamp() == datetime(2026, 1, 1, 0, 6, tzinfo=UTC).timestamp()

    def test_refuses_going_back_and_naive_starts(self) -> None:
        with pytest.raises(ValueError, match="only moves forward"):
            VirtualClock().advance(-1)
        with pytest.raises(ValueError, match="timezone-aware"):
            VirtualClock(datetime(2026, 1, 1))


class TestRealClock:
    """The real clock is aware and wakes at once when stopped."""

    def test_now_and_stop(self) -> None:
        clock = RealClock()
        assert clock.now().tzinfo is not None
        stop = threading.Event()
        stop.set()
        assert clock.wait(60, stop)
