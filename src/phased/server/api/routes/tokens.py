"""API tokens: who am I, create (secret shown once), list, revoke."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from phased.server.api.deps import Admin, CurrentToken, StoreDep
from phased.server.tracing import TracedRoute
from phased.service import tokens as service
from phased.service.tokens import Role
from phased.store.tokens import TokenRow

router = APIRouter(prefix="/tokens", tags=["tokens"], route_class=TracedRoute)


class TokenPublic(BaseModel):
    """A token as listed: never its secret."""

    id: str
    name: str
    role: Role
    environment: str | None = None
    prefix: str = Field(description="The first characters of the secret, to recognise it.")
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None

    @classmethod
    def of(cls, row: TokenRow) -> TokenPublic:
        """From the stored row."""
        return cls(
            id=row.id,
            name=row.name,
            role=Role(row.role),
            environment=row.environment,
            prefix=row.prefix,
            created_by=row.created_by,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )


class TokenCreate(BaseModel):
    """A new token for a person or an application."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["alice"])
    role: Role
    environment: str | None = Field(default=None, description="Required for sdk tokens.")


class TokenCreated(BaseModel):
    """The new token; `secret` is shown this once and cannot be read again."""

    token: TokenPublic
    secret: str


class WhoAmI(BaseModel):
    """The owner of the token making the request."""

    token_id: str
    name: str
    role: Role
    environment: str | None = None


@router.get("/me", operation_id="who_am_i")
def who_am_i(who: CurrentToken) -> WhoAmI:
    """The name, role and environment of the calling token."""
    return WhoAmI(token_id=who.token_id, name=who.name, role=who.role, environment=who.environment)


@router.get("", operation_id="list_tokens")
def list_tokens(
    store: StoreDep,
    _who: Admin,
    include_revoked: bool = Query(default=False),
) -> list[TokenPublic]:
    """Tokens, oldest first (admin only)."""
    return [TokenPublic.of(r) for r in service.list_tokens(store, include_revoked=include_revoked)]


@router.post("", operation_id="create_token", status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, store: StoreDep, who: Admin) -> TokenCreated:
    """Create a token (admin only); the response holds its secret, shown once."""
    new = service.create_token(
        store, actor=who.name, name=body.name, role=body.role, environment=body.environment
    )
    return TokenCreated(token=TokenPublic.of(new.token), secret=new.secret)


@router.delete("/{token_id}", operation_id="revoke_token")
def revoke_token(token_id: str, store: StoreDep, who: Admin) -> TokenPublic:
    """Revoke a token at once (admin only)."""
    row = service.revoke_token(store, actor=who.name, token_id=token_id)
    return TokenPublic.of(row)
