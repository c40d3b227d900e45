"""Debugging: the last execution trace this process recorded."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from phased.errors import PermissionDeniedError
from phased.obs.debug_last import render_debug_last
from phased.selfflags import debug_cmd_enabled
from phased.server.api.deps import Admin, StateDep

router = APIRouter(prefix="/debug", tags=["debug"])


@router.get(
    "/last",
    operation_id="debug_last",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "The rendered trace."}},
)
def debug_last(
    _who: Admin,
    state: StateDep,
    user: str | None = Query(default=None, description="The last trace of this user."),
) -> PlainTextResponse:
    """The most recent execution trace of this server process, rendered for people (admin).

    Every API mutation and engine decision leaves one. Off (403) where phased's
    own flag `enable_debug_cmd` is off: in prod unless `ENABLE_DEBUG_CMD=true`.
    """
    environment = state.settings.env
    if not debug_cmd_enabled(environment):
        raise PermissionDeniedError(
            f"debug-last is off in environment {environment!r}; "
            "set ENABLE_DEBUG_CMD=true on the server to allow it here",
            field="enable_debug_cmd",
        )
    return PlainTextResponse(render_debug_last(user))
