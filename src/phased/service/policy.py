"""Who may do what: the one table of role rules, used by the API, the dashboard and the CLI.

A token's role grants :class:`Permission` s (``ROLE_PERMISSIONS``); a few
actions add a rule on top, which lives here too so that every door applies
the same one:

* approving a stage needs a role the stage's ``approval.roles`` names (an
  admin always may); membership and four-eyes are checked by
  :func:`phased.service.approvals.approve` itself;
* a forced advance needs an admin.

Locally (``phased`` on a database) there is no token: the CLI's actor is
trusted as the operator of the database, and the plan's member roles and
four-eyes rules still apply inside the service functions.
"""

from __future__ import annotations

from enum import StrEnum

from phased.errors import PermissionDeniedError
from phased.service.rollout_records import Rollout
from phased.service.tokens import Role


class Permission(StrEnum):
    """One kind of thing a request does; each route requires exactly one."""

    READ = "read"  # flags, segments, overrides, plans, rollouts, audit, outcomes
    WRITE_FLAGS = "write_flags"  # flags, segments, overrides, percentages, flags apply
    RUN_PLANS = "run_plans"  # apply plans, advance, resume, tick checklists
    STOP = "stop"  # pause, roll back, open incidents: anyone on call may pull the brake
    APPROVE = "approve"  # approve a stage; the plan's roles and four-eyes decide further
    ADMIN = "admin"  # tokens, members, forced advances, debug traces
    SDK_READ = "sdk_read"  # the compiled flag set and its stream
    SDK_WRITE = "sdk_write"  # outcome batches

    @property
    def is_mutation(self) -> bool:
        """Mutations are rate-limited per token; reads are not."""
        return self not in (Permission.READ, Permission.SDK_READ)


_PEOPLE = frozenset({Role.ADMIN, Role.PM, Role.DEVELOPER})
ROLE_PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.READ: _PEOPLE | {Role.VIEWER},
    Permission.WRITE_FLAGS: _PEOPLE,
    Permission.RUN_PLANS: _PEOPLE,
    Permission.STOP: _PEOPLE,
    Permission.APPROVE: _PEOPLE,
    Permission.ADMIN: frozenset({Role.ADMIN}),
    Permission.SDK_READ: frozenset(Role),
    Permission.SDK_WRITE: frozenset({Role.ADMIN, Role.DEVELOPER, Role.SDK}),
}


def check_stage_approver(rollout: Rollout, stage: str, role: Role) -> None:
    """Refuse a token whose role the stage's approval does not name (admins always may)."""
    for planned in rollout.plan.stages:
        approval = planned.approval
        if (
            planned.name == stage
            and approval is not None
            and role is not Role.ADMIN
            and role.value not in approval.roles
        ):
            raise PermissionDeniedError(
                f"stage {stage} is approved by {' or '.join(approval.roles)}; "
                f"this token's role is {role.value}",
                field="token",
            )


def check_force(role: Role) -> None:
    """Refuse a forced advance from anyone but an admin."""
    if role is not Role.ADMIN:
        raise PermissionDeniedError(
            f"a forced advance needs an admin token (this one is {role.value})", field="force"
        )
