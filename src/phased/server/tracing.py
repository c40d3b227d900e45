"""Request tracing: W3C ``traceparent`` in and out, log context, access log, mutation traces.

Three cooperating parts, one per place FastAPI lets code run:

* :class:`RequestTracing` (ASGI middleware, outermost): takes the trace id from
  an incoming ``traceparent`` (or makes one), binds it to the log context,
  answers every response with ``traceparent`` and ``X-Trace-Id``, writes one
  access-log line and finishes the request's :class:`ExecutionTrace`.
* :func:`authenticate` (called by the auth dependencies in ``api/deps.py``):
  binds the token owner as ``user_id`` and, for a mutation, opens the
  execution trace with its ``authenticate`` step.
* :class:`TracedRoute` (the API routers' ``route_class``): by the time the
  endpoint runs, FastAPI has validated the request, so it records
  ``validate``, then times the endpoint as ``service call`` and ``commit``
  (split at the last audit entry the service wrote, seen through
  :func:`on_audit`).

The request's state lives in one contextvar holding a mutable object: the
middleware, async dependencies and error handlers run in the request's task,
sync endpoints in a worker thread with a copy of its context, and all of them
reach the same :class:`RequestScope`.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.contextvars import bind_contextvars, reset_contextvars, unbind_contextvars

from phased.obs.log import get_logger, set_context
from phased.obs.redact import redact_text
from phased.obs.traceparent import parse_traceparent
from phased.obs.traces import ExecutionTrace, StepStatus, TraceStep, TraceStore, get_trace_store
from phased.store.audit import AuditEntry

if TYPE_CHECKING:
    from phased.server.auth import Principal

log = get_logger("phased.server.access")
_ROOT = logging.getLogger()

# Polled constantly by SDKs, probes and scrapers: logged at debug so the log
# (and the 304 fast path) is not drowned in them.
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_QUIET_PREFIXES = ("/api/v1/sdk/", "/ofrep/", "/healthz", "/metrics", "/static/")


@dataclass(slots=True)
class RequestScope:
    """What one request has recorded so far."""

    trace_id: str
    span_id: str
    sampled: bool
    started: float
    parent_span_id: str | None = None
    cmd: str | None = None
    user: str | None = None
    trace: ExecutionTrace | None = None
    store: TraceStore | None = None
    audit_actions: list[str] = field(default_factory=list)
    last_audit: float | None = None


_current: ContextVar[RequestScope | None] = ContextVar("phased_request", default=None)


def current() -> RequestScope | None:
    """The scope of the request being handled here, if any."""
    return _current.get()


def route_cmd(scope: Scope) -> str:
    """``METHOD /route/{template}``: the request's ``cmd`` (never the raw path's values)."""
    method = scope.get("method", "?")
    template: str | None = getattr(scope.get("route"), "path_format", None)
    if template is None:
        return f"{method} unmatched"
    # The route knows its path within its router only (``/flags/{key}``); the
    # prefix it was included under is whatever precedes the part it matched.
    path: str = scope.get("path", "")
    try:
        matched = template.format(**scope.get("path_params", {}))
    except (KeyError, IndexError, ValueError):
        return f"{method} {template}"
    prefix = path[: -len(matched)] if matched and path.endswith(matched) else ""
    return f"{method} {prefix}{template}"


def authenticate(scope: Scope, *, mutation: bool) -> _AuthStep:
    """Open the ``authenticate`` step of a request (a mutation gets an execution trace).

    Use as ``with authenticate(request.scope, mutation=...) as auth:`` and call
    ``auth.identify(principal)`` once the token is known.
    """
    return _AuthStep(scope, mutation)


class _AuthStep:
    def __init__(self, scope: Scope, mutation: bool) -> None:
        self.request = current()
        self.cmd = route_cmd(scope)
        self.step: TraceStep | None = None
        if self.request is not None:
            self.request.cmd = self.cmd
            set_context(cmd=self.cmd)
            if mutation and scope.get("method") not in _SAFE_METHODS:
                # Not in the store yet: the store indexes traces by user, who is unknown.
                self.request.trace = ExecutionTrace(
                    trace_id=self.request.trace_id,
                    command=self.cmd,
                    span_id=self.request.span_id,
                    parent_span_id=self.request.parent_span_id,
                )

    def identify(self, principal: Principal) -> None:
        """The token is valid: its owner is the request's user."""
        if self.request is None:
            return
        self.request.user = principal.name
        set_context(user_id=principal.name)
        if self.request.trace is not None:
            self.request.trace.user = principal.name
            if self.step is not None:
                self.step.details["role"] = principal.role.value

    def __enter__(self) -> _AuthStep:
        tr = self.request.trace if self.request is not None else None
        if tr is not None:
            self.step = tr.step("authenticate").__enter__()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if self.step is not None:
            self.step.__exit__(exc_type, exc, tb)
        request = self.request
        if request is not None and request.trace is not None:
            request.store = get_trace_store()
            request.store.add(request.trace)


def fail_step(name: str, error: str) -> None:
    """Record a failed step (e.g. ``validate`` from the 422 handler) on the request's trace."""
    request = current()
    if request is not None and request.trace is not None and not request.trace.finished:
        request.trace.step(name, status=StepStatus.FAILED, error=redact_text(error))
        request.trace.error = redact_text(f"{name}: {error}")


def record_error(message: str) -> None:
    """The request's trace failed with this message (the first one recorded wins)."""
    request = current()
    if request is not None and request.trace is not None and request.trace.error is None:
        request.trace.error = redact_text(message)


