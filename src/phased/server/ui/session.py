"""Who is looking at the dashboard: the token cookie, CSRF tokens, same-origin checks.

The dashboard logs in with an API token and keeps it in an ``HttpOnly``,
``SameSite=Strict`` cookie: scripts cannot read it and no other site can make
the browser send it. Every mutating form also carries a CSRF token derived
from the session (HMAC of a fixed label keyed by the token's secret), so it
needs no server-side storage, works across replicas, and cannot be computed
by a page that does not know the secret. The login form, which has no session
yet, uses a double-submit cookie instead (against login CSRF).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from phased.errors import AuthenticationError, PermissionDeniedError
from phased.server import tracing
from phased.server.auth import Permission, Principal
from phased.server.state import ServerState

SESSION_COOKIE = "phased_session"
LOGIN_COOKIE = "phased_login_csrf"
SESSION_SECONDS = 12 * 3600
"""A dashboard login lasts a working day; the token itself lives on."""

_CSRF_LABEL = b"phased-dashboard-csrf-v1"


class LoginRequiredError(Exception):
    """No valid session: the page answers with a redirect to the login form."""

    def __init__(self, next_url: str, message: str = "") -> None:
        super().__init__(message)
        self.next_url = next_url
        self.message = message


def state_of(request: Request) -> ServerState:
    """The running server's state."""
    state: ServerState = request.app.state.phased
    return state


def csrf_token(secret: str) -> str:
    """The CSRF token of the session holding ``secret``."""
    return hmac.new(secret.encode(), _CSRF_LABEL, hashlib.sha256).hexdigest()


def check_csrf(secret: str, given: str | None) -> None:
    """Refuse a form whose CSRF token is missing or does not match the session."""
    if not given or not hmac.compare_digest(csrf_token(secret), given):
        raise PermissionDeniedError(
            "the form's CSRF token is missing or stale; reload the page and submit again",
            field="csrf",
        )


def check_same_origin(request: Request) -> None:
    """Refuse a POST whose ``Origin`` names another site (browsers send it on POST)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return  # old browsers omit it; the SameSite cookie and the CSRF token still hold
    host = request.headers.get("host", "")
    if urlsplit(origin).netloc != host:
        raise PermissionDeniedError(
            f"a form from {origin} may not change this server; use the dashboard at "
            f"{request.url.scheme}://{host}/ui/",
            field="origin",
        )


def safe_next(value: str | None) -> str:
    """A local dashboard path to return to after login (never another site)."""
    if value and value.startswith("/ui/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/ui/flags"


def here(request: Request) -> str:
    """The current path with its query, for ``?next=``."""
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{request.url.path}{query}"


def login_redirect(next_url: str, message: str = "") -> RedirectResponse:
    """A 303 to the login form that comes back to ``next_url``."""
    target = f"/ui/login?next={quote(next_url, safe='/')}"
    if message:
        target += f"&why={quote(message)}"
    return RedirectResponse(target, status_code=303)


def authenticate(request: Request, secret: str) -> Principal:
    """The principal of ``secret``, refusing tokens that cannot read (sdk tokens).

    Raises:
        AuthenticationError: unknown or revoked token.
        PermissionDeniedError: an sdk token (it reads one flag set, nothing else).
    """
    principal = state_of(request).tokens.authenticate(f"Bearer {secret.strip()}")
    if not principal.allows(Permission.READ):
        raise PermissionDeniedError(
            f"a {principal.role.value} token cannot use the dashboard; log in with a "
            "viewer, developer, pm or admin token",
            field="token",
        )
    return principal


class Session:
    """A logged-in dashboard user: the principal and the session's CSRF token."""

    def __init__(self, principal: Principal, secret: str) -> None:
        self.principal = principal
        self._secret = secret
        self.csrf = csrf_token(secret)

    @property
    def name(self) -> str:
        """The audit actor of everything this session changes."""
        return self.principal.name

    def can(self, permission: Permission | str) -> bool:
        """Whether this session's role grants ``permission``."""
        return self.principal.allows(Permission(permission))

    def check_csrf(self, given: str | None) -> None:
        """Refuse a form without this session's CSRF token."""
        check_csrf(self._secret, given)


def current_session(request: Request) -> Session:
    """The logged-in session, or :class:`LoginRequiredError` (answered with a redirect)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise LoginRequiredError(here(request))
    # Binds the owner as the request's user in the log context, as the API's
    # dependencies do; a POST (a change) gets an execution trace like an API
    # mutation, so `debug-last` shows dashboard changes too.
    with tracing.authenticate(request.scope, mutation=True) as auth:
        try:
            principal = authenticate(request, secret)
        except (AuthenticationError, PermissionDeniedError) as exc:
            raise LoginRequiredError(here(request), exc.message) from None
        auth.identify(principal)
    return Session(principal, secret)


SessionDep = Annotated[Session, Depends(current_session)]


def set_session_cookie(response: Response, request: Request, secret: str) -> None:
    """Keep the token where scripts cannot read it and other sites cannot send it."""
    response.set_cookie(
        SESSION_COOKIE,
        secret.strip(),
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_session_cookie(response: Response) -> None:
    """Log out: the browser forgets the token."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


def set_login_nonce(response: Response, request: Request, nonce: str) -> None:
    """The cookie half of the login form's double-submit value."""
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=3600,
        path="/ui/login",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def new_login_nonce() -> str:
    """A fresh double-submit value for the login form."""
    return secrets.token_urlsafe(24)


def check_login_nonce(request: Request, given: str | None) -> None:
    """The login form's hidden value must match its cookie."""
    expected = request.cookies.get(LOGIN_COOKIE)
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise PermissionDeniedError(
            "the login form expired; reload the page and log in again", field="csrf"
        )
