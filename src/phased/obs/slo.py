"""SLO monitoring hooks (seed 003): breach callbacks, per-SLO history, suggested actions.

When an SLO is violated, seed 003's system logs a warning with the current
value, suggests actions, triggers callbacks and records the metric. So does
this module::

    from phased import slo

    slo.on_breach(lambda breach: page_someone(breach.slo, breach.suggested_actions))
    slo.record("turn_latency_p95", 9100.0, flag="awf", stage="canary-5")

It knows nothing about plans or the engine: the engine (or an application)
feeds it values or ready :class:`Breach` objects. Rates are fractions
(``0.05`` is 5 %), latencies milliseconds. ``phased.slo``, its name before it
joined :mod:`phased.obs`, still imports this same module.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from phased.core.clock import Clock, utc_now
from phased.errors import NotFoundError
from phased.obs.log import get_logger

log = get_logger("phased.slo")

# Seed 003, "Suggested Actions", word for word (", ".join gives the seed's line).
LATENCY_ACTIONS: tuple[str, ...] = (
    "Investigate model provider",
    "check bundle size",
    "reduce rollout",
)
RETRY_RATE_ACTIONS: tuple[str, ...] = (
    "Review validator rules",
    "check model quality",
    "adjust temperature",
)
FALLBACK_RATE_ACTIONS: tuple[str, ...] = (
    "Investigate validation failures",
    "check model health",
    "reduce rollout",
)


def suggested_actions(metric: str) -> tuple[str, ...]:
    """Seed 003's remediation steps for a breached metric; empty for other metrics."""
    name = metric.lower()
    if "latency" in name:
        return LATENCY_ACTIONS
    if "retry" in name:
        return RETRY_RATE_ACTIONS
    if "fallback" in name:
        return FALLBACK_RATE_ACTIONS
    return ()


@dataclass(frozen=True, slots=True)
class Breach:
    """One SLO violation: which SLO, the measured value and the threshold it crossed."""

    slo: str
    metric: str
    value: float
    threshold: float
    flag: str | None = None
    stage: str | None = None
    ts: datetime = field(default_factory=utc_now)

    @property
    def suggested_actions(self) -> tuple[str, ...]:
        """What seed 003 suggests doing about it."""
        return suggested_actions(self.metric)

    @property
    def suggestion(self) -> str:
        """The actions as seed 003 writes them, e.g. ``Investigate model provider, ...``."""
        return ", ".join(self.suggested_actions)

    @property
    def reason(self) -> str:
        """The comparison, e.g. ``turn_latency_p95 9100 > 8000 (stage canary-5)``."""
        where = f" (stage {self.stage})" if self.stage else ""
        return f"{self.slo} {self.value:g} > {self.threshold:g}{where}"


@dataclass(frozen=True, slots=True)
class Slo:
    """An objective: ``metric`` must stay at or below ``threshold``."""

    name: str
    metric: str
    threshold: float
    description: str = ""


# Seed 003's three SLOs and their defaults (SLO_TURN_P95_MS=8000,
# SLO_INVALID_RETRY_RATE=5.0 %, SLO_FALLBACK_RATE=1.0 %).
DEFAULT_SLOS: tuple[Slo, ...] = (
    Slo("turn_latency_p95", "latency_p95_ms", 8000.0, "95th percentile turn latency"),
    Slo("invalid_retry_rate", "retry_rate", 0.05, "Turns requiring a validator retry"),
    Slo("fallback_rate", "fallback_rate", 0.01, "Turns falling back to legacy"),
)


@dataclass(frozen=True, slots=True)
class Sample:
    """One recorded value of an SLO."""

    ts: datetime
    value: float
    breached: bool
    flag: str | None = None
    stage: str | None = None


@dataclass(frozen=True, slots=True)
class SloStatus:
    """Where one SLO stands now (for ``phased slo status`` and the API)."""

    slo: Slo
    last: Sample | None
    breaches: int

    @property
    def healthy(self) -> bool:
        """No value recorded yet, or the last one within the threshold."""
        return self.last is None or not self.last.breached

    @property
    def suggested_actions(self) -> tuple[str, ...]:
        """Seed 003's actions while breached, else nothing."""
        return () if self.healthy else suggested_actions(self.slo.metric)


BreachCallback = Callable[[Breach], object]


