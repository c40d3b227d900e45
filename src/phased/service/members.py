"""People and their roles: who may approve a stage, force an advance, manage members.

In local mode a role-gated command checks its ``--actor`` against this table
(over HTTP the token decides). Until the first admin exists anyone may add
members, so a fresh store can be set up; from then on only admins may change
them, and the last admin cannot be removed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from phased.core.plans.model import DEFAULT_ROLES
from phased.errors import NotFoundError, PermissionDeniedError, ValidationError
from phased.service.base import check_actor, mutation
from phased.store.engine import Store
from phased.store.tables_rollouts import members

ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Member:
    """One person and the roles they hold."""

    name: str
    roles: tuple[str, ...]
    created_by: str
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``phased member list --json``)."""
        return {
            "name": self.name,
            "roles": list(self.roles),
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


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


def _member(row: Any) -> Member:
    return Member(
        name=row.name,
        roles=tuple(row.roles),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def load_member(conn: Connection, name: str) -> Member | None:
    """The member called ``name``, or None."""
    row = conn.execute(select(members).where(members.c.name == name)).first()
    return None if row is None else _member(row)


def all_members(conn: Connection) -> list[Member]:
    """Everyone, by name."""
    return [_member(r) for r in conn.execute(select(members).order_by(members.c.name))]


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
            m.conn.execute(
                insert(members).values(
                    name=person,
                    roles=list(wanted),
                    version=1,
                    created_by=m.actor,
                    created_at=m.now,
                    updated_at=m.now,
                )
            )
        else:
            merged = check_roles((*before.roles, *wanted))
            if merged == before.roles:
                return before
            m.conn.execute(
                update(members)
                .where(members.c.name == person)
                .values(roles=list(merged), version=members.c.version + 1, updated_at=m.now)
            )
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
            m.conn.execute(
                update(members)
                .where(members.c.name == name)
                .values(roles=list(remaining), version=members.c.version + 1, updated_at=m.now)
            )
        else:
            m.conn.execute(delete(members).where(members.c.name == name))
        m.record(
            "member.remove",
            f"member:{name}",
            {"before": list(before.roles), "after": list(remaining) or None},
        )
        return load_member(m.conn, name)
