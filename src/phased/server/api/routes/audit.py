"""The audit trail: query, verify the hash chain, export as JSON lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from phased.server.api.deps import Reader, StoreDep
from phased.server.api.schemas import AuditEntryPublic
from phased.service import audit as service

router = APIRouter(prefix="/audit", tags=["audit"])


class ChainPublic(BaseModel):
    """The result of recomputing the whole chain."""

    ok: bool
    entries: int
    head: str
    first_bad: int | None = None
    problem: str = ""
    summary: str


@router.get("", operation_id="query_audit")
def query(
    store: StoreDep,
    _who: Reader,
    *,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
    actor: str | None = None,
    action: Annotated[str | None, Query(description="Exact, or a prefix ending in '.'")] = None,
    entity: Annotated[str | None, Query(description="e.g. flag:new-checkout")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AuditEntryPublic]:
    """Recorded changes, newest first, filtered by actor, action, entity and time."""
    entries = service.recent(
        store, limit=limit, actor=actor, action=action, entity=entity, since=since, until=until
    )
    return [AuditEntryPublic.of(e) for e in entries]


@router.get("/verify", operation_id="verify_audit")
def verify(store: StoreDep, _who: Reader) -> ChainPublic:
    """Recompute the hash chain; names the first entry that does not match."""
    report = service.verify(store)
    return ChainPublic(
        ok=report.ok,
        entries=report.entries,
        head=report.head,
        first_bad=report.first_bad,
        problem=report.problem,
        summary=report.summary(),
    )


@router.get(
    "/export",
    operation_id="export_audit",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/x-ndjson": {}}, "description": "One entry per line."}
    },
)
def export(store: StoreDep, _who: Reader) -> StreamingResponse:
    """Every entry, oldest first, as JSON lines (streamed)."""

    def lines() -> Iterator[str]:
        for entry in service.entries(store):
            yield json.dumps(entry.to_dict(), ensure_ascii=False, sort_keys=True) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")
