"""The engine: when a rollout starts, advances, holds, pauses, rolls back and completes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from phased.core.apply import flag_states_after
from phased.core.decide import DecisionKind, RollbackTo, decide
from phased.core.flags import FlagState
from phased.core.gates import Observations, StageOutcomes, Verdict
from phased.core.outcomes import Aggregate
from phased.core.plans import Plan, parse_plan
from phased.core.rollout_state import (
    Incident,
    RolloutPhase,
    RolloutState,
    approve,
    enter_stage,
    new_rollout,
    open_incident,
    pause,
    resolve_incident,
    resume,
    tick,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)

PLAN = """\
flag: awf_bundle
environment: prod
stages:
  - name: canary-5
    audience: 5
    min_duration: 1h
    max_duration: 6h
    min_samples: 1000
    gates:
      - {metric: error_rate, below: 0.01}
  - name: half
    audience: 50
    approval: {roles: [pm]}
    checklist: [no open P0/P1 bugs]
    min_duration: 30m
  - name: full
    audience: 100
"""


def plan_of(text: str = PLAN) -> Plan:
    return parse_plan(text, "plan.yaml")


def arm(requests: int, errors: int = 0, *, latency: float = 100.0, cost: float = 0.0) -> Aggregate:
    agg = Aggregate()
    agg.requests, agg.errors, agg.cost_usd = requests, errors, cost
    for _ in range(requests):
        agg.latency.add(latency)
    return agg


def running(plan: Plan, stage: int = 0, *, since: timedelta = timedelta(0)) -> RolloutState:
    state = new_rollout(plan.flag, "alice", T0 - since)
    return enter_stage(
        state,
        stage,
        environment=plan.stage_environment(stage),
        name=plan.stages[stage].name,
        now=T0 - since,
        reason="test",
    )


def seen(
    plan: Plan, stage: int, cand: Aggregate, ctrl: Aggregate | None = None, minutes: float = 60
) -> Observations:
    return Observations(
        current=StageOutcomes(
            stage=plan.stages[stage].name,
            environment=plan.stage_environment(stage),
            candidate=cand,
            control=ctrl or arm(0),
            elapsed_seconds=minutes * 60,
        )
    )


class TestPhases:
    """Phases say whether a rollout is over; the state is plain JSON."""

    def test_terminal(self) -> None:
        assert {p for p in RolloutPhase if p.is_terminal} == {
            RolloutPhase.ROLLED_BACK,
            RolloutPhase.COMPLETED,
        }

    def test_state_round_trips_as_json(self) -> None:
        plan = plan_of()
        state = approve(running(plan), "half", "bob", ("pm",), T0)
        state = open_incident(state, Incident(id="inc-1", severity="P2", opened_at=T0))
        assert RolloutState.model_validate_json(state.model_dump_json()) == state


class TestStart:
    """A pending rollout starts once the first stage's approvals and checklist are in."""

    def test_starts_at_the_first_stage(self) -> None:
        plan = plan_of()
        decision = decide(plan, new_rollout(plan.flag, "alice", T0), Observations(), T0)
        assert decision.kind is DecisionKind.ADVANCE
        assert decision.stage == "canary-5"
        assert decision.state.phase is RolloutPhase.RUNNING
        assert decision.state.stage_started_at == T0
        assert "5 % of users in prod" in decision.reason

    def test_waits_for_approval_of_the_first_stage(self) -> None:
        plan = plan_of(
            PLAN.replace("min_samples: 1000", "min_samples: 1000\n    approval: {roles: [pm]}")
        )
        state = new_rollout(plan.flag, "alice", T0)
        decision = decide(plan, state, Observations(), T0)
        assert decision.kind is DecisionKind.HOLD
        assert decision.state.phase is RolloutPhase.PENDING
        assert [w.kind for w in decision.waiting_for] == ["approval"]
        state = approve(state, "canary-5", "bob", ("pm",), T0)
        assert decide(plan, state, Observations(), T0).kind is DecisionKind.ADVANCE


