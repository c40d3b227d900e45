"""The Alerts page: what the engine decided to tell people, and whether it got there."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from phased.alerts.queue import STATUSES, DeliveryStatus, QueuedAlert
from phased.server.tracing import TracedRoute
from phased.server.ui.render import page
from phased.server.ui.session import SessionDep, state_of
from phased.service import alerts as alerts_service
from phased.store.engine import Store

router = APIRouter(prefix="/ui", route_class=TracedRoute)


def _alerts(
    store: Store, status: DeliveryStatus | None, file: Path
) -> tuple[list[QueuedAlert], dict[str, int]]:
    # Through the service layer: it masks channel URLs, which are credentials.
    rows = alerts_service.list_alerts(store, status=status, limit=200, file=file)
    return rows, alerts_service.status_counts(store)


@router.get("/alerts", include_in_schema=False)
async def alerts(
    request: Request, session: SessionDep, status: str | None = Query(default=None)
) -> Response:
    """Alerts the engine decided: delivered, failed, waiting, suppressed or skipped."""
    wanted = DeliveryStatus(status) if status in STATUSES else None
    state = state_of(request)
    rows, counts = await run_in_threadpool(
        _alerts, state.store, wanted, state.settings.alerts_config
    )
    return page(
        request,
        "alerts.html",
        session,
        title="Alerts",
        nav="alerts",
        alerts=rows,
        counts=counts,
        status=wanted.value if wanted else "",
    )
