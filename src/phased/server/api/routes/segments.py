"""Segments: named, reusable audiences."""

from __future__ import annotations

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from phased.core.flags import Segment
from phased.server.api.deps import FlagWriter, Reader, StoreDep
from phased.server.api.schemas import MutationPublic
from phased.server.tracing import TracedRoute
from phased.service import segments as service

router = APIRouter(prefix="/segments", tags=["segments"], route_class=TracedRoute)


class SegmentPublic(Segment):
    """A segment and the rules that use it."""

    used_by: list[str] = Field(default_factory=list, description="`flag@env rules[i]` entries.")


class SegmentCreate(BaseModel):
    """A new segment: every `where` expression must hold."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(examples=["staff"])
    where: list[str] = Field(min_length=1, examples=[["role in [admin, pm]"]])
    description: str = ""


@router.get("", operation_id="list_segments")
def list_segments(store: StoreDep, _who: Reader) -> list[SegmentPublic]:
    """Every segment, by key."""
    return [
        SegmentPublic.model_validate(service.segment_dict(s)) for s in service.list_segments(store)
    ]


@router.post("", operation_id="create_segment", status_code=status.HTTP_201_CREATED)
def create_segment(body: SegmentCreate, store: StoreDep, who: FlagWriter) -> MutationPublic:
    """Create a segment from `attr op value` expressions."""
    result = service.create_segment(
        store, actor=who.name, key=body.key, where=body.where, description=body.description
    )
    return MutationPublic.of(result)


@router.get("/{key}", operation_id="get_segment")
def get_segment(key: str, store: StoreDep, _who: Reader) -> SegmentPublic:
    """One segment and where it is used."""
    segment, used = service.get_segment(store, key)
    return SegmentPublic.model_validate({**service.segment_dict(segment), "used_by": used})


@router.delete("/{key}", operation_id="delete_segment")
def delete_segment(
    key: str,
    store: StoreDep,
    who: FlagWriter,
    version: int | None = Query(default=None, description="Refuse if the segment moved past it."),
) -> MutationPublic:
    """Delete a segment that no rule uses."""
    return MutationPublic.of(
        service.delete_segment(store, actor=who.name, key=key, expected_version=version)
    )
