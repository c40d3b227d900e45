"""Simulation: the real flag evaluation picks each request's arm; the real engine decides."""

from __future__ import annotations

import pytest

from phased.core.flagfile import parse_flagset
from phased.core.plans import parse_plan
from phased.errors import ValidationError
from phased.simulate import parse_traffic, simulate

TRAFFIC = """\
seed: 11
requests_per_minute: 200
duration_minutes: 120
users: 20000
attributes:
  role: {admin: 0.02, pm: 0.05, developer: 0.20, member: 0.73}
  labels: {beta-test: 0.05}
control:   {error_rate: 0.01, latency_ms: {median: 120, p95: 400}}
candidate: {error_rate: 0.01, latency_ms: {median: 120, p95: 400}, cost_usd: 0.0001}
"""

PLAN = """\
flag: ux_updates
environment: prod
stages:
  - name: admins
    audience: "role in [admin]"
    min_duration: 20m
  - name: pms
    audience: "role in [pm]"
    approval: {roles: [pm]}
    min_duration: 20m
  - name: five
    audience: 5
    min_duration: 30m
  - name: all
    audience: 100
    min_duration: 10m
rollback:
  - {metric: error_rate, compare: control}
  - {metric: latency_p95_ms, compare: control}
"""


def run(plan: str = PLAN, traffic: str = TRAFFIC, **kwargs: object):  # type: ignore[no-untyped-def]
    return simulate(parse_plan(plan), parse_traffic(traffic), **kwargs)  # type: ignore[arg-type]


class TestHealthy:
    """Healthy traffic walks the plan to completion, with the person's approval on record."""

    def test_completes(self) -> None:
        result = run()
        assert result.outcome == "completed"
        kinds = [e.event for e in result.events if e.event != "gate"]
        assert kinds.count("advance") == 4
        assert kinds[-1] == "complete"
        assert result.minute == 80
        approval = next(e for e in result.events if e.stage == "pms" and e.event == "advance")
        assert "sim-pm-1 approved stage pms" in approval.reason

    def test_deterministic_for_a_seed(self) -> None:
        first, again = run(), run()
        assert [e.to_dict() for e in first.events] == [e.to_dict() for e in again.events]
        other = run(seed=12)
        assert other.candidate_requests != first.candidate_requests

    def test_summary_line(self) -> None:
        summary = run().summary()
        assert set(summary) >= {
            "event",
            "outcome",
            "minute",
            "candidate_requests",
            "candidate_errors",
        }
        assert summary["event"] == "summary"


class TestAudiences:
    """Cohort stages reach only their cohort; percentages reach their share of traffic."""

    def test_admin_stage_share(self) -> None:
        result = run(PLAN.replace("min_duration: 20m", "min_duration: 3h", 1))
        last = result.events[-1]
        share = last.metrics["candidate_share"]
        assert 0.01 < share < 0.035  # admins are 2 % of users

    def test_percentage_stage_share(self) -> None:
        plan = PLAN.replace("min_duration: 30m", "min_duration: 5h")
        result = run(plan)
        last = result.events[-1]
        assert last.stage == "five"
        assert 0.05 + 0.02 + 0.05 - 0.04 < last.metrics["candidate_share"] < 0.12 + 0.04

    def test_segments_need_their_definition(self) -> None:
        plan = PLAN.replace('"role in [admin]"', "{segments: [admins]}")
        with pytest.raises(ValidationError, match="admins"):
            run(plan)
        flags = parse_flagset("segments:\n  admins:\n    where: role in [admin]\n")
        assert run(plan, flagset=flags).outcome == "completed"


class TestRegression:
    """A regression from minute 0 is rolled back early, with the evidence in the reason."""

    def test_error_regression(self) -> None:
        result = run(
            traffic=TRAFFIC.replace(
                "{error_rate: 0.01, latency_ms: {median: 120, p95: 400}, cost",
                "{error_rate: 0.08, latency_ms: {median: 120, p95: 400}, cost",
            )
        )
        assert result.outcome == "rolled_back"
        rollback = result.first("rollback")
        assert rollback is not None
        assert "error_rate" in rollback.reason
        assert result.summary()["outcome"] == "rolled_back"

    def test_regression_starting_later(self) -> None:
        traffic = TRAFFIC.replace(
            "cost_usd: 0.0001}", "cost_usd: 0.0001, starts_at_minute: 50}"
        ).replace(
            "{error_rate: 0.01, latency_ms: {median: 120, p95: 400}, cost",
            "{error_rate: 0.3, latency_ms: {median: 120, p95: 400}, cost",
        )
        result = run(PLAN, traffic)
        rollback = result.first("rollback")
        assert rollback is not None
        assert rollback.minute > 50
        assert rollback.stage == "five"


class TestPeople:
    """Without the simulated person, approvals stay pending and the timeline says so."""

    def test_no_auto_approve(self) -> None:
        result = run(auto_approve=False)
        assert result.outcome == "running"
        assert result.stage == "admins"
        hold = [e for e in result.events if e.event == "hold"][-1]
        assert "waiting before stage pms: approval by pm" in hold.reason


class TestDryRun:
    """A dry-run plan never changes the flag, so the candidate arm stays empty."""

    def test_flag_untouched(self) -> None:
        result = run(PLAN + "mode: dry_run\n")
        assert result.candidate_requests == 0
        assert all(e.reason.startswith("[dry run]") for e in result.events if e.event == "advance")


class TestRealUsersRun:
    """A healthy candidate among real users completes; outcomes carry the stickiness key."""

    def test_real_users_example_completes_by_unit(self) -> None:
        from pathlib import Path

        root = Path(__file__).resolve().parents[2] / "examples"
        plan = parse_plan((root / "plans" / "quickstart.yaml").read_text(encoding="utf-8"))
        traffic = parse_traffic((root / "traffic" / "real-users.yaml").read_text(encoding="utf-8"))
        result = simulate(plan, traffic)
        assert result.outcome == "completed"
        assert result.first("rollback") is None
