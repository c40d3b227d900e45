"""The ``members`` area over the HTTP API (:mod:`phased.service.members`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from phased.backend.http_areas import RemoteStore
from phased.service.members import Member, check_roles


def member_of(data: dict[str, Any]) -> Member:
    """A ``MemberPublic`` document as a :class:`Member`."""
    return Member(
        name=data["name"],
        roles=tuple(data["roles"]),
        created_by=data["created_by"],
        created_at=datetime.fromisoformat(data["created_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
    )


class HttpMembers:
    """The ``members`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

    def list_members(self) -> list[Member]:
        """Everyone and their roles."""
        return [member_of(m) for m in self.http.request("GET", "/members")]

    def add_member(self, *, actor: str | None, name: str, roles: Iterable[str]) -> Member:
        """Add a person or more roles (admin token)."""
        del actor
        body = {"name": name, "roles": list(check_roles(roles))}
        return member_of(self.http.request("POST", "/members", json=body))

    def remove_member(
        self, *, actor: str | None, name: str, roles: Iterable[str] = ()
    ) -> Member | None:
        """Take roles from a person, or remove them (None: removed entirely)."""
        del actor
        data = self.http.request("DELETE", f"/members/{name}", params={"role": list(roles) or None})
        return None if data["member"] is None else member_of(data["member"])
