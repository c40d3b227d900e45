"""Overrides: pinned values for one user, session or attribute value."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from phased.server.api.deps import FlagWriter, Reader, StoreDep
from phased.server.api.schemas import MutationPublic
from phased.server.tracing import TracedRoute
from phased.service import overrides as service

router = APIRouter(tags=["overrides"], route_class=TracedRoute)


class OverridePublic(BaseModel):
    """An override as listed; expired ones stop matching and are marked."""

    flag: str
    environment: str
    attribute: str
    value: str
    serve: bool | str
    expires: datetime | None = None
    note: str = ""
    expired: bool


class OverrideTarget(BaseModel):
    """Exactly one of `user`, `session` or `attr` (`key=value`)."""

    model_config = ConfigDict(extra="forbid")

    user: str | None = None
    session: str | None = None
    attr: str | None = Field(default=None, examples=["org=acme"])


class OverrideCreate(OverrideTarget):
    """Pin a value for one target (replacing an existing pin for it)."""

    environment: str
    serve: bool | str = Field(description="true/false, on/off or a variant name.")
    expires: str | None = Field(
        default=None, description="7d, 12h, 30m or an ISO 8601 time; must be in the future."
    )
    note: str = ""
    version: int | None = None
    force: bool = Field(
        default=False,
        description="Change a flag a running plan controls anyway (forced drift: audited, "
        "the rollout is held until resumed).",
    )


class OverrideClear(OverrideTarget):
    """Remove the pin of one target in one environment."""

    environment: str
    force: bool = Field(
        default=False,
        description="Change a flag a running plan controls anyway (forced drift: audited, "
        "the rollout is held until resumed).",
    )


class OverrideClearAll(BaseModel):
    """Remove every pin (of one flag, or of every flag) in one environment."""

    model_config = ConfigDict(extra="forbid")

    environment: str
    flag: str | None = None
    force: bool = Field(
        default=False,
        description="Change a flag a running plan controls anyway (forced drift: audited, "
        "the rollout is held until resumed).",
    )


@router.get("/overrides", operation_id="list_overrides")
def list_overrides(
    store: StoreDep,
    _who: Reader,
    flag: str | None = Query(default=None),
    environment: str | None = Query(default=None),
) -> list[OverridePublic]:
    """Overrides by flag and environment (expired ones included and marked)."""
    views = service.list_overrides(store, key=flag, environment=environment)
    return [OverridePublic.model_validate(v.to_dict()) for v in views]


@router.post("/flags/{key}/overrides", operation_id="set_override")
def set_override(
    key: str, body: OverrideCreate, store: StoreDep, who: FlagWriter
) -> MutationPublic:
    """Pin a value for one user, session or attribute value."""
    result = service.set_override(
        store,
        actor=who.name,
        key=key,
        environment=body.environment,
        serve=body.serve,
        user=body.user,
        session=body.session,
        attr=body.attr,
        expires=body.expires,
        note=body.note,
        expected_version=body.version,
        force=body.force,
    )
    return MutationPublic.of(result)


@router.post("/flags/{key}/overrides/clear", operation_id="clear_override")
def clear_override(
    key: str, body: OverrideClear, store: StoreDep, who: FlagWriter
) -> MutationPublic:
    """Remove the pin of one user, session or attribute value."""
    result = service.clear_override(
        store,
        actor=who.name,
        key=key,
        environment=body.environment,
        user=body.user,
        session=body.session,
        attr=body.attr,
        force=body.force,
    )
    return MutationPublic.of(result)


@router.post("/overrides/clear-all", operation_id="clear_all_overrides")
def clear_all(body: OverrideClearAll, store: StoreDep, who: FlagWriter) -> MutationPublic:
    """Remove every pin of a flag (or of all flags) in one environment: the emergency path."""
    result = service.clear_all_overrides(
        store, actor=who.name, environment=body.environment, key=body.flag, force=body.force
    )
    return MutationPublic.of(result)
