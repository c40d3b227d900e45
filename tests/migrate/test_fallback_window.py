"""The emergency-fallback pattern: when the window ends, the engine holds and reminds a person."""

from __future__ import annotations

from phased.core.plans import parse_plan
from phased.simulate import parse_traffic, simulate

PLAN = """\
flag: awf_bundle
environment: prod
stages:
  - {name: full, audience: 100}
  - name: fallback-window
    audience: 100
    min_duration: 7d
  - name: decommission
    audience: 100
    checklist: [EMERGENCY_FALLBACK removed]
"""

TRAFFIC = """\
seed: 3
requests_per_minute: 1
duration_minutes: 17280
decide_every_minutes: 60
users: 500
control: {error_rate: 0.001}
candidate: {error_rate: 0.001}
"""


class TestFallbackWindow:
    """Past the window the rollout waits for the removal and alerts the people who can do it."""

    def test_reminder(self) -> None:
        result = simulate(parse_plan(PLAN), parse_traffic(TRAFFIC), auto_approve=False)
        assert (result.outcome, result.stage) == ("running", "fallback-window")
        reminders = [
            (d.at, d.stage, a.message)
            for d in result.decisions
            for a in d.alerts
            if a.key == "waiting:decommission"
        ]
        entered = next(d.at for d in result.decisions if d.stage == "fallback-window")
        at, stage, message = reminders[0]
        assert stage == "fallback-window"
        assert (at - entered).total_seconds() >= 7 * 86_400
        assert message == "stage decommission needs: checklist: 'EMERGENCY_FALLBACK removed'"
        waiting = result.decisions[-1].waiting_for
        assert [w.item for w in waiting] == ["EMERGENCY_FALLBACK removed"]