class TestApprovals:
    """Approvals: the right role, enough people, never only the requester (four-eyes)."""

    def passed(self, plan: Plan, state: RolloutState) -> RolloutState:
        del plan
        return state

    def ready(self) -> tuple[Plan, RolloutState, Observations]:
        plan = plan_of()
        state = running(plan, since=timedelta(hours=2))
        return plan, state, seen(plan, 0, arm(2000, 4))

    def test_holds_for_approval_and_checklist(self) -> None:
        plan, state, metrics = self.ready()
        decision = decide(plan, state, metrics, T0)
        assert decision.kind is DecisionKind.HOLD
        assert {w.kind for w in decision.waiting_for} == {"approval", "checklist"}
        assert "waiting before stage half" in decision.reason
        assert any(a.key == "waiting:half" for a in decision.alerts)

    def test_advances_once_approved_and_ticked(self) -> None:
        plan, state, metrics = self.ready()
        state = approve(state, "half", "bob", ("pm",), T0)
        state = tick(state, "half", "no open P0/P1 bugs", "carol", T0)
        decision = decide(plan, state, metrics, T0)
        assert decision.kind is DecisionKind.ADVANCE
        assert decision.stage == "half"
        assert decision.state.stage == 1

    def test_requester_cannot_approve_alone(self) -> None:
        plan, state, metrics = self.ready()
        state = tick(
            approve(state, "half", "alice", ("pm",), T0), "half", "no open P0/P1 bugs", "a", T0
        )
        decision = decide(plan, state, metrics, T0)
        assert decision.kind is DecisionKind.HOLD
        assert "four-eyes" in decision.reason

    def test_wrong_role_does_not_count(self) -> None:
        plan, state, metrics = self.ready()
        state = tick(
            approve(state, "half", "dev", ("developer",), T0), "half", "no open P0/P1 bugs", "a", T0
        )
        assert decide(plan, state, metrics, T0).kind is DecisionKind.HOLD

    def test_count_needs_distinct_people(self) -> None:
        plan = plan_of(PLAN.replace("{roles: [pm]}", "{roles: [pm, admin], count: 2}"))
        state = running(plan, since=timedelta(hours=2))
        state = tick(state, "half", "no open P0/P1 bugs", "carol", T0)
        state = approve(state, "half", "bob", ("pm",), T0)
        state = approve(state, "half", "bob", ("pm",), T0)
        metrics = seen(plan, 0, arm(2000, 4))
        assert decide(plan, state, metrics, T0).waiting_for[0].missing == 1
        state = approve(state, "half", "dana", ("admin",), T0)
        assert decide(plan, state, metrics, T0).kind is DecisionKind.ADVANCE


