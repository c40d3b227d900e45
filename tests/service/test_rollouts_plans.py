"""Applying plans and applying decisions: flag, state, history, alerts and audit together."""

from __future__ import annotations

from datetime import timedelta

import pytest

from phased.core.decide import decide
from phased.core.gates import Observations
from phased.errors import ConflictError, NotFoundError, SourceError, ValidationError
from phased.service import audit, flags, members
from phased.service import plan_rollouts as pr
from phased.store.engine import Store
from phased.store.outbox import Outbox
from phased.testing import FrozenClock

from .rollout_fixtures import PLAN, feed, seed_people


def prod(store: Store) -> tuple[bool, float]:
    state = flags.get_flag(store, "awf_bundle").flag.environments["prod"]
    return state.enabled, state.rollout


def engine_step(store: Store) -> pr.Applied:
    rollout, decision = pr.preview(store, "awf_bundle")
    return pr.apply_decision(store, rollout.id, rollout.version, decision)


@pytest.fixture
def world(store: Store) -> Store:
    seed_people(store)
    return store


class TestApplyPlan:
    """Applying a plan starts the rollout and puts its first stage in force at once."""

    def test_first_stage_applies_at_once(self, world: Store) -> None:
        applied = pr.apply_plan(world, actor="alice", text=PLAN, path="awf.yaml")
        assert applied.rollout.phase == "running"
        assert applied.rollout.stage.name == "canary-5"
        assert prod(world) == (True, 5.0)
        actions = [(e.action, e.entity) for e in applied.entries]
        assert actions == [
            ("rollout.start", "rollout:awf_bundle"),
            ("rollout.advance", "flag:awf_bundle"),
            ("rollout.advance", "rollout:awf_bundle"),
        ]
        assert {e.actor for e in applied.entries} == {"alice"}
        kinds = [h.kind for h in pr.rollout_history(world, "awf_bundle")]
        assert kinds == ["apply", "advance"]

    def test_first_stage_waits_for_its_checklist(self, world: Store) -> None:
        text = PLAN.replace(
            "    min_samples: 100\n", "    min_samples: 100\n    checklist: [golden]\n", 1
        )
        applied = pr.apply_plan(world, actor="alice", text=text)
        assert applied.rollout.phase == "pending"
        assert prod(world) == (False, 0.0)
        assert "checklist: 'golden'" in applied.decision.reason

    def test_refuses_a_second_rollout_of_the_same_flag(self, world: Store) -> None:
        pr.apply_plan(world, actor="alice", text=PLAN)
        before = world.dump()
        with pytest.raises(ConflictError, match="already has a rollout in progress"):
            pr.apply_plan(world, actor="alice", text=PLAN)
        assert world.dump() == before

    @pytest.mark.parametrize(
        ("change", "error", "message"),
        [
            (("flag: awf_bundle", "flag: nope"), NotFoundError, "no flag 'nope'"),
            (("audience: 50", "audience: {segments: [beta]}"), ValidationError, "no segment 'beta'"),
            (("roles: pm", "roles: viewer"), ValidationError, "no member holds viewer"),
            (("environment: prod", "environment: qa"), ValidationError, "unknown environment 'qa'"),
            (("environment: prod", "environment: prod\nstickiness: session"), ValidationError,
             "sticks to 'session'"),
            (("audience: 50", "audience: 2"), SourceError, "percentages only grow"),
        ],
    )  # fmt: skip
    def test_refusals_name_the_field_and_write_nothing(
        self, world: Store, change: tuple[str, str], error: type[Exception], message: str
    ) -> None:
        before = world.dump()
        with pytest.raises(error, match=message):
            pr.apply_plan(world, actor="alice", text=PLAN.replace(*change, 1), path="p.yaml")
        assert world.dump() == before

    def test_env_guard(self, world: Store) -> None:
        with pytest.raises(ValidationError, match="runs in prod, not 'staging'"):
            pr.apply_plan(world, actor="alice", text=PLAN, environment="staging")

    def test_invalid_plan_names_file_and_line(self, world: Store) -> None:
        with pytest.raises(SourceError, match=r"p\.yaml:9: stages\[0\]\.gates\[0\]\.metric"):
            pr.apply_plan(
                world,
                actor="a",
                text=PLAN.replace("{metric: error_rate, below", "{metric: nope, below", 1),
                path="p.yaml",
            )


