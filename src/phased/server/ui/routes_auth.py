"""Logging in with a token, logging out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from phased.errors import AuthenticationError, PermissionDeniedError
from phased.server.ui.render import error_page, form_of, message_of, page
from phased.server.ui.session import (
    LOGIN_COOKIE,
    SessionDep,
    authenticate,
    check_login_nonce,
    check_same_origin,
    clear_session_cookie,
    new_login_nonce,
    safe_next,
    set_login_nonce,
    set_session_cookie,
)

router = APIRouter()


def _login_form(
    request: Request, next_url: str, error: str = "", *, status_code: int = 200
) -> Response:
    nonce = new_login_nonce()
    response = page(
        request,
        "login.html",
        None,
        status_code=status_code,
        title="Log in",
        next_url=next_url,
        error=error,
        nonce=nonce,
    )
    set_login_nonce(response, request, nonce)
    return response


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    """The dashboard is the home page."""
    return RedirectResponse("/ui/flags", status_code=303)


@router.get("/ui", include_in_schema=False)
@router.get("/ui/", include_in_schema=False)
def ui_root() -> RedirectResponse:
    """Flags are the first page."""
    return RedirectResponse("/ui/flags", status_code=303)


@router.get("/ui/login", include_in_schema=False)
def login_form(request: Request, next: str | None = None, why: str = "") -> Response:
    """The login form: one field, the API token."""
    return _login_form(request, safe_next(next), why)


@router.post("/ui/login", include_in_schema=False)
async def login(request: Request) -> Response:
    """Check the token and keep it in the session cookie."""
    form = await form_of(request)
    next_url = safe_next(form.get("next"))
    try:
        check_same_origin(request)
        check_login_nonce(request, form.get("nonce"))
    except PermissionDeniedError as exc:
        return _login_form(request, next_url, message_of(exc), status_code=403)
    secret = form.get("token", "").strip()
    if not secret:
        return _login_form(request, next_url, "token: paste your API token", status_code=401)
    try:
        authenticate(request, secret)
    except (AuthenticationError, PermissionDeniedError) as exc:
        return _login_form(request, next_url, exc.message, status_code=exc.http_status)
    response = RedirectResponse(next_url, status_code=303)
    set_session_cookie(response, request, secret)
    response.delete_cookie(LOGIN_COOKIE, path="/ui/login")
    return response


@router.post("/ui/logout", include_in_schema=False)
async def logout(request: Request, session: SessionDep) -> Response:
    """Forget the token (the token itself stays valid; revoke it to end it everywhere)."""
    form = await form_of(request)
    try:
        check_same_origin(request)
        session.check_csrf(form.get("csrf"))
    except PermissionDeniedError as exc:
        return error_page(request, session, exc)
    response = RedirectResponse("/ui/login?why=Logged+out.", status_code=303)
    clear_session_cookie(response)
    return response
