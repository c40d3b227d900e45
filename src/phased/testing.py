"""Fakes that phased ships for its users' tests (and its own).

``FrozenClock`` stands still until told to move (a virtual clock read in epoch
seconds); ``MemorySink`` keeps the outcome windows a client flushes, merged per
window key.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from phased.core.clock import VirtualClock
from phased.core.outcomes import Aggregate, Arm, OutcomeKey
from phased.sdk.tracker import Window


class FrozenClock:
    """A :class:`~phased.core.clock.VirtualClock` seen in epoch seconds, for SDK and store tests.

    ``clock()`` and ``clock.now`` are epoch seconds (an ``EpochClock``: a
    ``Tracker(clock=...)``, a ``CompiledFlagSet(clock=...)``); ``clock.datetime``
    is the same moment as a ``Clock`` (``open_store(url, clock=clock.datetime)``),
    and ``clock.virtual`` the virtual clock itself (``Engine(store, clock=...)``).
    ``advance()`` moves all of them.
    """

    def __init__(self, start: float | datetime = 1_800_000_000.0) -> None:
        at = start if isinstance(start, datetime) else datetime.fromtimestamp(start, tz=UTC)
        self.virtual = VirtualClock(at)

    @property
    def now(self) -> float:
        """The current time in epoch seconds."""
        return self.virtual.timestamp()

    def __call__(self) -> float:
        return self.virtual.timestamp()

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.virtual.advance(seconds)

    def datetime(self) -> datetime:
        """The current time as an aware UTC datetime."""
        return self.virtual()


class MemorySink:
    """An outcome sink that keeps everything in memory; ``fail`` makes writes raise."""

    def __init__(self) -> None:
        self.windows: dict[OutcomeKey, Aggregate] = {}
        self.batches = 0
        self.fail = False
        self._lock = threading.Lock()

    def write(self, windows: list[Window]) -> None:
        """Merge a batch (raising instead while ``fail`` is set)."""
        if self.fail:
            raise ConnectionError("sink unavailable (MemorySink.fail is set)")
        with self._lock:
            self.batches += 1
            for key, agg in windows:
                if key in self.windows:
                    self.windows[key].merge(agg)
                else:
                    self.windows[key] = agg

    def total(self, flag: str, arm: Arm | str) -> Aggregate:
        """Everything received for one flag and arm, all windows merged."""
        with self._lock:
            return Aggregate.merged(
                a for k, a in self.windows.items() if k.flag == flag and k.arm == Arm(arm)
            )
