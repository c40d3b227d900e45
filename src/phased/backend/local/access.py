"""The local Backend's areas for who may act:
members and API tokens.

Each binds its :mod:`phased.service` module to the store
(see :mod:`phased.backend.local`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from phased.service import members as _members
from phased.service import tokens as _tokens

if TYPE_CHECKING:
    from phased.service.members import Member
    from phased.service.tokens import NewToken
    from phased.store.engine import Store
    from phased.store.tokens import TokenRow


class LocalMembers:
    """:mod:`phased.service.members` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def list_members(self) -> list[Member]:
        return _members.list_members(self.store)

    def add_member(self, *, actor: str | None, name: str, roles: Iterable[str]) -> Member:
        return _members.add_member(self.store, actor=actor, name=name, roles=roles)

    def remove_member(
        self, *, actor: str | None, name: str, roles: Iterable[str] = ()
    ) -> Member | None:
        return _members.remove_member(self.store, actor=actor, name=name, roles=roles)


class LocalTokens:
    """:mod:`phased.service.tokens` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create_token(
        self, *, actor: str | None, name: str, role: str, environment: str | None = None
    ) -> NewToken:
        return _tokens.create_token(
            self.store, actor=actor, name=name, role=role, environment=environment
        )

    def list_tokens(self, *, include_revoked: bool = False) -> list[TokenRow]:
        return _tokens.list_tokens(self.store, include_revoked=include_revoked)

    def revoke_token(self, *, actor: str | None, token_id: str) -> TokenRow:
        return _tokens.revoke_token(self.store, actor=actor, token_id=token_id)
