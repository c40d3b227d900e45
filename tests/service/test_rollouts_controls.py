"""Manual controls: advance (and its forced form), pause, resume, roll back."""

from __future__ import annotations

import pytest

from phased.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from phased.service import audit, flags
from phased.service import plan_rollouts as pr
from phased.service import rollout_controls as rc
from phased.service.approvals import approve, check
from phased.store.engine import Store
from phased.store.outbox import Outbox
from phased.testing import FrozenClock

from .rollout_fixtures import PLAN, feed, seed_people


def prod_rollout(store: Store) -> float:
    return flags.get_flag(store, "awf_bundle").flag.environments["prod"].rollout


@pytest.fixture
def going(store: Store) -> Store:
    """A rollout of PLAN applied by alice, at stage canary-5."""
    seed_people(store)
    pr.apply_plan(store, actor="alice", text=PLAN)
    return store


def ready_for_half(store: Store, clock: FrozenClock) -> None:
    clock.advance(3700)
    feed(store, clock, candidate=(200, 1))
    approve(store, actor="pat", flag="awf_bundle", stage="half")
    check(store, actor="pat", flag="awf_bundle", item="no open P0/P1 bugs")


class TestAdvance:
    """A person may advance a ready stage at once; an admin may force one that is not."""

    def test_not_ready_is_refused_with_what_blocks(self, going: Store) -> None:
        before = going.dump()
        with pytest.raises(ConflictError, match=r"soak 0s of 1h; .*--force"):
            rc.advance(going, actor="bob", flag="awf_bundle")
        assert going.dump() == before

    def test_ready_advances_and_remembers_who(self, going: Store, clock: FrozenClock) -> None:
        ready_for_half(going, clock)
        applied = rc.advance(going, actor="bob", flag="awf_bundle")
        assert applied.rollout.stage.name == "half"
        assert applied.rollout.state.last_advanced_by == "bob"
        assert prod_rollout(going) == 50.0
        assert applied.entries[-1].details["source"] == "manual"

    def test_force_needs_admin(self, going: Store) -> None:
        with pytest.raises(PermissionDeniedError, match="needs admin"):
            rc.advance(going, actor="pat", flag="awf_bundle", force=True)

    def test_force_never_skips_approvals(self, going: Store) -> None:
        with pytest.raises(PermissionDeniedError, match="not approvals: stage half still needs"):
            rc.advance(going, actor="root", flag="awf_bundle", force=True)

    def test_force_skips_measurements_and_is_audited(self, going: Store) -> None:
        approve(going, actor="pat", flag="awf_bundle", stage="half")
        check(going, actor="pat", flag="awf_bundle", item="no open P0/P1 bugs")
        applied = rc.advance(going, actor="root", flag="awf_bundle", force=True)
        assert applied.rollout.stage.name == "half"
        assert prod_rollout(going) == 50.0
        entry = audit.recent(going, action="rollout.advance", entity="rollout:awf_bundle")[0]
        assert entry.actor == "root"
        assert entry.details["forced"] is True
        assert any("soak 0s of 1h" in s for s in entry.details["skipped"])
        assert pr.rollout_history(going, "awf_bundle")[-1].source == "forced"

    def test_force_past_the_last_stage_completes(self, going: Store) -> None:
        approve(going, actor="pat", flag="awf_bundle", stage="half")
        check(going, actor="pat", flag="awf_bundle", item="no open P0/P1 bugs")
        for _ in range(3):
            applied = rc.advance(going, actor="root", flag="awf_bundle", force=True)
        assert applied.rollout.phase == "completed"
        assert prod_rollout(going) == 100.0
        with pytest.raises(NotFoundError, match="is over"):
            rc.advance(going, actor="root", flag="awf_bundle", force=True)


class TestPauseResume:
    """Pausing holds the audience and tells people; resuming lets the engine go on."""

    def test_pause_then_resume(self, going: Store) -> None:
        paused = rc.pause_rollout(going, actor="ops", flag="awf_bundle", reason="looks odd")
        assert paused is not None
        assert paused.rollout.phase == "paused"
        assert paused.rollout.state.paused_reason == "paused by ops: looks odd"
        assert prod_rollout(going) == 5.0
        assert [q.alert.severity.value for q in Outbox(going.engine).list()] == ["warning"]
        assert rc.pause_rollout(going, actor="ops", flag="awf_bundle") is None
        resumed = rc.resume_rollout(going, actor="ops", flag="awf_bundle")
        assert resumed is not None
        assert resumed.rollout.phase == "running"
        assert [e.action for e in audit.recent(going, entity="rollout:awf_bundle", limit=2)] == [
            "rollout.resume",
            "rollout.pause",
        ]
        assert rc.resume_rollout(going, actor="ops", flag="awf_bundle") is None

    def test_a_paused_rollout_does_not_advance(self, going: Store, clock: FrozenClock) -> None:
        rc.pause_rollout(going, actor="ops", flag="awf_bundle")
        ready_for_half(going, clock)
        with pytest.raises(ConflictError, match="paused by ops"):
            rc.advance(going, actor="bob", flag="awf_bundle")


class TestRollback:
    """Anyone can roll back; the flag returns to 0 % and the rollout is over."""

    def test_rollback(self, going: Store) -> None:
        applied = rc.rollback_rollout(going, actor="ops", flag="awf_bundle", reason="bad UX")
        assert applied.rollout.phase == "rolled_back"
        assert prod_rollout(going) == 0.0
        alerts = Outbox(going.engine).list()
        assert alerts[0].alert.severity.value == "critical"
        assert "rolled back by ops at stage canary-5: bad UX" in alerts[0].alert.message
        assert audit.verify(going).ok

    def test_rollback_needs_a_reason(self, going: Store) -> None:
        with pytest.raises(ValidationError, match="reason"):
            rc.rollback_rollout(going, actor="ops", flag="awf_bundle", reason=" ")

    def test_cancelling_a_pending_rollout_leaves_the_flag(self, store: Store) -> None:
        seed_people(store)
        flags.set_enabled(store, actor="x", key="awf_bundle", environment="prod", enabled=True)
        text = PLAN.replace(
            "    min_samples: 100\n", "    min_samples: 100\n    checklist: [go]\n", 1
        )
        pr.apply_plan(store, actor="alice", text=text)
        before = flags.get_flag(store, "awf_bundle").flag.environments["prod"]
        rc.rollback_rollout(store, actor="ops", flag="awf_bundle", reason="changed our mind")
        assert flags.get_flag(store, "awf_bundle").flag.environments["prod"] == before

    def test_env_guard(self, going: Store) -> None:
        with pytest.raises(NotFoundError, match="runs in prod, not 'dev'"):
            rc.rollback_rollout(
                going, actor="ops", flag="awf_bundle", reason="x", environment="dev"
            )