class TestAdvance:
    """A stage advances only when soak, samples and every gate pass."""

    def approved(self, plan: Plan, state: RolloutState) -> RolloutState:
        state = approve(state, "half", "bob", ("pm",), T0)
        return tick(state, "half", "no open P0/P1 bugs", "carol", T0)

    def test_soak_not_elapsed(self) -> None:
        plan = plan_of()
        state = self.approved(plan, running(plan, since=timedelta(minutes=20)))
        decision = decide(plan, state, seen(plan, 0, arm(2000, 4)), T0)
        assert decision.kind is DecisionKind.HOLD
        assert "soak 20m of 1h" in decision.reason

    def test_min_samples_before_thresholds(self) -> None:
        plan = plan_of()
        state = self.approved(plan, running(plan, since=timedelta(hours=2)))
        decision = decide(plan, state, seen(plan, 0, arm(500, 50)), T0)
        assert decision.kind is DecisionKind.HOLD
        gate = next(r for r in decision.evaluations if r.kind == "gate")
        assert gate.verdict is Verdict.WAITING
        assert "500 of 1,000 candidate requests" in decision.reason

    def test_failing_gate_holds_and_prints_the_comparison(self) -> None:
        plan = plan_of()
        state = self.approved(plan, running(plan, since=timedelta(hours=2)))
        decision = decide(plan, state, seen(plan, 0, arm(4210, 131)), T0)
        assert decision.kind is DecisionKind.HOLD
        gate = next(r for r in decision.evaluations if r.kind == "gate")
        assert gate.verdict is Verdict.FAIL
        assert gate.reason == "error_rate 0.031 > 0.010 (stage canary-5, 4,210 requests)"
        assert (gate.value, gate.threshold) == (131 / 4210, 0.01)

    def test_no_data_is_waiting_not_failing(self) -> None:
        plan = plan_of()
        state = self.approved(plan, running(plan, since=timedelta(hours=2)))
        decision = decide(plan, state, Observations(), T0)
        gate = next(r for r in decision.evaluations if r.kind == "gate")
        assert gate.verdict is Verdict.WAITING
        assert "no data yet" in gate.reason

    def test_advance_then_complete(self) -> None:
        plan = plan_of()
        state = self.approved(plan, running(plan, since=timedelta(hours=2)))
        decision = decide(plan, state, seen(plan, 0, arm(2000, 4)), T0)
        assert decision.kind is DecisionKind.ADVANCE
        assert decision.state.stage_started_at == T0
        assert [r.stage for r in decision.state.runs] == ["canary-5", "half"]
        later = T0 + timedelta(minutes=31)
        decision = decide(plan, decision.state, seen(plan, 1, arm(10)), later)
        assert (decision.kind, decision.stage) == (DecisionKind.ADVANCE, "full")
        decision = decide(plan, decision.state, seen(plan, 2, arm(10)), later)
        assert decision.kind is DecisionKind.COMPLETE
        assert decision.state.phase is RolloutPhase.COMPLETED
        again = decide(plan, decision.state, Observations(), later + timedelta(hours=1))
        assert again.kind is DecisionKind.HOLD
        assert again.state == decision.state

    def test_max_duration_holds_and_alerts(self) -> None:
        plan = plan_of()
        state = self.approved(plan, running(plan, since=timedelta(hours=7)))
        decision = decide(plan, state, seen(plan, 0, arm(4210, 131)), T0)
        assert decision.kind is DecisionKind.HOLD
        assert "past its max_duration 6h" in decision.reason
        assert [a.key for a in decision.alerts] == ["overdue:canary-5"]

    @settings(max_examples=200, deadline=None)
    @given(
        requests=st.integers(min_value=0, max_value=5000),
        error_share=st.floats(min_value=0, max_value=0.05),
        minutes=st.integers(min_value=0, max_value=180),
    )
    def test_never_advances_past_a_failing_gate(
        self, requests: int, error_share: float, minutes: int
    ) -> None:
        plan = plan_of()
        state = self.approved(plan, running(plan, since=timedelta(minutes=minutes)))
        errors = int(requests * error_share)
        decision = decide(plan, state, seen(plan, 0, arm(requests, errors)), T0)
        if decision.kind is DecisionKind.ADVANCE:
            assert requests >= 1000
            assert errors / requests < 0.01
            assert minutes >= 60
        else:
            assert decision.kind is DecisionKind.HOLD


TRIGGERS = """\
flag: awf_bundle
environment: prod
stages:
  - {name: s5, audience: 5, min_duration: 1d}
  - {name: s25, audience: 25, min_duration: 1d}
rollback:
  - {metric: error_rate, above: 0.05}
  - {metric: error_rate, compare: control}
  - {metric: latency_p95_ms, compare: control, action: step_back}
  - {metric: retry_rate, above: 0.5, action: pause, severity: warning}
  - {metric: fallback_rate, above: 0.5, action: alert, severity: warning}
budget:
  cost_usd_per_day: {pause: 5, rollback: 10}
"""


