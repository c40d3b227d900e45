"""Gates and triggers on metric sources: judged from measurements, never from a missing one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phased.core.decide import DecisionKind, decide
from phased.core.gates import Observations, Verdict
from phased.core.measured import (
    Measurement,
    allowed_value,
    evaluate_measured,
    measurement_key,
    prometheus_duration,
    render_query,
)
from phased.core.plans import Plan, parse_plan
from phased.core.rollout_state import RolloutPhase, RolloutState, enter_stage, new_rollout
from phased.errors import SourceError

T0 = datetime(2026, 3, 1, tzinfo=UTC)

PLAN = """\
flag: bot_smoke
environment: prod
inconclusive_limit: 3
stages:
  - name: canary
    audience: 5
    gates:
      - metric: lambda_errors
        source: prom
        query: sum(rate(errors_total{arm="{{arm}}"}[{{interval}}]))
        compare: control
        max_increase_pct: 10
      - {metric: invocations_per_hour, source: prom, query: 'sum(inv{flag="{{flag}}"})',
         above: 1000}
    rollback:
      - {metric: lambda_duration_s, source: prom, query: max(dur), above: 30}
  - name: full
    audience: 100
"""


def plan_of(text: str = PLAN) -> Plan:
    return parse_plan(text, "plan.yaml", sources=["prom"])


def running(plan: Plan) -> RolloutState:
    state = new_rollout(plan.flag, "alice", T0)
    return enter_stage(state, 0, environment="prod", name="canary", now=T0, reason="start")


def ok(value: float, control: float | None = None, **kw: object) -> Measurement:
    return Measurement(source="prom", query="q", ok=True, value=value, control_value=control)


def down(streak: int) -> Measurement:
    return Measurement(source="prom", query="q", ok=False, message="could not reach", streak=streak)


def keys(plan: Plan) -> list[str]:
    stage = plan.stages[0]
    return [measurement_key(c) for c in (*stage.gates, *stage.rollback)]


def observe(plan: Plan, *answers: Measurement) -> Observations:
    return Observations(measurements=dict(zip(keys(plan), answers, strict=True)))


class TestEvaluateMeasured:
    """One check on one measurement."""

    def test_threshold_gate_passes_and_fails(self) -> None:
        gate = plan_of().stages[0].gates[1]
        assert evaluate_measured(gate, "gate", ok(1500), stage="canary").verdict is Verdict.PASS
        failed = evaluate_measured(gate, "gate", ok(900), stage="canary")
        assert failed.verdict is Verdict.FAIL
        assert "invocations_per_hour 900 < 1,000" in failed.reason
        assert "source prom" in failed.reason

    def test_trigger_fires_when_its_condition_holds(self) -> None:
        trigger = plan_of().stages[0].rollback[0]
        assert evaluate_measured(trigger, "trigger", ok(31), stage="c").verdict is Verdict.FAIL
        assert evaluate_measured(trigger, "trigger", ok(3), stage="c").verdict is Verdict.PASS

    def test_comparison_with_control(self) -> None:
        gate = plan_of().stages[0].gates[0]
        assert evaluate_measured(gate, "gate", ok(1.05, 1.0), stage="c").verdict is Verdict.PASS
        worse = evaluate_measured(gate, "gate", ok(1.2, 1.0), stage="c")
        assert worse.verdict is Verdict.FAIL
        assert worse.control_value == 1.0
        assert worse.threshold == pytest.approx(1.1)

    def test_missing_data_is_inconclusive_for_gates_and_triggers(self) -> None:
        plan = plan_of()
        for check, kind in (
            (plan.stages[0].gates[1], "gate"),
            (plan.stages[0].rollback[0], "trigger"),
        ):
            for m in (None, down(1), Measurement(source="prom", query="q", ok=True, value=None)):
                result = evaluate_measured(check, kind, m, stage="canary")  # type: ignore[arg-type]
                assert result.verdict is Verdict.INCONCLUSIVE
        result = evaluate_measured(plan.stages[0].gates[1], "gate", down(2), stage="canary")
        assert "could not reach" in result.reason
        assert "2 in a row" in result.reason

    def test_allowed_value_takes_the_larger_tolerance(self) -> None:
        assert allowed_value(0.1, 0.05, 10) == pytest.approx(0.15)
        assert allowed_value(0.1, None, None) == 0.1


class TestDecideWithSources:
    """decide holds on inconclusive sources, advances on passing ones, pauses after N."""

    def test_all_pass_advances(self) -> None:
        plan = plan_of()
        d = decide(plan, running(plan), observe(plan, ok(1.0, 1.0), ok(2000), ok(5)), T0)
        assert d.kind is DecisionKind.ADVANCE

    def test_one_inconclusive_gate_holds(self) -> None:
        plan = plan_of()
        d = decide(plan, running(plan), observe(plan, ok(1.0, 1.0), down(1), ok(5)), T0)
        assert d.kind is DecisionKind.HOLD
        assert "inconclusive" in d.reason

    def test_not_measured_holds(self) -> None:
        plan = plan_of()
        d = decide(plan, running(plan), Observations(), T0)
        assert d.kind is DecisionKind.HOLD
        assert {e.verdict for e in d.evaluations} == {Verdict.INCONCLUSIVE}

    def test_limit_of_inconclusive_checks_pauses_and_alerts(self) -> None:
        plan = plan_of()
        d = decide(plan, running(plan), observe(plan, ok(1.0, 1.0), ok(2000), down(3)), T0)
        assert d.kind is DecisionKind.PAUSE
        assert d.state.phase is RolloutPhase.PAUSED
        assert "inconclusive 3 times in a row" in d.reason
        assert d.alerts
        assert d.alerts[0].severity == "warning"

    def test_a_firing_source_trigger_rolls_back(self) -> None:
        plan = plan_of()
        d = decide(plan, running(plan), observe(plan, ok(1.0, 1.0), ok(2000), ok(45)), T0)
        assert d.kind is DecisionKind.ROLLBACK

    @given(
        value=st.floats(allow_nan=False, allow_infinity=False, width=32),
        streak=st.integers(min_value=0, max_value=10),
        which=st.integers(min_value=0, max_value=1),
    )
    def test_missing_data_never_advances(self, value: float, streak: int, which: int) -> None:
        """Whatever the other answers, one gate without a number keeps the stage."""
        plan = plan_of()
        answers = [ok(value, value), ok(value), ok(0.0)]
        answers[which] = down(streak)
        d = decide(plan, running(plan), observe(plan, *answers), T0 + timedelta(hours=1))
        assert d.kind is not DecisionKind.ADVANCE


class TestTemplates:
    """Template variables and durations."""

    def test_render_fills_known_and_keeps_unknown(self) -> None:
        text = render_query(
            'x{flag="{{flag}}",arm="{{ arm }}"}[{{interval}}] {{nope}}',
            {"flag": "f", "arm": "control", "interval": "5m"},
        )
        assert text == 'x{flag="f",arm="control"}[5m] {{nope}}'

    @pytest.mark.parametrize(
        ("seconds", "text"), [(300, "5m"), (3600, "1h"), (90, "90s"), (0, "1s")]
    )
    def test_prometheus_duration(self, seconds: float, text: str) -> None:
        assert prometheus_duration(seconds) == text


class TestPlanValidation:
    """Bad source fields are refused at plan validate with file, line and field."""

    def test_unknown_source_lists_the_configured_ones(self) -> None:
        with pytest.raises(SourceError) as err:
            parse_plan(PLAN, "plan.yaml", sources=["other"])
        assert "plan.yaml:9: stages[0].gates[0].source:" in str(err.value)
        assert "unknown metric source 'prom'; configured: other, sdk" in str(err.value)

    def test_query_without_source_is_refused(self) -> None:
        text = PLAN.replace("source: prom\n        query", "query")
        with pytest.raises(SourceError, match="only for a check with a metric source"):
            parse_plan(text, "plan.yaml")

    def test_source_without_query_is_refused(self) -> None:
        text = PLAN.replace("source: prom, query: max(dur), ", "source: prom, ")
        with pytest.raises(SourceError, match="needs a query"):
            parse_plan(text, "plan.yaml")

    def test_compare_needs_an_arm_variable(self) -> None:
        text = PLAN.replace('{arm="{{arm}}"}', "")
        with pytest.raises(SourceError, match=r"select the arm with \{\{arm\}\}"):
            parse_plan(text, "plan.yaml")

    def test_sources_are_not_checked_without_a_list(self) -> None:
        assert parse_plan(PLAN, "plan.yaml").stages[0].gates[0].source == "prom"

    def test_builtin_per_hour_metric(self) -> None:
        text = "flag: f\nenvironment: prod\nstages:\n  - name: a\n    audience: 5\n    gates:\n      - {metric: requests_per_hour, above: 1000}\n"
        assert parse_plan(text).stages[0].gates[0].metric == "requests_per_hour"


class TestJsonPathAtValidate:
    """A JSONPath the web source could never read is refused at plan validate."""

    def test_wildcard_is_refused(self) -> None:
        text = PLAN.replace(
            "query: max(dur), above: 30", "query: /x, jsonpath: '$.a[*]', above: 30"
        )
        with pytest.raises(SourceError, match=r"jsonpath: cannot read '\$.a\[\*\]'"):
            parse_plan(text, "plan.yaml")
