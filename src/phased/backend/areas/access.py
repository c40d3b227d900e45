"""The Backend's protocols for who may act:
members and API tokens.

See :mod:`phased.backend.areas`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from phased.service.members import Member
    from phased.service.tokens import NewToken
    from phased.store.tokens import TokenRow


class Members(Protocol):
    """The ``members`` use cases (:mod:`phased.service.members`)."""

    def list_members(self) -> list[Member]:
        """Everyone, by name."""
        ...

    def add_member(self, *, actor: str | None, name: str, roles: Iterable[str]) -> Member:
        """Add a person, or give an existing one more roles (audited as ``member.add``)."""
        ...

    def remove_member(
        self, *, actor: str | None, name: str, roles: Iterable[str] = ()
    ) -> Member | None:
        """Take roles from a person, or remove them entirely when no roles are named."""
        ...


class Tokens(Protocol):
    """The ``tokens`` use cases (:mod:`phased.service.tokens`)."""

    def create_token(
        self, *, actor: str | None, name: str, role: str, environment: str | None = None
    ) -> NewToken:
        """Create a token; the returned secret is not stored and cannot be shown again."""
        ...

    def list_tokens(self, *, include_revoked: bool = False) -> list[TokenRow]:
        """Tokens, oldest first (never their secrets)."""
        ...

    def revoke_token(self, *, actor: str | None, token_id: str) -> TokenRow:
        """Revoke a token at once."""
        ...
