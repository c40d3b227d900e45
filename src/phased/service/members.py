"""People and their roles: who may approve a stage, force an advance, manage members.

In local mode a role-gated command checks its ``--actor`` against this table
(over HTTP the token decides). Until the first admin exists anyone may add
members, so a fresh store can be set up; from then on only admins may change
them, and the last admin cannot be removed.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection

from phased.core.plans.model import DEFAULT_ROLES
from phased.errors import NotFoundError, PermissionDeniedError, ValidationError
from phased.service.base import check_actor, mutation
from phased.store import members as repo
from phased.store.engine import Store
from phased.store.members import Member, all_members, load_member

__all__ = [
    "ADMIN",
    "Member",
    "add_member",
    "all_members",
    "check_roles",
    "holders",
    "list_members",
    "load_member",
    "remove_member",
    "require_role",
]

ADMIN = "admin"


def check_roles(roles: Iterable[str]) -> tuple[str, ...]:
    """Known roles, deduplicated in the order of ``DEFAULT_ROLES``."""
    given = [r.strip() for r in roles if r.strip()]
    if not given:
        raise ValidationError(f"give at least one role: {', '.join(DEFAULT_ROLES)}", field="role")
    for role in given:
        if role not in DEFAULT_ROLES:
            raise ValidationError(
                f"unknown role {role!r}; use one of: {', '.join(DEFAULT_ROLES)}", field="role"
            )
    return tuple(r for r in DEFAULT_ROLES if r in given)


def holders(conn: Connection, roles: Iterable[str]) -> list[str]:
    """Names of members holding any of ``roles``."""
    wanted = set(roles)
    return [m.name for m in all_members(conn) if wanted & set(m.roles)]


def require_role(conn: Connection, actor: str, roles: Iterable[str], doing: str) -> Member:
    """The actor as a member holding one of ``roles``, or a PermissionDeniedError saying who can.

    Args:
        doing: what is being attempted, for the message (``approve stage canary``).
    """
    wanted = tuple(roles)
    member = load_member(conn, actor)
    need = " or ".join(wanted)
    if member is None:
        raise PermissionDeniedError(
            f"{actor!r} is not a member, so cannot {doing} (needs the role {need}); "
            f"add them with `phased member add {actor} --role {wanted[0]} --actor ADMIN`",
            field="actor",
        )
    if not set(wanted) & set(member.roles):
        who = ", ".join(holders(conn, wanted)) or "nobody yet"
        raise PermissionDeniedError(
            f"{actor!r} holds {', '.join(member.roles)}, but to {doing} needs {need} "
            f"(held by: {who})",
            field="actor",
        )
    return member


def _require_admin_once_one_exists(conn: Connection, actor: str, doing: str) -> None:
    if holders(conn, (ADMIN,)):
        require_role(conn, actor, (ADMIN,), doing)


def list_members(store: Store) -> list[Member]:
    """Everyone, by name."""
    with store.read() as conn:
        return all_members(conn)


def add_member(store: Store, *, actor: str | None, name: str, roles: Iterable[str]) -> Member:
    """Add a person, or give an existing one more roles (audited as ``member.add``).

    Raises:
        ValidationError: an empty name or an unknown role.
        PermissionDeniedError: an admin exists and the actor is not one.
    """
    person = check_actor(name)
    wanted = check_roles(roles)
    with mutation(store, actor) as m:
        _require_admin_once_one_exists(m.conn, m.actor, f"add member {person!r}")
        before = load_member(m.conn, person)
        if before is None:
            repo.insert_member(m.conn, person, wanted, actor=m.actor, now=m.now)
        else:
            merged = check_roles((*before.roles, *wanted))
            if merged == before.roles:
                return before
            repo.set_roles(m.conn, person, merged, now=m.now)
        after = load_member(m.conn, person)
        assert after is not None
        m.record(
            "member.add",
            f"member:{person}",
            {"before": None if before is None else list(before.roles), "after": list(after.roles)},
        )
    return after


def remove_member(
    store: Store, *, actor: str | None, name: str, roles: Iterable[str] = ()
) -> Member | None:
    """Take roles from a person, or remove them entirely when no roles are named.

    Returns the member as they remain (None once removed).

    Raises:
        NotFoundError: no such member.
        PermissionDeniedError: the actor is not an admin, or this would remove the last admin.
    """
    dropped = check_roles(roles) if tuple(roles) else ()
    with mutation(store, actor) as m:
        before = load_member(m.conn, name)
        if before is None:
            known = ", ".join(x.name for x in all_members(m.conn)[:10]) or "(none yet)"
            raise NotFoundError(f"no member {name!r} (members: {known})", field="name")
        _require_admin_once_one_exists(m.conn, m.actor, f"remove member {name!r}")
        remaining = tuple(r for r in before.roles if r not in dropped) if dropped else ()
        if remaining == before.roles:
            return before
        admins = holders(m.conn, (ADMIN,))
        if ADMIN in before.roles and ADMIN not in remaining and admins == [name]:
            raise PermissionDeniedError(
                f"{name!r} is the last admin; add another admin first",
                field="name",
            )
        if remaining:
            repo.set_roles(m.conn, name, remaining, now=m.now)
        else:
            repo.delete_member(m.conn, name)
        m.record(
            "member.remove",
            f"member:{name}",
            {"before": list(before.roles), "after": list(remaining) or None},
        )
        return load_member(m.conn, name)
