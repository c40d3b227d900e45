"""The one clock contract: aware UTC datetimes, a virtual clock, and epoch seconds for the hot path."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from phased.core.clock import VirtualClock, epoch_of, utc_now


class TestVirtualClock:
    """Virtual time stands still, advances on demand, and never goes back."""

    def test_advance(self) -> None:
        clock = VirtualClock(datetime(2026, 1, 1, tzinfo=UTC))
        assert clock() == clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
        clock.advance(timedelta(minutes=5))
        assert clock.advance(60) == datetime(2026, 1, 1, 0, 6, tzinfo=UTC)
        assert clock() == datetime(2026, 1, 1, 0, 6, tzinfo=UTC)
        assert clock.timestamp() == datetime(2026, 1, 1, 0, 6, tzinfo=UTC).timestamp()

    def test_refuses_going_back_and_naive_starts(self) -> None:
        with pytest.raises(ValueError, match="only moves forward"):
            VirtualClock().advance(-1)
        with pytest.raises(ValueError, match="timezone-aware"):
            VirtualClock(datetime(2026, 1, 1))


class TestWallClock:
    """The wall clock is aware UTC."""

    def test_utc_now_is_aware(self) -> None:
        assert utc_now().tzinfo is UTC


class TestEpochOf:
    """Any clock read in epoch seconds; the wall clock itself is ``time.time``, no datetime."""

    def test_wall_clock_is_time_time(self) -> None:
        assert epoch_of(utc_now) is time.time

    def test_other_clocks_follow_their_moment(self) -> None:
        clock = VirtualClock(datetime(2026, 1, 1, tzinfo=UTC))
        epoch = epoch_of(clock)
        clock.advance(90)
        assert epoch() == datetime(2026, 1, 1, 0, 1, 30, tzinfo=UTC).timestamp()
