"""OFREP evaluation answered before FastAPI routing.

An OFREP provider asks once per flag evaluation, so these POSTs are the
server's hottest path after the SDK's 304s. Matching a path against every
API route costs more than evaluating the flag (about 1 ms against 0.1 ms), so
this ASGI wrapper answers ``POST /ofrep/v1/evaluate/flags[/{key}]`` directly
with :func:`~phased.server.api.routes.ofrep.answer_single` and
:func:`~phased.server.api.routes.ofrep.answer_bulk`, the functions the
documented routes call.
"""

from __future__ import annotations

from types import SimpleNamespace

from starlette.types import ASGIApp, Receive, Scope, Send

from phased.server.api.routes.ofrep import Answer, answer_bulk, answer_single, sets_of
from phased.server.state import ServerState

BULK = "/ofrep/v1/evaluate/flags"
SINGLE = BULK + "/"
MAX_BODY = 1024 * 1024
"""Reading stops here; the evaluation refuses anything above 256 KiB anyway."""

# route_cmd() names a request by its route template; these requests have none.
_SINGLE_ROUTE = SimpleNamespace(path_format="/ofrep/v1/evaluate/flags/{key}")
_BULK_ROUTE = SimpleNamespace(path_format=BULK)


class OfrepFastPath:
    """Answers OFREP evaluation POSTs; everything else goes to ``app``."""

    def __init__(self, app: ASGIApp, state: ServerState, app_state: object) -> None:
        self.app = app
        self.state = state
        self.sets = sets_of(app_state)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == BULK:
            key = None
        elif path.startswith(SINGLE) and "/" not in path[len(SINGLE) :] and len(path) > len(SINGLE):
            key = path[len(SINGLE) :]
        else:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
        }
        if key is None:
            scope = {**scope, "route": _BULK_ROUTE, "path_params": {}}
            answer = answer_bulk(self.state, self.sets, scope, headers, body=body)
        else:
            scope = {**scope, "route": _SINGLE_ROUTE, "path_params": {"key": key}}
            answer = answer_single(self.state, self.sets, scope, headers, key=key, body=body)
        await _send(send, answer)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        # Past MAX_BODY the rest is dropped: what is kept is still over the
        # evaluation's limit, so the request is refused, never parsed.
        if size <= MAX_BODY:
            chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _send(send: Send, answer: Answer) -> None:
    status, headers, body = answer
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    if status != 304:
        raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
