"""``GET /api/v1/sdk/flags`` answered before FastAPI routing.

Most SDK traffic is this one request, usually ending in 304. Routing,
dependency injection and response models would cost more than the work
(one hash, two dict lookups, one string comparison), so this ASGI wrapper
answers it directly with :func:`~phased.server.api.routes.sdk.flags_response`,
the same function the documented route uses.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from phased.errors import PhasedError
from phased.server.api.routes.sdk import flags_response
from phased.server.state import ServerState

PATH = "/api/v1/sdk/flags"


class SdkFastPath:
    """Answers GET/HEAD of :data:`PATH`; everything else goes to ``app``."""

    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != PATH
            or scope["method"] not in ("GET", "HEAD")
        ):
            await self.app(scope, receive, send)
            return
        authorization = if_none_match = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        environment = None
        if scope.get("query_string"):
            values = parse_qs(scope["query_string"].decode("latin-1")).get("environment")
            environment = values[0] if values else None
        try:
            code, payload = flags_response(self.state, authorization, if_none_match, environment)
        except PhasedError as exc:
            body = json.dumps({"error": exc.to_dict()}).encode()
            await _send(send, exc.http_status, [(b"content-type", b"application/json")], body)
            return
        assert payload is not None
        headers = [(b"etag", payload.etag.encode()), (b"cache-control", b"no-cache")]
        if code == 304:
            await _send(send, 304, headers, b"")
            return
        headers.append((b"content-type", b"application/json"))
        body = b"" if scope["method"] == "HEAD" else payload.body
        await _send(send, 200, headers, body, length=len(payload.body))


async def _send(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, length: int = -1
) -> None:
    size = len(body) if length < 0 else length
    if status != 304:
        headers = [*headers, (b"content-length", str(size).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
