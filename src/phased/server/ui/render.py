"""Rendering pages and running the dashboard's changes.

:func:`page` renders a template with what every page needs (the session, its
CSRF token, the one-shot flash message). :func:`act` runs one change the way
every form does: same-origin and CSRF checks, the role the API would require,
a confirmation step, the token's rate limit, then the API operation itself;
the outcome comes back as a flash message on the page the form was on.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError as PydanticValidationError
from starlette.concurrency import run_in_threadpool

from phased import __version__
from phased.core.durations import format_duration
from phased.core.gates import GateResult
from phased.core.metric_format import fmt_metric
from phased.errors import PhasedError
from phased.server.auth import Permission
from phased.server.ui.session import Session, check_same_origin, state_of
from phased.service.base import translate

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
FLASH_COOKIE = "phased_flash"


def _ts(value: datetime | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    if value == 0 or 0.01 <= abs(value) < 100_000:
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value:.3g}"


def _pct(value: float) -> str:
    return f"{value:g} %"


def _measured(ev: GateResult) -> str:
    """A check's value for people: durations as durations, comparisons against control."""
    if ev.value is None:
        return "—"
    if ev.metric == "soak":
        return format_duration(timedelta(seconds=ev.value))
    if ev.control_value is not None:
        return f"{_num(ev.value)} vs control {_num(ev.control_value)}"
    return _num(ev.value)


def _limit(ev: GateResult) -> str:
    """A check's bar: a comparison's is its e-value bound, not a metric value."""
    if ev.threshold is None:
        return "—"
    if ev.metric == "soak":
        return format_duration(timedelta(seconds=ev.threshold))
    if ev.e_value is not None or ev.control_value is not None:
        shown = "—" if ev.e_value is None else _num(ev.e_value)
        return f"e-value {shown} < {_num(ev.threshold)}"
    return _num(ev.threshold)


TEMPLATES.env.filters["ts"] = _ts
TEMPLATES.env.filters["num"] = _num
TEMPLATES.env.filters["pct"] = _pct
TEMPLATES.env.filters["measured"] = _measured
TEMPLATES.env.filters["limit"] = _limit
TEMPLATES.env.filters["metric"] = lambda value, metric: fmt_metric(metric, value)


def _encode(kind: str, text: str) -> str:
    raw = json.dumps({"kind": kind, "text": text[:2000]}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode(value: str | None) -> dict[str, str] | None:
    if not value:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(value.encode()))
    except (ValueError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("kind") not in ("ok", "error"):
        return None
    return {"kind": str(data["kind"]), "text": str(data.get("text", ""))}


def flash(response: Response, kind: str, text: str) -> None:
    """Show ``text`` once on the next page (``kind``: ok or error)."""
    response.set_cookie(
        FLASH_COOKIE, _encode(kind, text), path="/ui", httponly=True, samesite="strict"
    )


def page(
    request: Request,
    template: str,
    session: Session | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """Render ``template`` with the session, its CSRF token and the pending flash message."""
    state = state_of(request)
    message = _decode(request.cookies.get(FLASH_COOKIE))
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "session": session,
            "csrf": session.csrf if session else "",
            "flash": message,
            "version": __version__,
            "environments": state.store.environments,
            "P": Permission,
            **context,
        },
        status_code=status_code,
    )
    if message is not None:
        response.delete_cookie(FLASH_COOKIE, path="/ui", httponly=True, samesite="strict")
    return response


def error_page(request: Request, session: Session | None, exc: PhasedError) -> Response:
    """A refused request shown as a page with the error's own status."""
    return page(
        request,
        "error.html",
        session,
        status_code=exc.http_status,
        title="Refused",
        error=exc,
    )


def message_of(exc: PhasedError) -> str:
    """``field: message`` unless the message names the field already."""
    return str(exc)


async def form_of(request: Request) -> dict[str, str]:
    """The submitted form's text fields."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def act(
    request: Request,
    session: Session,
    form: Mapping[str, str],
    *,
    permission: Permission,
    confirm: str,
    back: str,
    run: Callable[[], str],
    preview: Callable[[], Any] | None = None,
) -> Response:
    """Run one dashboard change (see the module docs) and go back to ``back``.

    Args:
        permission: what the API route for this change requires.
        confirm: the question the confirmation step asks, in words.
        run: performs the change through the API operation; returns the success message.
        preview: computes the change's :class:`~phased.service.preview.ChangePreview`
            for the confirmation page (who gains and loses; a running plan's drift).
    """
    try:
        check_same_origin(request)
        session.check_csrf(form.get("csrf"))
        session.principal.require(permission)
    except PhasedError as exc:
        return error_page(request, session, exc)
    if form.get("confirm") != "yes":
        hidden = {k: v for k, v in form.items() if k not in ("confirm", "csrf", "force")}
        shown = None
        if preview is not None:
            try:
                shown = await run_in_threadpool(preview)
            except PhasedError:
                shown = None  # the change itself reports the problem
        return page(
            request,
            "confirm.html",
            session,
            title="Confirm",
            question=confirm,
            action=request.url.path,
            hidden=hidden,
            back=back,
            preview=shown,
        )
    response = RedirectResponse(back, status_code=303)
    try:
        state_of(request).limiter.check(session.principal)
        done = await run_in_threadpool(run)
    except PhasedError as exc:
        flash(response, "error", message_of(exc))
    except PydanticValidationError as exc:
        flash(response, "error", message_of(translate(exc)))
    else:
        flash(response, "ok", done)
    return response
