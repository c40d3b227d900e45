"""Members, approvals (four-eyes) and checklist ticks."""

from __future__ import annotations

import pytest

from phased.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from phased.service import audit, members
from phased.service import plan_rollouts as pr
from phased.service.approvals import approvals_of, approve, check
from phased.store.engine import Store
from phased.testing import FrozenClock

from .rollout_fixtures import PLAN, feed, seed_people


@pytest.fixture
def going(store: Store) -> Store:
    seed_people(store)
    pr.apply_plan(store, actor="alice", text=PLAN)
    return store


def step(store: Store) -> str:
    rollout, decision = pr.preview(store, "awf_bundle")
    return pr.apply_decision(store, rollout.id, rollout.version, decision).rollout.stage.name


class TestMembers:
    """People and roles live in the store; once an admin exists, only admins change them."""

    def test_bootstrap_then_admins_only(self, store: Store) -> None:
        members.add_member(store, actor="ann", name="ann", roles=["admin"])
        members.add_member(store, actor="ann", name="bo", roles=["pm"])
        with pytest.raises(PermissionDeniedError, match="'bo' holds pm, but to add member"):
            members.add_member(store, actor="bo", name="cy", roles=["pm"])
        entry = audit.recent(store, action="member.add")[0]
        assert (entry.actor, entry.entity, entry.details) == (
            "ann",
            "member:bo",
            {"before": None, "after": ["pm"]},
        )

    def test_roles_merge_and_remove(self, store: Store) -> None:
        members.add_member(store, actor="ann", name="ann", roles=["admin"])
        members.add_member(store, actor="ann", name="bo", roles=["pm"])
        assert members.add_member(store, actor="ann", name="bo", roles=["developer"]).roles == (
            "pm",
            "developer",
        )
        left = members.remove_member(store, actor="ann", name="bo", roles=["pm"])
        assert left is not None
        assert left.roles == ("developer",)
        assert members.remove_member(store, actor="ann", name="bo") is None
        assert [m.name for m in members.list_members(store)] == ["ann"]

    def test_the_last_admin_stays(self, store: Store) -> None:
        members.add_member(store, actor="ann", name="ann", roles=["admin"])
        with pytest.raises(PermissionDeniedError, match="last admin"):
            members.remove_member(store, actor="ann", name="ann")

    @pytest.mark.parametrize("roles", [["boss"], [], [" "]])
    def test_bad_roles(self, store: Store, roles: list[str]) -> None:
        with pytest.raises(ValidationError, match="role"):
            members.add_member(store, actor="ann", name="ann", roles=roles)

    def test_unknown_member(self, store: Store) -> None:
        with pytest.raises(NotFoundError, match="no member 'zed'"):
            members.remove_member(store, actor="ann", name="zed")


class TestApprove:
    """A PM approval unblocks the stage; the applier alone cannot approve it."""

    def test_pm_approval_unblocks_the_stage(self, going: Store, clock: FrozenClock) -> None:
        clock.advance(3700)
        feed(going, clock, candidate=(200, 0))
        check(going, actor="dev", flag="awf_bundle", item="no open P0/P1 bugs")
        assert step(going) == "canary-5"
        done = approve(going, actor="pat", flag="awf_bundle", stage="half")
        assert done.changed
        assert done.still_waiting == ()
        assert step(going) == "half"
        assert [(a.stage, a.actor, a.roles) for a in approvals_of(going, 1)] == [
            ("half", "pat", ("pm",))
        ]

    def test_the_applier_cannot_approve_alone(self, going: Store) -> None:
        members.add_member(going, actor="root", name="alice", roles=["pm"])
        before = going.dump()
        with pytest.raises(PermissionDeniedError, match="cannot approve stage half alone"):
            approve(going, actor="alice", flag="awf_bundle", stage="half")
        assert going.dump() == before

    def test_two_person_approval_counts_the_applier_with_another(self, store: Store) -> None:
        seed_people(store)
        members.add_member(store, actor="root", name="alice", roles=["pm"])
        pr.apply_plan(store, actor="alice", text=PLAN.replace("roles: pm", "roles: pm, count: 2"))
        first = approve(store, actor="alice", flag="awf_bundle", stage="half")
        assert "1 of 2 given" in first.still_waiting[0]
        second = approve(store, actor="pat", flag="awf_bundle", stage="half")
        assert not any("approval" in w for w in second.still_waiting)

    def test_wrong_role_or_no_member(self, going: Store) -> None:
        with pytest.raises(PermissionDeniedError, match="'dev' holds developer, but to approve"):
            approve(going, actor="dev", flag="awf_bundle", stage="half")
        with pytest.raises(PermissionDeniedError, match="'zed' is not a member"):
            approve(going, actor="zed", flag="awf_bundle", stage="half")

    def test_same_person_twice_is_one_approval(self, going: Store) -> None:
        approve(going, actor="pat", flag="awf_bundle", stage="half")
        again = approve(going, actor="pat", flag="awf_bundle", stage="half")
        assert not again.changed
        assert len(audit.recent(going, action="rollout.approve")) == 1

    @pytest.mark.parametrize(
        ("stage", "error", "message"),
        [
            ("full", ValidationError, "stage full needs no approval; stages that do: half"),
            ("nope", NotFoundError, "no stage 'nope' .stages: canary-5, half, full."),
            ("canary-5", ConflictError, "already started"),
        ],
    )
    def test_refusals(self, going: Store, stage: str, error: type[Exception], message: str) -> None:
        with pytest.raises(error, match=message):
            approve(going, actor="pat", flag="awf_bundle", stage=stage)


class TestCheck:
    """Checklist items are ticked by text, for the next stage that lists them."""

    def test_tick_matches_without_case(self, going: Store) -> None:
        done = check(going, actor="dev", flag="awf_bundle", item="No open P0/P1 bugs")
        assert (done.stage, done.changed) == ("half", True)
        assert done.still_waiting == ("approval by pm (0 of 1 given; not alice alone (four-eyes))",)
        entry = audit.recent(going, action="rollout.check")[0]
        assert entry.details["item"] == "no open P0/P1 bugs"

    def test_unknown_item_lists_the_open_ones(self, going: Store) -> None:
        with pytest.raises(ValidationError, match="open items: half: 'no open P0/P1 bugs'"):
            check(going, actor="dev", flag="awf_bundle", item="docs done")