class TestApplyDecision:
    """Engine decisions land with their history, alerts and audit, or not at all."""

    def test_stale_version_is_refused_and_changes_nothing(
        self, world: Store, clock: FrozenClock
    ) -> None:
        applied = pr.apply_plan(world, actor="alice", text=PLAN)
        rollout = applied.rollout
        decision = decide(rollout.plan, rollout.state, Observations(), clock.datetime())
        members.add_member(world, actor="root", name="x", roles=["pm"])
        from phased.service.approvals import check

        check(world, actor="pat", flag="awf_bundle", item="no open P0/P1 bugs")
        before = world.dump()
        with pytest.raises(ConflictError, match="decide again"):
            pr.apply_decision(world, rollout.id, rollout.version, decision)
        assert world.dump() == before

    def test_repeated_holds_are_thinned_to_a_heartbeat(
        self, world: Store, clock: FrozenClock
    ) -> None:
        pr.apply_plan(world, actor="alice", text=PLAN)
        recorded = []
        for _ in range(7):
            clock.advance(10)
            recorded.append(engine_step(world).recorded)
        # The first hold is new; the next ones repeat it until a minute has passed.
        assert recorded == [True, False, False, False, False, False, True]
        assert audit.recent(world, action="rollout.hold") == []

    def test_a_changed_verdict_is_recorded_at_once(self, world: Store, clock: FrozenClock) -> None:
        pr.apply_plan(world, actor="alice", text=PLAN)
        clock.advance(10)
        assert engine_step(world).recorded
        clock.advance(10)
        feed(world, clock, candidate=(150, 1))
        assert engine_step(world).recorded

    def test_rollback_zeroes_the_flag_alerts_and_audits(
        self, world: Store, clock: FrozenClock
    ) -> None:
        pr.apply_plan(world, actor="alice", text=PLAN)
        clock.advance(60)
        feed(world, clock, candidate=(200, 100))
        applied = engine_step(world)
        assert applied.decision.kind.value == "rollback"
        assert applied.rollout.phase == "rolled_back"
        assert prod(world) == (True, 0.0)
        queued = Outbox(world.engine).list()
        assert [q.alert.severity.value for q in queued] == ["critical"]
        assert "error_rate 0.500 > 0.200" in queued[0].alert.message
        assert queued[0].alert.rollout == f"awf_bundle#{applied.rollout.id}"
        assert [e.action for e in applied.entries] == ["rollout.rollback", "rollout.rollback"]
        assert audit.verify(world).ok
        last = pr.rollout_history(world, "awf_bundle")[-1]
        assert last.kind == "rollback"
        fired = [e for e in last.evaluations if e.verdict.value == "fail"]
        assert fired[0].value == 0.5
        assert fired[0].threshold == 0.2

    def test_an_alert_is_sent_once_per_stage(self, world: Store, clock: FrozenClock) -> None:
        pr.apply_plan(world, actor="alice", text=PLAN)
        clock.advance(3700)
        feed(world, clock, candidate=(200, 0))
        for _ in range(3):
            clock.advance(10)
            engine_step(world)
        waiting = [q for q in Outbox(world.engine).list() if "needs" in q.alert.message]
        assert len(waiting) == 1
        assert "approval by pm" in waiting[0].alert.message

    def test_dry_run_moves_the_state_but_not_the_flag(
        self, world: Store, clock: FrozenClock
    ) -> None:
        applied = pr.apply_plan(world, actor="alice", text="mode: dry_run\n" + PLAN)
        assert applied.rollout.stage.name == "canary-5"
        assert prod(world) == (False, 0.0)
        clock.advance(60)
        feed(world, clock, candidate=(200, 100))
        rolled = engine_step(world)
        assert rolled.decision.reason.startswith("[dry run] would rollback")
        assert prod(world) == (False, 0.0)
        assert Outbox(world.engine).list() == []
        assert audit.recent(world, action="rollout.dry_run")
        assert audit.recent(world, action="rollout.rollback") == []
        assert rolled.rollout.phase == "rolled_back"

    def test_record_only_writes_history_alone(self, world: Store, clock: FrozenClock) -> None:
        applied = pr.apply_plan(world, actor="alice", text=PLAN)
        clock.advance(60)
        feed(world, clock, candidate=(200, 100))
        rollout, decision = pr.preview(world, "awf_bundle")
        before = [e.id for e in audit.recent(world)]
        done = pr.apply_decision(world, rollout.id, rollout.version, decision, record_only=True)
        assert done.recorded
        assert pr.get_rollout(world, "awf_bundle").version == applied.rollout.version
        assert prod(world) == (True, 5.0)
        assert [e.id for e in audit.recent(world)] == before
        assert pr.rollout_history(world, "awf_bundle")[-1].dry_run


class TestReading:
    """Status reads never write, and stages in force label outcomes."""

    def test_preview_writes_nothing(self, world: Store, clock: FrozenClock) -> None:
        pr.apply_plan(world, actor="alice", text=PLAN)
        before = world.dump()
        clock.advance(timedelta(hours=2).total_seconds())
        _, decision = pr.preview(world, "awf_bundle")
        assert decision.kind.value == "hold"
        assert world.dump() == before

    def test_active_stages(self, world: Store) -> None:
        assert pr.active_stages(world, "prod") == {}
        pr.apply_plan(world, actor="alice", text=PLAN)
        assert pr.active_stages(world, "prod") == {"awf_bundle": "canary-5"}
        assert pr.active_stages(world, "dev") == {}

    def test_unknown_flag_names_the_fix(self, world: Store) -> None:
        with pytest.raises(NotFoundError, match="phased plan apply"):
            pr.get_rollout(world, "awf_bundle")
