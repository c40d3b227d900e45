"""Waiting between engine passes: a virtual clock moves by the wait, the wall clock sleeps."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from phased.core.clock import VirtualClock, utc_now
from phased.engine.clock import wait


class TestWait:
    """A wait advances virtual time at once; a real wait wakes at once when stopped."""

    def test_virtual_wait_advances(self) -> None:
        clock = VirtualClock(datetime(2026, 1, 1, tzinfo=UTC))
        assert not wait(clock, 60, threading.Event())
        assert clock() == datetime(2026, 1, 1, 0, 1, tzinfo=UTC)

    def test_virtual_wait_says_when_stopped(self) -> None:
        stop = threading.Event()
        stop.set()
        assert wait(VirtualClock(), 60, stop)

    def test_real_wait_wakes_when_stopped(self) -> None:
        stop = threading.Event()
        stop.set()
        assert wait(utc_now, 60, stop)
