"""Fakes that phased ships for its users' tests (and its own).

``FrozenClock`` stands still until told to move; ``MemorySink`` keeps the
outcome windows a client flushes, merged per window key.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from phased.core.outcomes import Aggregate, Arm, OutcomeKey
from phased.sdk.tracker import Window


class FrozenClock:
    """A clock for tests: ``clock()`` returns epoch seconds; ``advance()`` moves it."""

    def __init__(self, start: float | datetime = 1_800_000_000.0) -> None:
        self.now = start.timestamp() if isinstance(start, datetime) else float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds

    def datetime(self) -> datetime:
        """The current time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now, tz=UTC)


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
