"""Old/new comparison: mismatch samples from SDKs, listing, resolution as "new is correct"."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from phased.server.api.deps import PlanRunner, Reader, SdkWriter, StoreDep
from phased.server.tracing import TracedRoute
from phased.service import compare as service

router = APIRouter(prefix="/compare", tags=["compare"], route_class=TracedRoute)


class MismatchCreate(BaseModel):
    """One mismatch sample, as ``client.compare`` sends it (redacted again on arrival)."""

    model_config = ConfigDict(extra="forbid")

    flag: str = Field(max_length=64)
    environment: str = Field(max_length=64)
    stage: str = Field(default="", max_length=64)
    mode: str = Field(max_length=16, examples=["shadow"])
    context: dict[str, Any] = Field(default_factory=dict)
    old: Any = None
    new: Any = None
    diff: list[Annotated[str, Field(max_length=2000)]] = Field(default_factory=list, max_length=200)


class MismatchPublic(BaseModel):
    """One kept mismatch sample."""

    id: int
    flag: str
    environment: str
    stage: str
    mode: str
    context: dict[str, Any]
    old: Any
    new: Any
    diff: list[str]
    at: datetime
    resolved: bool
    resolved_by: str | None
    resolved_at: datetime | None
    note: str | None


class MismatchResolve(BaseModel):
    """Why the new behaviour is correct (kept and audited)."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(max_length=2000)


class MismatchCreated(BaseModel):
    """The sample's id."""

    id: int


@router.post("/mismatches", operation_id="add_mismatch", status_code=status.HTTP_201_CREATED)
def add_mismatch(body: MismatchCreate, store: StoreDep, _who: SdkWriter) -> MismatchCreated:
    """Keep one mismatch sample (bounded per flag: the oldest open ones give way)."""
    return MismatchCreated(id=service.record_mismatch(store, body.model_dump()))


@router.get("/{flag}/mismatches", operation_id="list_mismatches")
def list_mismatches(
    flag: str,
    store: StoreDep,
    _who: Reader,
    include_resolved: bool = Query(default=False),
    limit: int = Query(default=50, ge=1, le=500),
) -> list[MismatchPublic]:
    """The flag's kept mismatch samples, newest first."""
    found = service.list_mismatches(store, flag, include_resolved=include_resolved, limit=limit)
    return [MismatchPublic.model_validate(m.to_dict()) for m in found]


@router.post("/mismatches/{mismatch_id}/resolve", operation_id="resolve_mismatch")
def resolve_mismatch(
    mismatch_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    body: MismatchResolve,
    store: StoreDep,
    who: PlanRunner,
) -> MismatchPublic:
    """Mark a mismatch "new behaviour is correct": audited; it stops counting in the gate."""
    done = service.resolve_mismatch(store, actor=who.name, mismatch_id=mismatch_id, note=body.note)
    return MismatchPublic.model_validate(done.to_dict())
