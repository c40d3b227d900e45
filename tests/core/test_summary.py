"""The rollout at a glance: phase and stage in words, who must act, plain numbers per check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from phased.core.decide import decide
from phased.core.gates import Observations, StageOutcomes
from phased.core.metric_format import fmt_axis, fmt_change, fmt_metric, unit_of
from phased.core.outcomes import Aggregate
from phased.core.plans import Plan, parse_plan
from phased.core.rollout_state import (
    RolloutPhase,
    RolloutState,
    approve,
    enter_stage,
    new_rollout,
    rolled_back,
    tick,
)
from phased.core.summary import summarize

T0 = datetime(2026, 3, 1, tzinfo=UTC)

PLAN = """\
flag: ux_updates
environment: prod
stages:
  - name: admins
    audience: 5
    min_duration: 2h
    min_samples: 100
    approval: {roles: [pm]}
    checklist: [smoke tests passed]
    gates:
      - {metric: error_rate, below: 0.01}
  - name: everyone
    audience: 100
    approval: {roles: [pm]}
rollback:
  - {metric: error_rate, above: 0.05, min_samples: 10}
  - {metric: latency_p95_ms, compare: control, max_increase_pct: 10}
budget:
  cost_usd_per_day: {pause: 5, rollback: 10}
"""


def plan_of() -> Plan:
    return parse_plan(PLAN, "plan.yaml")


def arm(requests: int, errors: int = 0, latency: float = 100.0) -> Aggregate:
    agg = Aggregate()
    agg.requests, agg.errors = requests, errors
    for i in range(requests):
        agg.latency.add(latency)
        agg.users.add(f"u{i}")
    return agg


def running(plan: Plan, since: timedelta) -> RolloutState:
    state = new_rollout(plan.flag, "alice", T0 - since)
    return enter_stage(
        state, 0, environment="prod", name="admins", now=T0 - since, reason="started"
    )


def observed(cand: Aggregate, ctrl: Aggregate, minutes: float = 60) -> Observations:
    return Observations(current=StageOutcomes("admins", "prod", cand, ctrl, minutes * 60))


class TestPending:
    """A pending rollout names the approval and the checklist, and who must act."""

    def test_waits_for_pm_and_checklist(self) -> None:
        plan = plan_of()
        state = new_rollout(plan.flag, "alice", T0)
        summary = summarize(
            plan, state, decide(plan, state, Observations(), T0), Observations(), T0
        )
        assert summary.phase == "pending"
        kinds = [(w.kind, w.who) for w in summary.waits]
        assert ("approval", ("pm",)) in kinds
        assert any(k == "checklist" for k, _ in kinds)
        assert summary.who_must_act[0] == "pm"
        assert summary.status.startswith("waits for stage admins: approval by pm")
        assert summary.next_words.startswith("the first stage: once")
        assert summary.exposure is None
        assert summary.stage_words.startswith("not started; stage 1 of 2 (admins)")


class TestRunning:
    """A running rollout shows soak left, exposure per arm and every check in plain numbers."""

    def test_soak_left_and_numbers(self) -> None:
        plan = plan_of()
        state = running(plan, timedelta(minutes=30))
        metrics = observed(arm(400, 2, latency=120), arm(800, 4, latency=100))
        summary = summarize(plan, state, decide(plan, state, metrics, T0), metrics, T0)
        soak = next(w for w in summary.waits if w.kind == "soak")
        assert soak.detail == "soak: 1h30m left"
        # A PM can approve the next stage while this one soaks: named, but after the soak.
        assert summary.status.startswith("measuring: soak: 1h30m left")
        assert "then stage everyone needs approval by pm" in summary.status
        assert "pm" in summary.who_must_act
        assert soak.until == T0 + timedelta(minutes=90)
        assert summary.earliest_next == T0 + timedelta(minutes=90)
        assert "not before 2026-03-01 01:30 UTC" in summary.next_words
        assert summary.exposure is not None
        assert (summary.exposure.candidate.requests, summary.exposure.candidate.users) == (400, 400)
        assert summary.exposure.control.requests == 800
        by_label = {c.label: c for c in summary.checks}
        gate = by_label["error_rate < 0.01"]
        assert (gate.candidate, gate.target, gate.words) == ("0.50 %", "< 1.00 %", "within target")
        trigger = by_label["error_rate > 0.05"]
        assert trigger.headroom == "4.50 points worse trips it (at 5.00 %)"
        assert trigger.action == "rolls back to 0 %"
        latency = by_label["latency_p95_ms not worse than control (+10 % tolerated)"]
        assert latency.candidate == "120 ms"
        assert latency.control == "100 ms"
        assert latency.effect is not None
        assert latency.effect.startswith("+20 ms (+")
        assert latency.evidence is not None
        assert "of the level that rolls back" in latency.evidence
        budget = by_label["budget: cost_usd_per_day > 5"]
        assert budget.action == "pauses for a person"

    def test_insufficient_data_in_words(self) -> None:
        plan = plan_of()
        state = running(plan, timedelta(hours=3))
        metrics = observed(arm(5), arm(5))
        summary = summarize(plan, state, decide(plan, state, metrics, T0), metrics, T0)
        assert {c.words for c in summary.checks if c.verdict == "waiting"} == {"insufficient data"}
        assert any(w.kind == "samples" and "5 of 100" in w.detail for w in summary.waits)


class TestFinished:
    """A finished rollout says completed or rolled back, never hold, and waits for nobody."""

    def test_completed(self) -> None:
        plan = plan_of()
        state = running(plan, timedelta(days=1)).model_copy(
            update={"phase": RolloutPhase.COMPLETED, "reason": "completed after stage everyone"}
        )
        summary = summarize(
            plan, state, decide(plan, state, Observations(), T0), Observations(), T0
        )
        assert summary.phase == "completed"
        assert summary.status.startswith("completed after stage")
        assert summary.waits == ()
        assert summary.who_must_act == ()
        assert summary.next_words.startswith("nothing")

    def test_rolled_back_trigger_reads_harmful(self) -> None:
        plan = plan_of()
        state = running(plan, timedelta(hours=1))
        metrics = observed(arm(400, 200), arm(400, 2))
        decision = decide(plan, state, metrics, T0)
        assert decision.kind.value == "rollback"
        after = rolled_back(state, decision.reason, T0)
        summary = summarize(plan, after, decision, metrics, T0)
        assert summary.phase == "rolled back"
        # The list's line names the trigger in plain numbers, not the e-value.
        assert summary.status == (
            "rolled back at stage admins: error_rate > 0.05 (50.00 %; trips at > 5.00 %)"
        )
        fired = [c for c in summary.checks if c.verdict == "fail" and c.kind == "trigger"]
        assert fired
        assert all(c.words == "harmful: rolled back" for c in fired)
        assert summary.steps[-1].percent == 0.0
        assert summary.steps[-1].stage == "rolled back"


class TestApprovedAndTicked:
    """Once the PM approved and the list is ticked, nobody is asked to act."""

    def test_nobody_left(self) -> None:
        plan = plan_of()
        state = new_rollout(plan.flag, "alice", T0)
        state = approve(state, "admins", "pat", ("pm",), T0)
        state = tick(state, "admins", "smoke tests passed", "pat", T0)
        summary = summarize(
            plan, state, decide(plan, state, Observations(), T0), Observations(), T0
        )
        assert summary.who_must_act == ()
        assert summary.status == "ready: would advance now"


class TestUnits:
    """Numbers carry their unit, and a change its sign."""

    def test_units(self) -> None:
        assert fmt_metric("error_rate", 0.00556) == "0.56 %"
        assert fmt_metric("latency_p95_ms", 812.4) == "812 ms"
        assert fmt_metric("cost_usd_per_day", 5) == "$5.00"
        assert fmt_change("error_rate", -0.001) == "-0.10 points"
        assert unit_of("latency_p50_ms") == "ms"
        assert unit_of("error_rate") == "%"
        assert fmt_axis("error_rate", 0.01) == "1 %"
        assert fmt_axis("latency_p95_ms", 12_000) == "12 s"

    @given(st.floats(min_value=0, max_value=1))
    def test_rates_always_percent(self, value: float) -> None:
        assert fmt_metric("error_rate", value).endswith(" %")
