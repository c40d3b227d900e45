"""The application factory: :func:`create_app`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from phased import __version__
from phased.obs import otel
from phased.server import errors, tracing, ui, watcher
from phased.server.api.deps import StateDep
from phased.server.api.routes import (
    alerts,
    audit,
    compare,
    debug,
    flags,
    flagsfile,
    golden,
    incidents,
    members,
    meta,
    ofrep,
    outcomes,
    overrides,
    retire,
    rollout_logs,
    rollouts,
    sdk,
    segments,
    tokens,
    triggers,
)
from phased.server.auth import TokenTable
from phased.server.config import ServerSettings
from phased.server.metrics import CONTENT_TYPE, Metrics
from phased.server.middleware import SecurityHeaders
from phased.server.ofrep_fast import OfrepFastPath
from phased.server.sdk_cache import SdkCache
from phased.server.sdk_fast import SdkFastPath
from phased.server.state import MutationLimiter, ServerState
from phased.service import events
from phased.settings import Settings
from phased.store.engine import Store, open_store

API_ROUTERS: list[APIRouter] = [
    retire.router,  # before flags, so that GET /flags/stale is not read as the flag "stale"
    flags.router,
    flagsfile.router,
    segments.router,
    overrides.router,
    rollouts.router,
    rollout_logs.router,
    incidents.router,
    outcomes.router,
    members.router,
    audit.router,
    alerts.router,
    tokens.router,
    debug.router,
    sdk.router,
    triggers.router,
    golden.router,
    compare.router,
]

DESCRIPTION = """\
The control plane of phased: flags, segments, overrides, rollout plans,
approvals, incidents, outcomes and the audit trail. Every request carries
`Authorization: Bearer <token>`; the token's role decides what it may do and
its owner is the audit actor of every change. Errors are
`{"error": {"code", "message", "field"}}`. See docs/api.md.
"""


def _operation_id(route: APIRoute) -> str:
    # Readable operation ids: the route's own name, e.g. ``create_flag``.
    return route.name


def create_app(
    settings: Settings | None = None,
    store: Store | None = None,
    *,
    background: Any = None,
) -> FastAPI:
    """Build the server around ``store`` (opened from ``settings`` when None).

    Args:
        settings: a :class:`ServerSettings` (a plain :class:`Settings` gets the
            server defaults).
        store: an open store; the app does not close a store it was given.
        background: extra work started with the app and stopped with it (the
            engine and leader election), as an object with async ``start(state)``
            and ``stop()``.
    """
    config = (
        settings
        if isinstance(settings, ServerSettings)
        else ServerSettings(**(settings.model_dump() if settings else {}))
    )
    owned = store is None
    the_store = store or open_store(config.database_url, environments=config.environments)
    metrics = Metrics(the_store)
    state = ServerState(
        settings=config,
        store=the_store,
        tokens=TokenTable(),
        sdk=SdkCache(the_store.environments, _stage_source()),
        limiter=MutationLimiter(config.mutations_per_minute, config.mutation_burst),
        metrics=metrics,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Spans over OTLP when the OTEL_* variables ask for them (docs/opentelemetry.md).
        owns_otel = not otel.enabled() and otel.configure_from_env()
        unsubscribe = events.subscribe(metrics.on_audit)
        unsubscribe_tracing = events.subscribe(tracing.on_audit)
        await run_in_threadpool(watcher.refresh, state)
        task = asyncio.create_task(watcher.watch(state, config.revision_poll_seconds))
        if background is not None:
            await background.start(state)
        try:
            yield
        finally:
            if background is not None:
                await background.stop()
            await watcher.stop(task)
            unsubscribe()
            unsubscribe_tracing()
            if owns_otel:
                otel.shutdown()
            if owned:
                the_store.close()

    app = FastAPI(
        title="phased",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        responses=errors.ERROR_RESPONSES,
    )
    app.state.phased = state
    errors.install(app)
    for router in API_ROUTERS:
        app.include_router(router, prefix="/api/v1")
    app.include_router(meta.router)
    app.include_router(ofrep.router)  # at the root: /ofrep/v1/... as the protocol says
    ui.install(app)

    @app.get(
        "/metrics",
        operation_id="metrics",
        response_class=Response,
        tags=["meta"],
        responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text."}},
    )
    def prometheus(state: StateDep) -> Response:
        """Counters and gauges in the Prometheus text format (no token needed)."""
        return Response(state.metrics.render(), media_type=CONTENT_TYPE)

    _document_errors_as_json(app)
    app.add_middleware(SdkFastPath, state=state)
    app.add_middleware(OfrepFastPath, state=state, app_state=app.state)
    app.add_middleware(SecurityHeaders, metrics=metrics)
    # Outermost: trace ids, the log context and the access log cover everything below.
    app.add_middleware(tracing.RequestTracing, internal_error=errors.internal_error)
    return app


def _document_errors_as_json(app: FastAPI) -> None:
    # Routes answering text (exports, /metrics) still fail in JSON; FastAPI
    # would label their error bodies with the route's media type.
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = generate()
        json_error = {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
        for path, item in doc.get("paths", {}).items():
            if path.startswith("/ofrep/"):
                continue  # OFREP's failures have the protocol's own shapes
            for op in item.values():
                for status, response in op.get("responses", {}).items():
                    if status.isdigit() and int(status) >= 400:
                        response["content"] = {"application/json": json_error}
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


def _stage_source() -> Any:
    from phased.server.rollout_views import stages_by_flag

    return stages_by_flag
