"""The web dashboard: server-rendered pages over the same operations as ``/api/v1``.

Jinja2 templates, one small CSS file and one small script, all served from
this package (no CDN, no build step). :func:`install` mounts it on the app
that :func:`phased.server.create_app` builds. See ``docs/dashboard.md``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from phased.errors import NotFoundError, PhasedError, ValidationError
from phased.server.ui import (
    routes_alerts,
    routes_audit,
    routes_auth,
    routes_compare,
    routes_emergency,
    routes_flags,
    routes_inbox,
    routes_rollouts,
)
from phased.server.ui.render import error_page
from phased.server.ui.session import LoginRequiredError, Session, current_session, login_redirect

STATIC = Path(__file__).parent / "static"
Handler = Callable[[Request, Exception], Awaitable[Response] | Response]


def _as_phased(exc: Exception) -> PhasedError:
    if isinstance(exc, PhasedError):
        return exc
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        loc = ".".join(str(p) for p in first.get("loc", ())[1:])
        return ValidationError(str(first.get("msg", "invalid value")), field=loc or None)
    if isinstance(exc, StarletteHTTPException) and exc.status_code == 404:
        return NotFoundError("no such page; start from the flags", field="path")
    return PhasedError(str(getattr(exc, "detail", "") or "the request was refused"))


def _html_for_ui(existing: Handler | None) -> Handler:
    """Answer errors on dashboard paths with a page; leave the API's JSON errors alone."""

    async def handler(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/ui") and not request.url.path.startswith("/ui/static"):
            session: Session | None
            try:
                session = current_session(request)
            except LoginRequiredError:
                session = None
            return error_page(request, session, _as_phased(exc))
        if existing is None:
            raise exc
        result = existing(request, exc)
        return await result if isinstance(result, Awaitable) else result

    return handler


async def _login_required(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequiredError)
    return login_redirect(exc.next_url, exc.message)


def install(app: FastAPI) -> None:
    """Mount the dashboard (pages under ``/ui``, ``/`` redirecting there) on ``app``."""
    for router in (
        routes_auth.router,
        routes_emergency.router,  # before flags: /ui/flags/{key}/{env}/emergency/...
        routes_flags.router,
        routes_inbox.router,  # before rollouts: /ui/rollouts/{flag}/signoff
        routes_rollouts.router,
        routes_compare.router,
        routes_audit.router,
        routes_alerts.router,
    ):
        app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
    app.add_exception_handler(LoginRequiredError, _login_required)
    for kind in (PhasedError, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(kind, _html_for_ui(app.exception_handlers.get(kind)))


__all__ = ["install"]
