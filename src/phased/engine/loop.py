"""The reconcile loop: read every going rollout, decide, hand the decision to the service.

One pass (:meth:`Engine.run_once`) reads the going rollouts and, per arm,
the outcome totals of each stage run since it began (from its rollup, the
windows merged up to a few minutes ago, plus the windows since: see
:mod:`phased.service.rollups`; the pass first moves the rollups on); calls
:func:`phased.core.decide.decide`; and passes the decision to
:func:`phased.service.plan_rollouts.apply_decision`, which writes the flag
state, rollout state, history, alerts and audit in one transaction. The loop
itself never writes. A rollout that changed while being decided (someone
approved) is simply decided again next pass; one rollout failing never stops
the others; an alert that cannot be delivered never stops the loop.

Dry run (``Engine(dry_run=True)``) records every decision and alert it would
make in the rollout history and acts on none of them.

Every decision is recorded as an execution trace (``engine decide <flag>``:
read rollouts, read metrics, decide, apply, with the rollout and the decision
in the details) in the process trace store, so ``debug-last --user engine``
shows it, and its log lines carry that trace's id.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from phased.core.clock import Clock
from phased.core.decide import Decision, decide
from phased.core.gates import Observations, Verdict
from phased.core.plans.model import Mode
from phased.engine.clock import wait
from phased.engine.hooks import HookRunner
from phased.engine.leader import LeaderElection
from phased.errors import ConflictError
from phased.obs import otel
from phased.obs.log import get_logger
from phased.obs.slo import Breach, SloMonitor, get_slo_monitor
from phased.obs.traces import ExecutionTrace, TraceStore, trace
from phased.service import outcomes, rollups
from phased.service import rollout_records as records
from phased.service.plan_rollouts import ENGINE_ACTOR, HISTORY_HEARTBEAT, apply_decision
from phased.service.rollout_records import Rollout
from phased.settings import Settings, get_settings
from phased.sources.config import SourcesConfig, load_sources_config
from phased.sources.measure import SourceMeasurer
from phased.store.engine import Store

log = get_logger("phased.engine")

DEFAULT_BATCH_RETENTION = timedelta(days=7)
HOUSEKEEPING_INTERVAL = timedelta(hours=1)
"""How often a running engine forgets old outcome batch ids (the first pass always does)."""


def _log(level: str, event: str, **fields: object) -> None:
    # A broken log stream must never stop a decision from being applied.
    with contextlib.suppress(Exception):
        getattr(log, level)(event, **fields)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one pass did with one rollout."""

    flag: str
    rollout_id: int
    decision: str
    reason: str
    acted: bool = False
    dry_run: bool = False
    skipped: str | None = None
    """Why nothing was applied (the rollout changed meanwhile, or applying failed)."""


@dataclass(slots=True)
class PassReport:
    """One pass over every going rollout."""

    outcomes: list[Outcome] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def acted(self) -> list[Outcome]:
        """Decisions that changed a rollout (not holds, not skipped)."""
        return [o for o in self.outcomes if o.acted]


@dataclass(slots=True)
class _Memory:
    """What an engine carries from one pass to the next."""

    verdicts: dict[tuple[int, str, str], Verdict] = field(default_factory=dict)
    next_forget: datetime | None = None


