"""The ``members`` table: people and the roles they hold.

Roles are checked and merged by :mod:`phased.service.members`, which is the
only writer; here a member is stored, re-roled or removed as told.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from phased.store.tables_rollouts import members


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


def insert_member(
    conn: Connection, name: str, roles: Iterable[str], *, actor: str, now: datetime
) -> None:
    """Store a new person at version 1."""
    conn.execute(
        insert(members).values(
            name=name,
            roles=list(roles),
            version=1,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
    )


def set_roles(conn: Connection, name: str, roles: Iterable[str], *, now: datetime) -> None:
    """Replace a person's roles, moving the row to its next version."""
    conn.execute(
        update(members)
        .where(members.c.name == name)
        .values(roles=list(roles), version=members.c.version + 1, updated_at=now)
    )


def delete_member(conn: Connection, name: str) -> None:
    """Remove a person entirely."""
    conn.execute(delete(members).where(members.c.name == name))
