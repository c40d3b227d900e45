"""``phased rollout status KEY`` ends with the rollout at a glance, in the API's words."""

from __future__ import annotations

from pathlib import Path

from .conftest import Run
from .test_rollouts_cli import ok, plan  # noqa: F401 (plan is a fixture)


class TestStatusAtAGlance:
    """Pending, it names the checklist and who may tick it; started, the approval ahead."""

    def test_waits_and_who(self, run: Run, plan: Path) -> None:  # noqa: F811
        ok(run("plan", "apply", str(plan), "--actor", "alice"))
        out = ok(run("rollout", "status", "awf_bundle"))
        assert "at a glance: pending: not started; stage 1 of 2 (canary-5)" in out
        assert "waits for checklist: 'golden tests pass' (who: developer, pm, admin)" in out
        assert "next: the first stage: once admin or developer or pm act" in out
        ok(run("rollout", "check", "awf_bundle", "--item", "golden tests pass", "--actor", "bo"))
        ok(run("engine", "run", "--once"))
        out = ok(run("rollout", "status", "awf_bundle"))
        assert "at a glance: running: stage 1 of 2 (canary-5): 5 % of users in prod" in out
        assert "waits for approval by pm" in out
        assert "trigger error_rate > 0.05: —, target trips at > 5.00 %: insufficient data" in out
