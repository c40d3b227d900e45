"""Retiring flags: the prerequisites, the retirement itself, and flags that look done.

``phased flag retire`` and ``phased flag stale`` over HTTP. The code
references are counted by the client (``phased flag refs`` reads the
caller's source tree) and sent as ``code_refs``.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from phased.core.retire import MAX_DAYS, Prerequisite
from phased.server.api.deps import FlagWriter, Reader, StoreDep
from phased.server.tracing import TracedRoute
from phased.service import retire as service

router = APIRouter(prefix="/flags", tags=["flags"], route_class=TracedRoute)

CODE_REFS = (
    "References to the flag `phased flag refs` found in the caller's code (omit: not checked)."
)


class PrerequisitePublic(BaseModel):
    """One condition for retiring a flag, and whether it holds now."""

    name: str = Field(examples=["full"])
    holds: bool
    detail: str = Field(examples=["True for everyone in every environment for at least 7 days"])

    @classmethod
    def of(cls, p: Prerequisite) -> PrerequisitePublic:
        """From the core's prerequisite."""
        return cls(name=p.name, holds=p.holds, detail=p.detail)


class RetireRequest(BaseModel):
    """Retire a flag once its prerequisites hold."""

    model_config = ConfigDict(extra="forbid")

    days: int = Field(
        default=service.DEFAULT_DAYS,
        ge=0,
        le=MAX_DAYS,
        description="How long it must have been done.",
    )
    value: str | None = Field(
        default=None, description="Multivariate flags: the variant that is the new behaviour."
    )
    code_refs: int | None = Field(default=None, ge=0, description=CODE_REFS)
    force: bool = Field(
        default=False, description="Retire although prerequisites fail (audited as forced)."
    )


class RetiredPublic(BaseModel):
    """What the retirement found and did."""

    flag: str
    value: bool | str = Field(description="The permanent default now.")
    retired: bool
    forced: bool
    prerequisites: list[PrerequisitePublic]


class StaleFlagPublic(BaseModel):
    """A flag that looks done."""

    flag: str
    reason: str
    last_change: datetime | None
    last_traffic: datetime | None


@router.get("/stale", operation_id="list_stale_flags")
def list_stale(
    store: StoreDep,
    _who: Reader,
    days: int = Query(default=30, ge=1, le=MAX_DAYS, description="Done or unused for this long."),
) -> list[StaleFlagPublic]:
    """Flags fully rolled out, or without any outcome, and unchanged for `days`."""
    return [
        StaleFlagPublic(
            flag=s.key, reason=s.reason, last_change=s.last_change, last_traffic=s.last_traffic
        )
        for s in service.stale(store, days=days)
    ]


@router.get("/{key}/retire/check", operation_id="check_retire_flag")
def check_retire(
    key: str,
    store: StoreDep,
    _who: Reader,
    days: int = Query(
        default=service.DEFAULT_DAYS,
        ge=0,
        le=MAX_DAYS,
        description="How long it must have been done.",
    ),
    value: str | None = Query(default=None, description="Multivariate flags: the new variant."),
    code_refs: int | None = Query(default=None, ge=0, description=CODE_REFS),
) -> list[PrerequisitePublic]:
    """The prerequisites of retiring the flag and whether each holds; changes nothing."""
    found = service.check(store, key, days=days, value=value, code_refs=code_refs)
    return [PrerequisitePublic.of(p) for p in found]


@router.post("/{key}/retire", operation_id="retire_flag")
def retire(key: str, body: RetireRequest, store: StoreDep, who: FlagWriter) -> RetiredPublic:
    """Make the new value the permanent default everywhere and archive the flag.

    Refused (409, listing the prerequisites that fail) unless they all hold
    or `force` is set, which the audit entry `flag.retire` records. Also
    refused while a rollout of the flag is going.
    """
    done = service.retire(
        store,
        actor=who.name,
        key=key,
        days=body.days,
        value=body.value,
        code_refs=body.code_refs,
        force=body.force,
    )
    return RetiredPublic(
        flag=done.flag,
        value=done.value,
        retired=done.retired,
        forced=done.forced,
        prerequisites=[PrerequisitePublic.of(p) for p in done.prerequisites],
    )
