"""Members: the people who may approve, and their roles (admin tokens only write)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from phased.server.api.deps import Admin, Reader, StoreDep
from phased.server.tracing import TracedRoute
from phased.service import members as service

router = APIRouter(prefix="/members", tags=["members"], route_class=TracedRoute)


class MemberPublic(BaseModel):
    """A person and the roles they hold."""

    name: str
    roles: list[str]
    created_by: str
    created_at: datetime
    updated_at: datetime


class MemberCreate(BaseModel):
    """Add a person, or give an existing one more roles."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(min_length=1, examples=[["pm"]])


class MemberRemoved(BaseModel):
    """The member as they remain (null once removed entirely)."""

    member: MemberPublic | None = None


@router.get("", operation_id="list_members")
def list_members(store: StoreDep, _who: Reader) -> list[MemberPublic]:
    """Every member and their roles."""
    return [MemberPublic.model_validate(m.to_dict()) for m in service.list_members(store)]


@router.post("", operation_id="add_member")
def add_member(body: MemberCreate, store: StoreDep, who: Admin) -> MemberPublic:
    """Add a person or more roles (audited as member.add)."""
    member = service.add_member(store, actor=who.name, name=body.name, roles=body.roles)
    return MemberPublic.model_validate(member.to_dict())


@router.delete("/{name}", operation_id="remove_member")
def remove_member(
    name: str,
    store: StoreDep,
    who: Admin,
    role: Annotated[list[str] | None, Query(description="Only these roles.")] = None,
) -> MemberRemoved:
    """Take roles from a person, or remove them when no role is named."""
    member = service.remove_member(store, actor=who.name, name=name, roles=role or ())
    return MemberRemoved(member=MemberPublic.model_validate(member.to_dict()) if member else None)