def on_audit(_conn: object, entry: AuditEntry) -> None:
    """Service listener: note each audit entry the request's mutation writes."""
    request = current()
    if request is not None and request.trace is not None:
        request.audit_actions.append(f"{entry.action} {entry.entity}")
        request.last_audit = time.perf_counter()


class TracedRoute(APIRoute):
    """An API route whose endpoint records ``validate``, ``service call`` and ``commit``."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _traced(endpoint), **kwargs)


def _traced(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    # functools.wraps keeps __wrapped__, from which FastAPI reads the signature,
    # the annotations' module and whether to await or use a thread.
    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def traced_async(*args: Any, **kwargs: Any) -> Any:
            request = _begin_service_call(kwargs)
            if request is None:
                return await endpoint(*args, **kwargs)
            start = time.perf_counter()
            try:
                result = await endpoint(*args, **kwargs)
            except BaseException as exc:
                _end_service_call(request, start, exc)
                raise
            _end_service_call(request, start, None)
            return result

        return traced_async

    @functools.wraps(endpoint)
    def traced(*args: Any, **kwargs: Any) -> Any:
        request = _begin_service_call(kwargs)
        if request is None:
            return endpoint(*args, **kwargs)
        start = time.perf_counter()
        try:
            result = endpoint(*args, **kwargs)
        except BaseException as exc:
            _end_service_call(request, start, exc)
            raise
        _end_service_call(request, start, None)
        return result

    return traced


def _begin_service_call(params: dict[str, Any]) -> RequestScope | None:
    request = current()
    if request is None or request.trace is None:
        return None
    # Path and query values only: bodies may be large, and the store has no secrets to show.
    shown = {k: v for k, v in params.items() if isinstance(v, str | int | float | bool)}
    request.trace.step("validate").details.update(shown)
    return request


def _end_service_call(request: RequestScope, start: float, exc: BaseException | None) -> None:
    tr = request.trace
    assert tr is not None
    end = time.perf_counter()
    if exc is not None:
        error = redact_text(f"{type(exc).__name__}: {exc}")
        tr.step("service call", status=StepStatus.FAILED, error=error)
        tr.error = error
        return
    split = request.last_audit if request.last_audit is not None else end
    service = tr.step("service call", changes=len(request.audit_actions))
    if request.audit_actions:
        service.details["audit"] = "; ".join(request.audit_actions[:5])
    service.duration_ms = (split - start) * 1000.0
    commit = tr.step("commit", changed=bool(request.audit_actions))
    commit.duration_ms = (end - split) * 1000.0


class RequestTracing:
    """Trace ids in and out, the log context, the access log and finishing mutation traces.

    Args:
        app: the application to wrap (added last, so it wraps everything).
        internal_error: builds the 500 response for an exception no handler took,
            so that response too carries the trace headers.
    """

    def __init__(
        self, app: ASGIApp, internal_error: Callable[[BaseException], Any] | None = None
    ) -> None:
        self.app = app
        self.internal_error = internal_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope["headers"]:
            if name == b"traceparent":
                incoming = parse_traceparent(value.decode("latin-1"))
                break
        # One read of the OS's randomness for both ids: this runs on every SDK poll.
        fresh = os.urandom(24).hex()
        request = RequestScope(
            trace_id=incoming.trace_id if incoming else fresh[:32],
            span_id=fresh[32:],
            sampled=incoming.sampled if incoming else True,
            started=time.perf_counter(),
            parent_span_id=incoming.parent_id if incoming else None,
        )
        # Both ids are ours or already validated: no need for format_traceparent's checks.
        flags = b"-01" if request.sampled else b"-00"
        trace_id = request.trace_id.encode()
        headers = [
            (b"traceparent", b"00-" + trace_id + b"-" + request.span_id.encode() + flags),
            (b"x-trace-id", trace_id),
        ]
        status = 0

        async def send_traced(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        token = _current.set(request)
        bound = bind_contextvars(trace_id=request.trace_id)
        error: BaseException | None = None
        try:
            await self.app(scope, receive, send_traced)
        except Exception as exc:
            if status or self.internal_error is None:
                raise
            error = exc
            log.error("unhandled_error", exc_info=exc)
            await self.internal_error(exc)(scope, receive, send_traced)
        finally:
            self._finish(scope, request, status or 500, error)
            _current.reset(token)
            # The request's own fields go; a trace id bound around it comes back.
            if request.cmd is not None or request.user is not None:
                unbind_contextvars("cmd", "user_id")
            reset_contextvars(**bound)

    @staticmethod
    def _finish(
        scope: Scope, request: RequestScope, status: int, error: BaseException | None
    ) -> None:
        tr = request.trace
        if tr is not None and not tr.finished:
            if error is not None:
                tr.finish(error)
            elif status >= 400 and tr.error is None:
                tr.finish(f"answered HTTP {status}")
            else:
                tr.finish(tr.error)
            if request.store is not None:
                request.store.finished(tr)
        path: str = scope.get("path", "")
        if status < 400 and path.startswith(_QUIET_PREFIXES):
            if not _ROOT.isEnabledFor(logging.DEBUG):
                return  # the hot SDK path: skip building a line nobody keeps
            method = log.debug
        else:
            method = log.error if status >= 500 else log.info
        cmd = request.cmd or route_cmd(scope)
        if cmd.endswith(" unmatched") and status != 404:
            # The app's own routes (/openapi.json, /docs) are not in a router that
            # records itself in the scope; their paths hold no values, so show them.
            cmd = f"{scope.get('method')} {path}"
        method(
            "request",
            cmd=cmd,
            method=scope.get("method"),
            path=path,
            status=status,
            duration_ms=round((time.perf_counter() - request.started) * 1000.0, 2),
        )
