"""Role rules: one table in the service layer, the same answer for the API and the dashboard."""

from __future__ import annotations

import pytest

from phased.errors import PermissionDeniedError
from phased.server.auth import ROLE_PERMISSIONS as SERVER_TABLE
from phased.server.auth import Permission as ServerPermission
from phased.service import plan_rollouts as pr
from phased.service import policy
from phased.service.policy import ROLE_PERMISSIONS, Permission
from phased.service.tokens import Role
from phased.store.engine import Store

from .rollout_fixtures import PLAN, seed_people


@pytest.fixture
def going(store: Store) -> Store:
    seed_people(store)
    pr.apply_plan(store, actor="alice", text=PLAN)
    return store


class TestOneTable:
    """The server's permission table is the service layer's, not a copy."""

    def test_same_objects(self) -> None:
        assert SERVER_TABLE is ROLE_PERMISSIONS
        assert ServerPermission is Permission

    def test_every_permission_has_roles(self) -> None:
        assert set(ROLE_PERMISSIONS) == set(Permission)
        assert all(ROLE_PERMISSIONS[p] for p in Permission)
        assert ROLE_PERMISSIONS[Permission.ADMIN] == {Role.ADMIN}


class TestStageApprover:
    """A stage's approval names the roles that may approve it; admins always may."""

    @pytest.mark.parametrize("role", [Role.PM, Role.ADMIN])
    def test_named_role_or_admin(self, going: Store, role: Role) -> None:
        policy.check_stage_approver(pr.get_rollout(going, "awf_bundle"), "half", role)

    def test_other_role_refused_naming_both(self, going: Store) -> None:
        rollout = pr.get_rollout(going, "awf_bundle")
        with pytest.raises(PermissionDeniedError, match="approved by pm; this token's role is"):
            policy.check_stage_approver(rollout, "half", Role.DEVELOPER)

    def test_stage_without_approval_is_open(self, going: Store) -> None:
        policy.check_stage_approver(pr.get_rollout(going, "awf_bundle"), "full", Role.DEVELOPER)


class TestForce:
    """Only an admin forces an advance."""

    def test_admin(self) -> None:
        policy.check_force(Role.ADMIN)

    @pytest.mark.parametrize("role", [Role.PM, Role.DEVELOPER, Role.VIEWER])
    def test_others_refused(self, role: Role) -> None:
        with pytest.raises(PermissionDeniedError, match="forced advance needs an admin"):
            policy.check_force(role)
