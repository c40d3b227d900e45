"""Outcome tracking in the application process.

Each use of a flag lands in an in-memory window per (flag, arm, stage,
10-second slot): counts, sums and a latency sketch. Recording takes an
uncontended lock around a dict lookup and a few additions; it never waits on
I/O. A daemon thread ships closed windows to a sink (the embedded store or a
server) in batches, so server load grows with processes x flags, not with
requests. After ``os.fork()`` the child starts with empty windows and its own
thread (see ``register_at_fork`` below).
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from time import perf_counter
from types import TracebackType
from typing import Protocol

from phased.core.clock import EpochClock
from phased.core.outcomes import Aggregate, Arm, OutcomeKey, slot_of

Window = tuple[OutcomeKey, Aggregate]
Raw = tuple[
    float, str, bool, str, float | None, bool, bool, int, float, str | None,
    Mapping[str, float] | None, str | None,
]  # fmt: skip
"""(ts, flag, candidate?, stage, latency_ms, error, fallback, retries, cost, user, metrics,
unit: the flag's stickiness key)."""


class OutcomeSink(Protocol):
    """Where closed windows go: the embedded store, a server, a test's list."""

    def write(self, windows: list[Window]) -> None:
        """Persist a batch; raise to have it kept and retried later."""


@dataclass(slots=True)
class TrackerStats:
    """What the tracker did, for health checks and tests."""

    flushed_windows: int = 0
    failed_flushes: int = 0
    dropped_windows: int = 0


class Tracker:
    """Aggregates outcomes per window and flushes them in the background."""

    def __init__(
        self,
        environment: str,
        sink: OutcomeSink | None = None,
        *,
        flush_interval: float = 5.0,
        max_pending: int = 10_000,
        clock: EpochClock = time.time,
    ) -> None:
        self.environment = environment
        self.sink = sink
        self.flush_interval = flush_interval
        self.max_pending = max_pending
        self.clock = clock
        self.stats = TrackerStats()
        self._windows: dict[tuple[str, Arm, str, int], Aggregate] = {}
        # perf_counter() + offset = wall time: one clock read per tracked use, not two.
        self._wall_offset = clock() - perf_counter()
        self._buffer: deque[Raw | Tracking] = deque()  # raw outcomes, not yet folded into windows
        self._pending: list[Window] = []  # drained but not yet accepted by the sink
        self._lock = threading.Lock()  # starting the thread
        self._fold_lock = threading.Lock()  # guards _windows: the flush side only
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        _TRACKERS.add(self)

    # -- the caller's side ---------------------------------------------------------

    def record(
        self,
        flag: str,
        arm: Arm,
        stage: str = "",
        *,
        latency_ms: float | None = None,
        error: bool = False,
        fallback: bool = False,
        retries: int = 0,
        cost_usd: float = 0.0,
        user: str | None = None,
        metrics: Mapping[str, float] | None = None,
        unit: str | None = None,
    ) -> None:
        """Add one outcome (cheap; never blocks on I/O)."""
        # fmt: off
        raw: Raw = (self.clock(), flag, arm is Arm.CANDIDATE, stage, latency_ms, error,
                    fallback, retries, cost_usd, user, metrics, unit)
        # fmt: on
        self.append(raw)

    def append(self, raw: Raw) -> None:
        """One outcome onto the buffer; it is folded into windows off the caller's path."""
        # deque.append is atomic and thread-safe: no lock on the request path.
        self._buffer.append(raw)
        if self._thread is None and self.sink is not None and not self._closed:
            self.start()

    def _fold(self) -> None:
        buffer, windows, offset = self._buffer, self._windows, self._wall_offset
        for _ in range(len(buffer)):
            item = buffer.popleft()
            raw = item.raw(offset) if isinstance(item, Tracking) else item
            (ts, flag, candidate, stage, latency, error, fallback, retries, cost, user, metrics,
             unit) = raw  # fmt: skip
            key = (flag, Arm.CANDIDATE if candidate else Arm.CONTROL, stage, slot_of(ts))
            agg = windows.get(key)
            if agg is None:
                agg = windows[key] = Aggregate()
            agg.record(
                latency_ms=latency,
                error=error,
                fallback=fallback,
                retries=retries,
                cost_usd=cost,
                user=user,
                metrics=metrics,
                unit=unit,
            )

    # -- the background side ---------------------------------------------------------

    def drain(self, *, everything: bool = False) -> list[Window]:
        """Take closed windows (all of them with ``everything``) out of memory."""
        current = slot_of(self.clock())
        with self._fold_lock:
            self._fold()
            if everything:
                taken, self._windows = self._windows, {}
            else:
                taken = {k: v for k, v in self._windows.items() if k[3] < current}
                for k in taken:
                    del self._windows[k]
        return [
            (OutcomeKey(flag, self.environment, arm, stage, slot), agg)
            for (flag, arm, stage, slot), agg in sorted(taken.items())
        ]

    def flush(self, *, everything: bool = False) -> int:
        """Ship what is ready to the sink; keep it (bounded) if the sink fails."""
        batch = self._pending + self.drain(everything=everything)
        self._pending = []
        if not batch or self.sink is None:
            self._pending = batch[-self.max_pending :]
            return 0
        try:
            self.sink.write(batch)
        except Exception:
            self.stats.failed_flushes += 1
            overflow = max(0, len(batch) - self.max_pending)
            self.stats.dropped_windows += overflow
            self._pending = batch[overflow:]
            return 0
        self.stats.flushed_windows += len(batch)
        return len(batch)

    def close(self) -> None:
        """Stop the thread and flush everything, the open window included."""
        self._closed = True
        self._wake.set()
        thread = self._thread
        # A thread another thread created but has not started yet ends at once (closed).
        if (
            thread is not None
            and thread.ident is not None
            and thread is not threading.current_thread()
        ):
            thread.join(timeout=10)
        self.flush(everything=True)

    def start(self) -> None:
        """Start the flush thread (done on first use; again after a fork)."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, name="phased-outcome-flush", daemon=True
            )
        self._thread.start()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_interval)
            if self._closed:
                return
            self.flush()

    def _after_fork(self) -> None:
        # The child must not ship the parent's windows twice nor share its thread.
        self._lock = threading.Lock()
        self._fold_lock = threading.Lock()
        self._wake = threading.Event()
        self._buffer = deque()
        self._windows = {}
        self._pending = []
        self._thread = None


_TRACKERS: weakref.WeakSet[Tracker] = weakref.WeakSet()


def _reset_after_fork() -> None:
    for tracker in list(_TRACKERS):
        tracker._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


class Tracking:
    """One use of a flag, measured: ``with client.track(flag, **ctx) as t: ...``."""

    # Class attributes are the defaults, so construction stores only six
    # fields; the finished object itself goes onto the tracker's buffer and is
    # read on the flush thread. Together this keeps the request path short.
    _error = False
    _fallback = False
    _retries = 0
    _cost = 0.0
    _metrics: dict[str, float] | None = None
    _start = 0.0
    _end = 0.0
    unit: object = None

    def __init__(  # noqa: PLR0917
        self,
        tracker: Tracker,
        flag: str,
        enabled: bool,
        stage: str,
        user: object,
        unit: object = None,
    ):
        self._tracker = tracker
        self.flag = flag
        self.enabled = enabled
        """Whether this use got the flag: the candidate arm."""
        self.stage = stage
        self.user = user
        if unit is not None:
            self.unit = unit

    def error(self) -> None:
        """Count this use as an error (an exception inside the block does this too)."""
        self._error = True

    def fallback(self) -> None:
        """The new path fell back to the old one."""
        self._fallback = True

    def retry(self, count: int = 1) -> None:
        """The use needed ``count`` retries."""
        self._retries += count

    def cost(self, usd: float) -> None:
        """Add a cost in US dollars (an LLM call, say)."""
        self._cost += usd

    def metric(self, name: str, value: float) -> None:
        """Record a custom metric; gates read its mean."""
        if self._metrics is None:
            self._metrics = {}
        self._metrics[name] = value

    def __enter__(self) -> Tracking:
        self._start = perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._end = perf_counter()
        if exc_type is not None:
            self._error = True
        self._tracker._buffer.append(self)  # deque.append: atomic, lock-free

    def raw(self, wall_offset: float) -> Raw:
        """The outcome as a raw tuple (on the flush thread)."""
        user, unit = self.user, self.unit
        # fmt: off
        return (self._end + wall_offset, self.flag, self.enabled, self.stage,
                (self._end - self._start) * 1000.0, self._error, self._fallback, self._retries,
                self._cost, None if user is None else str(user), self._metrics,
                None if unit is None else str(unit))
        # fmt: on