class TestTriggers:
    """Triggers apply at every stage; the most protective firing action wins."""

    def test_threshold_waits_for_samples_then_rolls_back(self) -> None:
        plan = plan_of(TRIGGERS)
        state = running(plan, since=timedelta(hours=1))
        assert decide(plan, state, seen(plan, 0, arm(50, 10)), T0).kind is DecisionKind.HOLD
        decision = decide(plan, state, seen(plan, 0, arm(1000, 100)), T0)
        assert decision.kind is DecisionKind.ROLLBACK
        assert decision.rollback_to is RollbackTo.ZERO
        assert decision.state.phase is RolloutPhase.ROLLED_BACK
        assert "error_rate 0.100 > 0.050 (stage s5, 1,000 requests; e-value" in decision.reason
        assert decision.word == "rollback"

    def test_a_rate_above_its_threshold_needs_evidence(self) -> None:
        plan = plan_of(TRIGGERS)
        state = running(plan, since=timedelta(hours=1))
        decision = decide(plan, state, seen(plan, 0, arm(200, 12)), T0)
        assert decision.kind is DecisionKind.HOLD
        trigger = next(r for r in decision.evaluations if r.label == "error_rate > 0.05")
        assert trigger.verdict is Verdict.PASS
        assert "not yet with evidence" in trigger.reason

    def test_comparison_needs_evidence(self) -> None:
        plan = plan_of(TRIGGERS.replace("above: 0.05}", "above: 0.9}"))
        state = running(plan, since=timedelta(hours=1))
        noisy = decide(plan, state, seen(plan, 0, arm(10, 1), arm(190, 2)), T0)
        assert noisy.kind is DecisionKind.HOLD
        clear = decide(plan, state, seen(plan, 0, arm(600, 30), arm(11400, 114)), T0)
        assert clear.kind is DecisionKind.ROLLBACK
        assert "e-value" in clear.reason

    def test_healthy_comparison_passes(self) -> None:
        plan = plan_of(TRIGGERS)
        state = running(plan, since=timedelta(hours=1))
        decision = decide(plan, state, seen(plan, 0, arm(600, 6), arm(11400, 114)), T0)
        assert decision.kind is DecisionKind.HOLD
        compared = [r for r in decision.evaluations if r.metric == "error_rate" and r.e_value]
        assert compared[0].verdict is Verdict.PASS

    def test_step_back_goes_to_the_previous_stage_and_pauses(self) -> None:
        plan = plan_of(TRIGGERS)
        state = running(plan, 1, since=timedelta(hours=1))
        rng = random.Random(3)
        slow, fast = Aggregate(), Aggregate()
        for _ in range(3000):
            slow.requests += 1
            slow.latency.add(rng.lognormvariate(4.8, 1.4))
        for _ in range(9000):
            fast.requests += 1
            fast.latency.add(rng.lognormvariate(4.8, 0.7))
        decision = decide(plan, state, seen(plan, 1, slow, fast), T0)
        assert decision.kind is DecisionKind.ROLLBACK
        assert decision.rollback_to is RollbackTo.PREVIOUS_STAGE
        assert (decision.stage, decision.state.phase) == ("s5", RolloutPhase.PAUSED)

    def test_pause_then_hold(self) -> None:
        plan = plan_of(TRIGGERS)
        state = running(plan, since=timedelta(hours=1))
        retried = arm(200)
        retried.retries = 150
        decision = decide(plan, state, seen(plan, 0, retried), T0)
        assert decision.kind is DecisionKind.PAUSE
        assert decision.state.phase is RolloutPhase.PAUSED
        again = decide(plan, decision.state, seen(plan, 0, retried), T0)
        assert again.kind is DecisionKind.HOLD

    def test_alert_only_keeps_going(self) -> None:
        plan = plan_of(TRIGGERS)
        state = running(plan, since=timedelta(hours=1))
        fell_back = arm(200)
        fell_back.fallbacks = 150
        decision = decide(plan, state, seen(plan, 0, fell_back), T0)
        assert decision.kind is DecisionKind.HOLD
        assert any(a.key.startswith("signal:") for a in decision.alerts)

    def test_budget_pauses_then_rolls_back(self) -> None:
        plan = plan_of(TRIGGERS)
        state = running(plan, since=timedelta(hours=2))
        # $0.50 over 2 h is $6/day: above the $5 pause line, below the $10 rollback line.
        pausing = decide(plan, state, seen(plan, 0, arm(100, cost=0.5), minutes=120), T0)
        assert pausing.kind is DecisionKind.PAUSE
        assert "budget: cost_usd_per_day 6 > 5 (stage s5, 100 requests)" in pausing.reason
        rolling = decide(plan, state, seen(plan, 0, arm(100, cost=1.0), minutes=120), T0)
        assert rolling.kind is DecisionKind.ROLLBACK

    def test_budget_waits_for_its_window(self) -> None:
        plan = plan_of(TRIGGERS)
        state = running(plan, since=timedelta(minutes=5))
        decision = decide(plan, state, seen(plan, 0, arm(3, cost=0.01), minutes=5), T0)
        assert decision.kind is DecisionKind.HOLD

    def test_paused_rollout_still_rolls_back(self) -> None:
        plan = plan_of(TRIGGERS)
        state = pause(running(plan, since=timedelta(hours=1)), "bob", "looking", T0)
        assert decide(plan, state, seen(plan, 0, arm(100)), T0).kind is DecisionKind.HOLD
        decision = decide(plan, state, seen(plan, 0, arm(1000, 100)), T0)
        assert decision.kind is DecisionKind.ROLLBACK
        resumed = resume(state, "bob", T0)
        assert resumed.phase is RolloutPhase.RUNNING


