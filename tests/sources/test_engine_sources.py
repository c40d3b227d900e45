"""The engine with metric sources: given a plan gated on a source, when the engine passes, then…"""

from __future__ import annotations

from datetime import UTC, datetime

from phased.core.rollout_state import RolloutPhase
from phased.engine.loop import Engine
from phased.service import flags, source_queries
from phased.service import plan_rollouts as pr
from phased.service import rollout_records as records
from phased.sources.config import parse_sources_config
from phased.store.engine import Store
from phased.store.outbox import Outbox
from phased.testing import FrozenClock
from sources.conftest import Answer, FakeApp, PrometheusServer

PLAN = """\
flag: bot_smoke
environment: prod
inconclusive_limit: 3
stages:
  - name: canary
    audience: 5
    gates:
      - {metric: invocations_per_hour, source: api, query: "/inv?flag={{flag}}&stage={{stage}}",
         jsonpath: $.value, above: 1000}
  - name: full
    audience: 100
"""


def start(store: Store, plan: str = PLAN) -> None:
    flags.create_flag(store, actor="seed", key="bot_smoke")
    pr.apply_plan(store, actor="alice", text=plan)


def engine(store: Store, url: str, **extra: object) -> Engine:
    config = parse_sources_config(
        {"sources": {"api": {"kind": "web", "address": url, "timeout_seconds": 0.5}, **extra}}
    )
    return Engine(store, sources=config)


def phase(store: Store) -> tuple[str, str]:
    with store.read() as conn:
        r = records.require(conn, "bot_smoke", going=False)
    return r.stage.name, r.state.phase.value


class TestWebSourceGate:
    """A gate on a web endpoint advances, holds and pauses like any gate, never on missing data."""

    def test_passing_gate_advances_and_the_query_is_recorded(
        self, store: Store, app: FakeApp, clock: FrozenClock
    ) -> None:
        start(store)
        app.answers["/inv"] = Answer(body={"value": 1500})
        report = engine(store, app.url).run_once()
        assert [o.decision for o in report.outcomes] == ["advance"]
        assert phase(store) == ("full", "running")
        assert app.seen[-1].path == "/inv?flag=bot_smoke&stage=canary"
        with store.read() as conn:
            rollout = records.require(conn, "bot_smoke", going=False)
            [row] = source_queries.history(conn, rollout.id)
        assert (row.source, row.ok, row.value, row.stage) == ("api", True, 1500.0, "canary")
        assert row.query == "/inv?flag=bot_smoke&stage=canary"
        assert row.latency_ms > 0

    def test_failing_gate_holds(self, store: Store, app: FakeApp, clock: FrozenClock) -> None:
        start(store)
        app.answers["/inv"] = Answer(body={"value": 10})
        report = engine(store, app.url).run_once()
        assert report.outcomes[0].decision == "hold"
        assert "invocations_per_hour 10 < 1,000" in report.outcomes[0].reason

    def test_down_source_holds_then_pauses_and_alerts(
        self, store: Store, app: FakeApp, clock: FrozenClock
    ) -> None:
        start(store)
        eng = engine(store, app.url)  # /inv answers 404: no number
        decisions = []
        for _ in range(3):
            clock.advance(10)
            decisions.append(eng.run_once().outcomes[0])
        assert [d.decision for d in decisions] == ["hold", "hold", "pause"]
        assert "inconclusive" in decisions[0].reason
        assert "answered 404" in decisions[0].reason
        assert "inconclusive 3 times in a row" in decisions[2].reason
        assert phase(store) == ("canary", "paused")
        alerts = Outbox(store.engine).list()
        assert any("inconclusive 3 times" in a.alert.message for a in alerts)

    def test_a_good_answer_resets_the_count(
        self, store: Store, app: FakeApp, clock: FrozenClock
    ) -> None:
        start(store)
        eng = engine(store, app.url)
        for value in (None, None, 10, None, None):
            app.answers["/inv"] = (
                Answer(status=500, body={}) if value is None else Answer(body={"value": value})
            )
            clock.advance(10)
            assert eng.run_once().outcomes[0].decision == "hold"
        assert phase(store) == ("canary", "running")

    def test_unconfigured_source_is_inconclusive_not_a_crash(
        self, store: Store, clock: FrozenClock
    ) -> None:
        start(store)
        report = Engine(store).run_once()
        assert report.errors == []
        assert "no metric source 'api' is configured" in report.outcomes[0].reason

    def test_status_shows_what_the_engine_last_saw(
        self, store: Store, app: FakeApp, clock: FrozenClock
    ) -> None:
        start(store)
        app.answers["/inv"] = Answer(body={"value": 10})
        engine(store, app.url).run_once()
        _rollout, preview = pr.preview(store, "bot_smoke")
        [gate] = [e for e in preview.evaluations if e.kind == "gate"]
        assert gate.value == 10.0
        assert gate.verdict.value == "fail"


PROM_PLAN = """\
flag: bot_smoke
environment: prod
stages:
  - name: canary
    audience: 5
    gates:
      - metric: lambda_error_rate
        source: prom
        query: >-
          sum(app_errors_total{arm="{{arm}}"}) / sum(app_requests_total{arm="{{arm}}"})
        compare: control
        max_increase_pct: 20
    rollback:
      - {metric: lambda_duration_s, source: prom, query: max(app_duration_seconds), above: 30}
  - name: full
    audience: 100
"""


class TestPrometheusSourceGate:
    """A real Prometheus: the candidate compared with control by label, a trigger on a query."""

    def test_candidate_worse_than_control_holds_then_a_trigger_rolls_back(
        self, store: Store, prometheus: PrometheusServer, clock: FrozenClock
    ) -> None:
        prometheus.target.metrics.update(
            {
                'app_requests_total{arm="candidate"}': 1000,
                'app_errors_total{arm="candidate"}': 30,
                'app_requests_total{arm="control"}': 1000,
                'app_errors_total{arm="control"}': 10,
                "app_duration_seconds": 12,
            }
        )
        prometheus.wait_for('sum(app_errors_total{arm="candidate"})', 30)
        prometheus.wait_for("app_duration_seconds", 12)
        clock.advance((datetime.now(UTC) - clock.datetime()).total_seconds())
        start(store, PROM_PLAN)
        config = parse_sources_config(
            {"sources": {"prom": {"kind": "prometheus", "address": prometheus.url}}}
        )
        eng = Engine(store, sources=config)
        first = eng.run_once().outcomes[0]
        assert first.decision == "hold"
        assert "lambda_error_rate 0.03 vs control 0.01" in first.reason
        prometheus.target.metrics["app_duration_seconds"] = 45
        prometheus.wait_for("app_duration_seconds", 45)
        clock.advance((datetime.now(UTC) - clock.datetime()).total_seconds())
        second = eng.run_once().outcomes[0]
        assert second.decision == "rollback"
        assert "lambda_duration_s 45 > 30" in second.reason
        with store.read() as conn:
            rollout = records.require(conn, "bot_smoke", going=False)
            rows = source_queries.history(conn, rollout.id)
        assert rollout.state.phase is RolloutPhase.ROLLED_BACK
        arms = {(r.arm, r.query) for r in rows if r.check_key.startswith("prom|lambda_error")}
        assert (
            "control",
            'sum(app_errors_total{arm="control"}) / sum(app_requests_total{arm="control"})',
        ) in arms