class Engine:
    """Reconciles every going rollout with what was measured.

    Args:
        store: where rollouts, outcomes and decisions live.
        clock: the time source (default: the store's); waits between passes are real,
            or instant advances of a :class:`~phased.core.clock.VirtualClock`.
        dry_run: record decisions and alerts in the history, act on none.
        actor: the audit actor of the engine's decisions.
        slo: where gate breaches are reported (default: the process-wide monitor).
        deliver: one alert-delivery pass (e.g. ``AlertWorker.run_once``), run after
            each reconcile pass; its failures are logged, never fatal.
        heartbeat: a hold whose verdicts did not change is recorded this often.
        traces: where each decision's trace is kept (default: the process-wide store).
        rollup_lateness: outcome windows older than this are sealed into rollups and
            read as one row; None reads every window of every stage run each pass.
        batch_retention: remembered outcome batch ids older than this are forgotten
            (hourly); a sender retrying a batch after that would be counted twice.
        sources: the metric sources (sources.yaml) queried before each decision
            (docs/sources.md), or a ready :class:`SourceMeasurer`.
        hooks: runs the plans' stage hooks around each decision (docs/hooks.md);
            default: a :class:`HookRunner` on ``store``.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        dry_run: bool = False,
        actor: str = ENGINE_ACTOR,
        slo: SloMonitor | None = None,
        deliver: Callable[[], object] | None = None,
        heartbeat: timedelta = HISTORY_HEARTBEAT,
        traces: TraceStore | None = None,
        rollup_lateness: timedelta | None = rollups.DEFAULT_LATENESS,
        batch_retention: timedelta = DEFAULT_BATCH_RETENTION,
        sources: SourcesConfig | SourceMeasurer | None = None,
        hooks: HookRunner | None = None,
    ) -> None:
        self.store = store
        self.clock: Clock = clock or store.clock
        self.dry_run = dry_run
        self.actor = actor
        self.slo = slo
        self.deliver = deliver
        self.heartbeat = heartbeat
        self.traces = traces
        self.rollup_lateness = rollup_lateness
        self.batch_retention = batch_retention
        self.sources = (
            sources
            if isinstance(sources, SourceMeasurer)
            else SourceMeasurer(sources or SourcesConfig(), store=store)
        )
        self.hooks = hooks or HookRunner(store, sources=self.sources.config, actor=actor)
        self._memory = _Memory()

    def run_once(self) -> PassReport:
        """Decide about every going rollout once and hand each decision on."""
        report = PassReport()
        now = self.clock()
        started = time.perf_counter()
        with self.store.read() as conn:
            going = records.all_rollouts(conn, active_only=True)
        read_ms = (time.perf_counter() - started) * 1000.0
        self._seal(going, now, report)
        self._forget_batches(now, report)
        with self.store.read() as conn:
            work = []
            for r in going:
                t0 = time.perf_counter()
                rollout_id = r.id if self.rollup_lateness is not None else None
                metrics = outcomes.observations(
                    conn, r.flag, r.state.runs, now, rollout_id=rollout_id
                )
                work.append((r, metrics, (time.perf_counter() - t0) * 1000.0))
        for rollout, read_metrics, metrics_ms in work:
            try:
                metrics = self._measure(rollout, read_metrics, now)
                with trace(
                    f"engine decide {rollout.flag}", user=self.actor, store=self.traces
                ) as tr:
                    reads = tr.step("read rollouts", going=len(going))
                    reads.duration_ms = read_ms
                    measured = tr.step(
                        "read metrics",
                        flag=rollout.flag,
                        rollout=rollout.id,
                        stage=rollout.stage.name,
                        stages_measured=len(metrics.earlier) + (metrics.current is not None),
                    )
                    measured.duration_ms = metrics_ms
                    outcome = self._decide(rollout, metrics, now, tr)
            except ConflictError as exc:
                outcome = Outcome(rollout.flag, rollout.id, "skipped", str(exc), skipped=str(exc))
            except Exception as exc:  # one broken rollout must not stop the others
                message = f"rollout of {rollout.flag} (#{rollout.id}): {type(exc).__name__}: {exc}"
                _log("error", "engine_decision_failed", error=message)
                report.errors.append(message)
                continue
            report.outcomes.append(outcome)
        self._deliver(report)
        return report

    def _measure(self, rollout: Rollout, metrics: Observations, now: datetime) -> Observations:
        # Metric sources are asked here, outside any transaction, so decide stays pure.
        measured = self.sources.measure(rollout, now)
        return replace(metrics, measurements=measured) if measured else metrics

    def _forget_batches(self, now: datetime, report: PassReport) -> None:
        due = self._memory.next_forget
        if due is not None and now < due:
            return
        try:
            forgotten = outcomes.forget_batches(self.store, now - self.batch_retention)
        except Exception as exc:  # batch ids pile up a little longer; nothing is judged wrong
            message = f"forgetting outcome batch ids failed: {type(exc).__name__}: {exc}"
            _log("error", "engine_forget_batches_failed", error=message)
            report.errors.append(message)
            return
        self._memory.next_forget = now + HOUSEKEEPING_INTERVAL
        if forgotten:
            _log(
                "info",
                "engine_forgot_batches",
                batches=forgotten,
                retention=str(self.batch_retention),
            )

    def _seal(self, going: list[Rollout], now: datetime, report: PassReport) -> None:
        if self.rollup_lateness is None:
            return
        try:
            rollups.seal(
                self.store,
                [(r.id, r.flag, r.state.runs) for r in going],
                now,
                lateness=self.rollup_lateness,
            )
        except Exception as exc:  # a stale rollup only means reading more windows
            message = f"sealing outcome rollups failed: {type(exc).__name__}: {exc}"
            _log("error", "engine_rollup_failed", error=message)
            report.errors.append(message)

    def _decide(
        self, rollout: Rollout, metrics: Observations, now: datetime, tr: ExecutionTrace
    ) -> Outcome:
        plan = rollout.plan
        if self.dry_run and plan.mode is not Mode.DRY_RUN:
            plan = plan.model_copy(update={"mode": Mode.DRY_RUN})
        with tr.step("decide") as deciding:
            decision = decide(plan, rollout.state, metrics, now)
            deciding.details.update(
                decision=decision.kind.value, stage=decision.stage, reason=decision.reason
            )
        hooked = self._hooks_before(rollout, decision)
        if hooked is None:
            why = "a hook ticked a checklist item; deciding again next pass"
            return Outcome(rollout.flag, rollout.id, "skipped", why, skipped=why)
        decision = hooked
        with tr.step("apply", dry_run=self.dry_run or decision.dry_run) as applying:
            applied = apply_decision(
                self.store,
                rollout.id,
                rollout.version,
                decision,
                actor=self.actor,
                record_only=self.dry_run,
                heartbeat=self.heartbeat,
            )
            applying.details.update(
                phase=applied.rollout.state.phase.value,
                alerts_queued=applied.alerts_sent,
                audit_entries=len(applied.entries),
            )
        acted = applied.acted and not self.dry_run and not decision.dry_run
        if acted:
            self._hooks_after(rollout, decision)
        # Holds come every pass; they are worth a line only when debugging.
        _log(
            "debug" if decision.kind.value == "hold" else "info",
            "engine_decision",
            flag=rollout.flag,
            rollout=rollout.id,
            decision=decision.kind.value,
            stage=decision.stage,
            reason=decision.reason,
            dry_run=decision.dry_run,
            alerts_queued=applied.alerts_sent,
        )
        self._report_breaches(rollout, decision)
        return Outcome(
            rollout.flag,
            rollout.id,
            decision.kind.value,
            decision.reason,
            acted=acted,
            dry_run=decision.dry_run,
        )

    def _hooks_before(self, rollout: Rollout, decision: Decision) -> Decision | None:
        if self.dry_run or decision.dry_run:
            return decision  # dry run: no hook runs, as no flag changes
        return self.hooks.before_apply(rollout, decision)

    def _hooks_after(self, rollout: Rollout, decision: Decision) -> None:
        try:
            self.hooks.after_apply(rollout, decision)
        except Exception as exc:  # a post_stage hook's trouble never undoes the decision
            _log("error", "engine_hook_failed", error=f"{type(exc).__name__}: {exc}")

    def _report_breaches(self, rollout: Rollout, decision: Decision) -> None:
        # Only transitions into a breach: a gate failing for an hour is one breach, not 360.
        monitor = self.slo or get_slo_monitor()
        for result in decision.evaluations:
            key = (rollout.id, result.kind, result.label)
            before = self._memory.verdicts.get(key)
            self._memory.verdicts[key] = result.verdict
            if result.verdict is not Verdict.FAIL or before is Verdict.FAIL:
                continue
            if result.value is None:
                continue
            threshold = result.threshold
            if threshold is None:
                threshold = result.control_value if result.control_value is not None else 0.0
            try:
                with otel.span("slo report", slo=result.label, flag=rollout.flag):
                    monitor.report(
                        Breach(
                            slo=result.label,
                            metric=result.metric,
                            value=result.value,
                            threshold=threshold,
                            flag=rollout.flag,
                            stage=result.stage or decision.stage,
                            ts=decision.at,
                        )
                    )
            except Exception as exc:  # a hook's failure is the hook's problem
                _log("error", "slo_report_failed", error=f"{type(exc).__name__}: {exc}")

    def _deliver(self, report: PassReport) -> None:
        if self.deliver is None:
            return
        try:
            self.deliver()
        except Exception as exc:  # delivery failing must never stop the engine
            message = f"alert delivery failed: {type(exc).__name__}: {exc}"
            _log("error", "engine_alert_delivery_failed", error=message)
            report.errors.append(message)

    def run(
        self,
        *,
        interval: float = 10.0,
        stop: threading.Event | None = None,
        max_passes: int | None = None,
        on_pass: Callable[[PassReport], object] | None = None,
        leader: LeaderElection | None = None,
    ) -> int:
        """Pass every ``interval`` seconds until ``stop`` (or ``max_passes``); returns the count.

        A pass that fails as a whole (the database is down) is logged and retried next time.

        Args:
            leader: when given, a pass runs only while this process holds the
                leader lock (checked right before each pass); otherwise it tries
                to take the lock every ``leader.poll_seconds``. The caller
                releases it (``leader.stop()``).
        """
        stop = stop or threading.Event()
        passes = 0
        while not stop.is_set():
            if leader is not None and not leader.round():
                if wait(self.clock, leader.poll_seconds, stop):
                    break
                continue
            try:
                report = self.run_once()
            except Exception as exc:
                _log("error", "engine_pass_failed", error=f"{type(exc).__name__}: {exc}")
                report = PassReport(errors=[f"{type(exc).__name__}: {exc}"])
            passes += 1
            if on_pass is not None:
                on_pass(report)
            if max_passes is not None and passes >= max_passes:
                break
            if wait(self.clock, interval, stop):
                break
        return passes


def engine_settings(settings: Settings) -> dict[str, Any]:
    """The :class:`Engine` keyword arguments that come from the process settings."""
    return {
        "rollup_lateness": timedelta(seconds=settings.rollup_lateness_seconds),
        "batch_retention": timedelta(days=settings.outcome_batch_retention_days),
        "sources": load_sources_config(settings.sources_config),
    }


_memories: weakref.WeakKeyDictionary[Store, _Memory] = weakref.WeakKeyDictionary()


def reconcile_once(store: Store) -> PassReport:
    """One engine pass with the process settings (the server's leader calls this).

    What the engine remembers between passes (gate verdicts, so a breach is
    reported once; when it last forgot batch ids) is kept per store.
    """
    engine = Engine(store, **engine_settings(get_settings()))
    engine._memory = _memories.setdefault(store, _Memory())
    return engine.run_once()
