"""Plain ASGI middleware: security headers on every response, request counts.

Written against ASGI directly (not ``BaseHTTPMiddleware``) because it wraps
the SDK's hot path too, where a per-request task and body copy would cost
more than the handler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from phased.server.metrics import Metrics

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
# The interactive docs load Swagger UI's script and style from a CDN; every
# other page may load nothing from elsewhere.
_STRICT_CSP = (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'")
_DOCS_CSP = (
    b"content-security-policy",
    b"default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"img-src 'self' data: https://fastapi.tiangolo.com; frame-ancestors 'none'",
)
_NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    """Adds the security headers (and ``no-store`` on API responses without caching rules)."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        csp = _DOCS_CSP if path in ("/docs", "/redoc") else _STRICT_CSP
        status_seen = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status_seen
            if message["type"] == "http.response.start":
                status_seen = message["status"]
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in names)
                if csp[0] not in names:
                    headers.append(csp)
                if b"cache-control" not in names:
                    headers.append(_NO_STORE)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if self.metrics is not None:
                route = scope.get("route")
                template = getattr(route, "path", None) or "unmatched"
                self.metrics.requests.labels(
                    route=template, method=scope["method"], status=str(status_seen or 500)
                ).inc()
