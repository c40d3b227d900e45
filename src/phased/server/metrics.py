"""``/metrics`` in the Prometheus text format.

Counters that happen inside this process (evaluations the server makes,
requests, decisions recorded, outcome batches) are incremented as they
happen; gauges that describe the store (rollout percentages and stages,
alert deliveries) are read at scrape time by a collector, so every replica
reports the same truth about the shared database.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from phased.service.flags import load_flagset
from phased.store.audit import AuditEntry
from phased.store.engine import Store

if TYPE_CHECKING:
    from phased.server.state import ServerState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_DECISION_ACTIONS = ("rollout.", "plan.", "incident.", "approval.")


class StoreCollector(Collector):
    """Gauges read from the store at scrape time."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        percent = GaugeMetricFamily(
            "phased_flag_rollout_percent",
            "Rollout percentage of each flag per environment.",
            labels=["flag", "environment"],
        )
        enabled = GaugeMetricFamily(
            "phased_flag_enabled",
            "1 when the flag's kill switch is released in the environment.",
            labels=["flag", "environment"],
        )
        try:
            flagset = load_flagset(self.store)
        except Exception:
            return
        for key, flag in sorted(flagset.flags.items()):
            for env in flagset.environments:
                state = flag.state(env)
                percent.add_metric([key, env], state.rollout)
                enabled.add_metric([key, env], 1.0 if state.enabled else 0.0)
        yield percent
        yield enabled
        yield from _alert_gauges(self.store)
        yield from _rollout_gauges(self.store)


def _alert_gauges(store: Store) -> Iterator[GaugeMetricFamily]:
    try:
        from phased.service.alerts import status_counts

        counts = status_counts(store)
    except Exception:
        return
    rows = [(status, n) for status, n in counts.items() if n]
    family = GaugeMetricFamily(
        "phased_alerts", "Alerts in the outbox by delivery status.", labels=["status"]
    )
    for status, count in rows:
        family.add_metric([str(status)], float(count))
    yield family


def _rollout_gauges(store: Store) -> Iterator[GaugeMetricFamily]:
    try:
        from phased.server import rollout_views

        views = rollout_views.all_rollouts(store)
    except Exception:
        return
    stage = GaugeMetricFamily(
        "phased_rollout_stage_index",
        "Index of the stage each rollout is in (label stage names it).",
        labels=["flag", "environment", "stage", "phase"],
    )
    gates = GaugeMetricFamily(
        "phased_gate_value",
        "Last measured value of each gate of the current stage.",
        labels=["flag", "stage", "metric", "verdict"],
    )
    for view in views:
        stage.add_metric(
            [view.flag, view.environment, view.stage, view.phase], float(view.stage_index)
        )
        for gate in view.gates:
            if gate.value is not None:
                gates.add_metric([view.flag, view.stage, gate.metric, gate.verdict], gate.value)
    yield stage
    yield gates


class Metrics:
    """One registry per app, so two apps in one test process never collide."""

    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "phased_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.evaluations = Counter(
            "phased_evaluations",
            "Flag evaluations made by the server, by flag and reason kind.",
            ["flag", "reason"],
            registry=self.registry,
        )
        self.decisions = Counter(
            "phased_decisions",
            "Rollout decisions and manual controls recorded, by audit action.",
            ["action"],
            registry=self.registry,
        )
        self.outcome_batches = Counter(
            "phased_outcome_batches",
            "Outcome batches received, by result (accepted or duplicate).",
            ["result"],
            registry=self.registry,
        )
        self.sdk_streams = Gauge(
            "phased_sdk_streams", "Connected SDK event streams.", registry=self.registry
        )
        self.revision = Gauge(
            "phased_store_revision",
            "Store revision this server has loaded.",
            registry=self.registry,
        )
        self.leader = Gauge(
            "phased_engine_leader", "1 while this process runs the engine.", registry=self.registry
        )
        self.registry.register(StoreCollector(store))

    def observe_store(self, state: ServerState) -> None:
        """Update gauges after a reload."""
        self.revision.set(state.revision)

    def on_audit(self, _conn: Any, entry: AuditEntry) -> None:
        """Service-layer listener: count decisions as they are recorded."""
        if entry.action.startswith(_DECISION_ACTIONS):
            self.decisions.labels(action=entry.action).inc()

    def evaluated(self, flag: str, reason: str) -> None:
        """Count one evaluation (reason kind: the text before ':')."""
        self.evaluations.labels(flag=flag, reason=reason.split(":", 1)[0]).inc()

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)