class TestIncidents:
    """An open P0 rolls back at once (seed 002); the plan maps the other severities."""

    def test_p0_rolls_back(self) -> None:
        plan = plan_of()
        state = running(plan, since=timedelta(minutes=5))
        state = open_incident(
            state, Incident(id="inc-7", severity="P0", title="bot down", opened_at=T0)
        )
        decision = decide(plan, state, Observations(), T0)
        assert decision.kind is DecisionKind.ROLLBACK
        assert "incident inc-7 P0 (bot down) is open" in decision.reason

    def test_other_severities_follow_the_plan(self) -> None:
        plan = plan_of(PLAN + "incidents: {P0: rollback, P1: pause}\n")
        state = running(plan, since=timedelta(minutes=5))
        p2 = open_incident(state, Incident(id="a", severity="P2", opened_at=T0))
        assert decide(plan, p2, Observations(), T0).kind is DecisionKind.HOLD
        p1 = open_incident(state, Incident(id="b", severity="P1", opened_at=T0))
        assert decide(plan, p1, Observations(), T0).kind is DecisionKind.PAUSE
        resolved = resolve_incident(p1, "b", T0)
        assert decide(plan, resolved, Observations(), T0).kind is DecisionKind.HOLD


class TestDryRun:
    """A dry run records what it would do and marks every decision as not to be applied."""

    def test_would(self) -> None:
        plan = plan_of(TRIGGERS + "mode: dry_run\n")
        decision = decide(
            plan, running(plan, since=timedelta(hours=1)), seen(plan, 0, arm(1000, 100)), T0
        )
        assert decision.dry_run
        assert decision.reason.startswith("[dry run] would rollback: ")
        assert flag_states_after(plan, 0, decision, {"prod": FlagState(rollout=5)}) == {}


class TestApply:
    """A decision becomes the flag states the service layer writes."""

    def test_advance_and_rollback(self) -> None:
        plan = plan_of(TRIGGERS)
        start = decide(plan, new_rollout(plan.flag, "alice", T0), Observations(), T0)
        states = flag_states_after(plan, 0, start, {})
        assert states["prod"].rollout == 5
        assert states["prod"].enabled
        back = decide(plan, start.state, seen(plan, 0, arm(1000, 100)), T0 + timedelta(hours=1))
        after = flag_states_after(plan, 0, back, states)
        assert after["prod"].rollout == 0

    def test_disable(self) -> None:
        plan = plan_of(TRIGGERS.replace("above: 0.05}", "above: 0.05, action: disable}"))
        state = running(plan, since=timedelta(hours=1))
        decision = decide(plan, state, seen(plan, 0, arm(1000, 100)), T0)
        assert decision.rollback_to is RollbackTo.DISABLED
        assert not flag_states_after(plan, 0, decision, {})["prod"].enabled


class TestDeterminism:
    """The same plan, state, metrics and time give the same decision."""

    @settings(max_examples=50, deadline=None)
    @given(
        cand=st.integers(min_value=0, max_value=3000),
        cand_err=st.integers(min_value=0, max_value=300),
        ctrl=st.integers(min_value=0, max_value=30000),
        ctrl_err=st.integers(min_value=0, max_value=300),
        minutes=st.integers(min_value=0, max_value=3000),
    )
    def test_same_inputs_same_decision(
        self, cand: int, cand_err: int, ctrl: int, ctrl_err: int, minutes: int
    ) -> None:
        plan = plan_of(TRIGGERS)
        state = running(plan, since=timedelta(minutes=minutes))
        metrics = seen(plan, 0, arm(cand, min(cand, cand_err)), arm(ctrl, min(ctrl, ctrl_err)))
        first = decide(plan, state, metrics, T0)
        assert decide(plan, state, metrics, T0) == first
