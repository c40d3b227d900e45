"""Execution traces: what one command, request or engine decision did, step by step.

A trace is recorded with :func:`trace`::

    with phased.obs.trace("diagnose", user="u-42") as tr:
        with tr.step("Trigger workflow", run_id=123):
            ...                      # timed; ❌ if it raises
        tr.step("Parse results")     # a step that just finished
        tr.link("View Run", url)

and kept in the process-wide :class:`TraceStore` (the last 100 traces per
user and 1,000 overall), where ``phased debug-last`` finds it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Any

from phased.core.clock import Clock, utc_now
from phased.obs.log import context
from phased.obs.redact import redact_text
from phased.obs.traceparent import new_trace_id

Timer = Callable[[], float]


def get_trace_fingerprint(trace_id: str | None) -> str:
    """The first 8 characters of a trace id, or ``unknown`` for empty or None."""
    if not trace_id:
        return "unknown"
    return trace_id[:8]


class StepStatus(StrEnum):
    """Where one step of a trace stands."""

    RUNNING = "running"  # started, not finished (or the process is still in it)
    OK = "ok"  # finished without error
    FAILED = "failed"  # raised or was marked failed

    @property
    def is_terminal(self) -> bool:
        """Whether the step has finished."""
        return self is not StepStatus.RUNNING

    @property
    def emoji(self) -> str:
        """The marker shown by debug-last."""
        return {"running": "⏳", "ok": "✅", "failed": "❌"}[self.value]


@dataclass
class TraceStep:
    """One step of a trace: name, status, duration and details.

    Usable as a context manager that times the block and marks it failed when
    it raises.
    """

    name: str
    status: StepStatus = StepStatus.OK
    duration_ms: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    _timer: Timer = field(default=time.perf_counter, repr=False, compare=False)
    _started: float | None = field(default=None, repr=False, compare=False)
    _on_end: Callable[[float], None] | None = field(default=None, repr=False, compare=False)

    def __enter__(self) -> TraceStep:
        self.status = StepStatus.RUNNING
        self.duration_ms = None
        self._started = self._timer()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        now = self._timer()
        self.duration_ms = (now - (self._started or now)) * 1000.0
        self.status = StepStatus.FAILED if exc_type is not None else StepStatus.OK
        if exc is not None:
            self.details.setdefault("error", redact_text(f"{type(exc).__name__}: {exc}"))
        if self._on_end is not None:
            self._on_end(now)

    def fail(self, reason: str | None = None) -> None:
        """Mark the step failed without raising."""
        self.status = StepStatus.FAILED
        if reason:
            self.details["error"] = reason


@dataclass
class ExecutionTrace:
    """Everything recorded about one execution."""

    trace_id: str
    command: str
    user: str | None = None
    started_at: datetime = field(default_factory=utc_now)
    steps: list[TraceStep] = field(default_factory=list)
    error: str | None = None
    links: dict[str, str] = field(default_factory=dict)
    duration_ms: float | None = None
    span_id: str | None = None
    """The span id this execution is known by (a request's own, as its traceparent says)."""
    parent_span_id: str | None = None
    """The caller's span (from an incoming ``traceparent``), for OpenTelemetry."""
    _timer: Timer = field(default=time.perf_counter, repr=False, compare=False)
    _t0: float = field(default=0.0, repr=False, compare=False)
    _last_end: float = field(default=0.0, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._t0 = self._last_end = self._timer()

    @property
    def finished(self) -> bool:
        """Whether the execution has ended."""
        return self.duration_ms is not None

    @property
    def ok(self) -> bool:
        """Finished without error and without a failed step."""
        return (
            self.finished
            and self.error is None
            and all(s.status is StepStatus.OK for s in self.steps)
        )

    def step(
        self, name: str, *, status: StepStatus | str = StepStatus.OK, **details: Any
    ) -> TraceStep:
        """Record a step.

        Called plainly, it records a step that has just finished, timed from
        the end of the previous step. Used as ``with tr.step(...):`` it times
        the block instead.
        """
        now = self._timer()
        recorded = TraceStep(
            name=name,
            status=StepStatus(status),
            duration_ms=(now - self._last_end) * 1000.0,
            details=dict(details),
            _timer=self._timer,
            _on_end=self._mark_end,
        )
        self._last_end = now
        self.steps.append(recorded)
        return recorded

    def _mark_end(self, at: float) -> None:
        self._last_end = max(self._last_end, at)

    def link(self, label: str, url: str) -> None:
        """Attach a link (e.g. the CI run) shown at the end of debug-last."""
        self.links[label] = url

    def finish(self, error: BaseException | str | None = None) -> None:
        """Close the trace, recording its duration and error."""
        if error is not None:
            text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
            self.error = redact_text(text)
        self.duration_ms = (self._timer() - self._t0) * 1000.0


class TraceStore:
    """The most recent traces: ``per_user`` per user and ``total`` overall.

    Thread-safe. When a bound is reached the oldest trace goes (for the
    per-user bound, the user's own oldest).
    """

    def __init__(
        self,
        *,
        per_user: int = 100,
        total: int = 1000,
        sink: Callable[[ExecutionTrace], None] | None = None,
    ) -> None:
        self.per_user = per_user
        self.total = total
        self.sink = sink
        """Called with every finished trace (e.g. to append it to a trace file)."""
        self._lock = threading.Lock()
        self._all: OrderedDict[str, ExecutionTrace] = OrderedDict()
        self._by_user: dict[str | None, deque[str]] = {}

    def add(self, trace: ExecutionTrace) -> None:
        """Keep ``trace``, evicting the oldest traces past the bounds."""
        with self._lock:
            if trace.trace_id in self._all:
                self._forget(trace.trace_id)
            ids = self._by_user.setdefault(trace.user, deque())
            if len(ids) >= self.per_user:
                self._forget(ids[0])
            self._all[trace.trace_id] = trace
            self._by_user.setdefault(trace.user, deque()).append(trace.trace_id)
            while len(self._all) > self.total:
                self._forget(next(iter(self._all)))

    def _forget(self, trace_id: str) -> None:
        trace = self._all.pop(trace_id)
        ids = self._by_user.get(trace.user)
        if ids is not None:
            ids.remove(trace_id)
            if not ids:
                del self._by_user[trace.user]

    def finished(self, trace: ExecutionTrace) -> None:
        """Hand a finished trace to the sink and listeners; a failure never breaks the caller."""
        for sink in (self.sink, *_listeners):
            if sink is None:
                continue
            try:
                sink(trace)
            except Exception:  # losing one trace beats failing the command it describes
                logging.getLogger("phased.obs").warning("trace sink failed", exc_info=True)

    def get(self, trace_id: str) -> ExecutionTrace | None:
        """The trace with this id, if still kept."""
        with self._lock:
            return self._all.get(trace_id)

    def last(self, user: str | None = None) -> ExecutionTrace | None:
        """The most recent trace overall, or of ``user`` when given."""
        with self._lock:
            if user is None:
                return next(reversed(self._all.values()), None)
            ids = self._by_user.get(user)
            return self._all[ids[-1]] if ids else None

    def list(self, user: str | None = None, limit: int | None = None) -> list[ExecutionTrace]:
        """Traces newest first, optionally of one user only."""
        with self._lock:
            if user is None:
                found = list(reversed(self._all.values()))
            else:
                found = [self._all[i] for i in reversed(self._by_user.get(user, deque()))]
        return found if limit is None else found[:limit]

    def clear(self) -> None:
        """Forget every trace."""
        with self._lock:
            self._all.clear()
            self._by_user.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._all)


_store: TraceStore | None = None
_store_lock = threading.Lock()
_listeners: list[Callable[[ExecutionTrace], None]] = []


def on_trace_finished(listener: Callable[[ExecutionTrace], None]) -> Callable[[], None]:
    """Call ``listener`` with every finished trace of every store (OpenTelemetry export).

    Returns the function that removes it.
    """
    _listeners.append(listener)

    def remove() -> None:
        if listener in _listeners:
            _listeners.remove(listener)

    return remove


def get_trace_store() -> TraceStore:
    """The process-wide trace store."""
    global _store
    with _store_lock:
        if _store is None:
            _store = TraceStore()
        return _store


@contextmanager
def trace(
    command: str,
    *,
    user: str | None = None,
    trace_id: str | None = None,
    correlation_id: str | None = None,
    store: TraceStore | None = None,
    clock: Clock = utc_now,
    timer: Timer = time.perf_counter,
) -> Iterator[ExecutionTrace]:
    """Record one execution as a trace and bind its ids to the log context.

    The trace is in the store from the start (so an execution in progress
    shows ⏳); an exception marks it failed, is recorded as its error and is
    re-raised.
    """
    recorded = ExecutionTrace(
        trace_id=trace_id or new_trace_id(),
        command=command,
        user=user,
        started_at=clock(),
        _timer=timer,
    )
    kept_in = store if store is not None else get_trace_store()
    kept_in.add(recorded)
    with context(
        trace_id=recorded.trace_id, correlation_id=correlation_id, user_id=user, cmd=command
    ):
        try:
            yield recorded
        except BaseException as exc:
            recorded.finish(exc)
            kept_in.finished(recorded)
            raise
        recorded.finish()
        kept_in.finished(recorded)