class SloMonitor:
    """Keeps SLO history and tells subscribers about breaches. Thread-safe."""

    def __init__(
        self,
        slos: Iterable[Slo] = DEFAULT_SLOS,
        *,
        history: int = 1000,
        clock: Clock = utc_now,
    ) -> None:
        self._slos = {s.name: s for s in slos}
        self._history_size = history
        self._history: dict[str, deque[Sample]] = {}
        self._breaches: dict[str, int] = {}
        self._callbacks: list[BreachCallback] = []
        self._clock = clock
        self._lock = threading.Lock()

    def add(self, slo: Slo) -> None:
        """Add or replace an SLO."""
        with self._lock:
            self._slos[slo.name] = slo

    @property
    def slos(self) -> list[Slo]:
        """The SLOs watched."""
        with self._lock:
            return list(self._slos.values())

    def on_breach(self, callback: BreachCallback) -> BreachCallback:
        """Call ``callback(breach)`` on every breach; returns it (usable as a decorator)."""
        with self._lock:
            self._callbacks.append(callback)
        return callback

    def remove_callback(self, callback: BreachCallback) -> None:
        """Stop calling ``callback``."""
        with self._lock:
            self._callbacks.remove(callback)

    def record(
        self,
        slo: str,
        value: float,
        *,
        flag: str | None = None,
        stage: str | None = None,
        ts: datetime | None = None,
    ) -> Breach | None:
        """Record one value of ``slo``; returns the breach when it exceeds the threshold."""
        with self._lock:
            objective = self._slos.get(slo)
        if objective is None:
            known = ", ".join(sorted(self._slos)) or "none"
            raise NotFoundError(f"unknown SLO {slo!r}; known SLOs: {known}", field="slo")
        at = ts or self._clock()
        breach = None
        if value > objective.threshold:
            breach = Breach(slo, objective.metric, value, objective.threshold, flag, stage, at)
        self._append(slo, Sample(at, value, breach is not None, flag, stage))
        if breach is not None:
            self._announce(breach)
        return breach

    def report(self, breach: Breach) -> None:
        """Feed a breach detected elsewhere (an engine gate): history, log, callbacks."""
        with self._lock:
            if breach.slo not in self._slos:
                self._slos[breach.slo] = Slo(breach.slo, breach.metric, breach.threshold)
        self._append(breach.slo, Sample(breach.ts, breach.value, True, breach.flag, breach.stage))
        self._announce(breach)

    def _append(self, slo: str, sample: Sample) -> None:
        with self._lock:
            self._history.setdefault(slo, deque(maxlen=self._history_size)).append(sample)
            if sample.breached:
                self._breaches[slo] = self._breaches.get(slo, 0) + 1

    def _announce(self, breach: Breach) -> None:
        log.warning(
            f"SLO breached: {breach.reason}",
            slo=breach.slo,
            metric=breach.metric,
            value=breach.value,
            threshold=breach.threshold,
            flag=breach.flag,
            stage=breach.stage,
            suggested_actions=breach.suggestion or None,
        )
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(breach)
            except Exception:  # one broken subscriber must not silence the others
                log.exception("SLO breach callback failed", slo=breach.slo)

    def history(self, slo: str) -> list[Sample]:
        """The recorded values of ``slo``, oldest first."""
        with self._lock:
            return list(self._history.get(slo, ()))

    def status(self) -> list[SloStatus]:
        """Every SLO with its last value, breach count and current suggested actions."""
        with self._lock:
            return [
                SloStatus(
                    slo=s,
                    last=self._history[s.name][-1] if self._history.get(s.name) else None,
                    breaches=self._breaches.get(s.name, 0),
                )
                for s in self._slos.values()
            ]


_monitor: SloMonitor | None = None
_monitor_lock = threading.Lock()


def get_slo_monitor() -> SloMonitor:
    """The process-wide monitor, watching seed 003's default SLOs."""
    global _monitor
    with _monitor_lock:
        if _monitor is None:
            _monitor = SloMonitor()
        return _monitor


def on_breach(callback: BreachCallback) -> BreachCallback:
    """Subscribe to breaches of the process-wide monitor."""
    return get_slo_monitor().on_breach(callback)


def record(
    slo: str,
    value: float,
    *,
    flag: str | None = None,
    stage: str | None = None,
    ts: datetime | None = None,
) -> Breach | None:
    """Record a value on the process-wide monitor (see :meth:`SloMonitor.record`)."""
    return get_slo_monitor().record(slo, value, flag=flag, stage=stage, ts=ts)
