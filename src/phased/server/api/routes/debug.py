"""Debugging: the last execution trace this process recorded."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from phased.obs.debug_last import render_debug_last
from phased.server.api.deps import Admin

router = APIRouter(prefix="/debug", tags=["debug"])


@router.get(
    "/last",
    operation_id="debug_last",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "The rendered trace."}},
)
def debug_last(
    _who: Admin,
    user: str | None = Query(default=None, description="The last trace of this user."),
) -> PlainTextResponse:
    """The most recent execution trace of this server process, rendered for people (admin)."""
    return PlainTextResponse(render_debug_last(user))
