"""The audit log with filters and the chain's verification."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from phased.server.tracing import TracedRoute
from phased.server.ui.render import page
from phased.server.ui.session import SessionDep, state_of
from phased.service import audit as audit_service
from phased.store.audit import AuditEntry, ChainReport
from phased.store.engine import Store

router = APIRouter(prefix="/ui", route_class=TracedRoute)

LIMITS = (50, 200, 1000)


@dataclass(frozen=True, slots=True)
class AuditPage:
    """The entries matching the filters and the state of the whole chain."""

    entries: list[AuditEntry]
    chain: ChainReport


def _audit(
    store: Store, actor: str | None, action: str | None, entity: str | None, limit: int
) -> AuditPage:
    entries = audit_service.recent(store, limit=limit, actor=actor, action=action, entity=entity)
    # The whole chain is recomputed on every view: a hand edit of the database
    # does not move the store revision, so a cached verdict could hide it.
    return AuditPage(entries, audit_service.verify(store))


def _clean(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


@router.get("/audit", include_in_schema=False)
async def audit_log(
    request: Request,
    session: SessionDep,
    *,
    actor: str | None = Query(default=None, max_length=200),
    action: str | None = Query(default=None, max_length=200),
    entity: str | None = Query(default=None, max_length=300),
    limit: int = Query(default=50),
) -> Response:
    """Recorded changes, newest first, filtered by actor, action prefix and entity."""
    shown = limit if limit in LIMITS else LIMITS[0]
    filters = {"actor": _clean(actor), "action": _clean(action), "entity": _clean(entity)}
    data = await run_in_threadpool(
        _audit,
        state_of(request).store,
        filters["actor"],
        filters["action"],
        filters["entity"],
        shown,
    )
    return page(
        request,
        "audit.html",
        session,
        title="Audit log",
        nav="audit",
        entries=data.entries,
        chain=data.chain,
        filters=filters,
        limit=shown,
        limits=LIMITS,
        prefixes=("flag.", "rollout.", "override.", "segment.", "member.", "token.", "incident."),
    )
