"""The SDK's endpoints: the compiled flag set (ETag/304), its change stream, outcome batches.

``GET /sdk/flags`` is also answered by :class:`phased.server.sdk_fast.SdkFastPath`
before FastAPI routing (same function, fewer layers): this route is what the
OpenAPI document describes, and what answers if the fast path is bypassed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from phased.core.outcomes import Aggregate, OutcomeKey
from phased.errors import PermissionDeniedError, ValidationError
from phased.server.api.deps import SdkReader, SdkWriter, StateDep, StoreDep
from phased.server.auth import Permission, Principal
from phased.server.sdk_cache import Payload
from phased.server.state import ServerState
from phased.service import outcomes as outcome_service

router = APIRouter(prefix="/sdk", tags=["sdk"])


class SdkFlagSet(BaseModel):
    """One environment's flag set as an SDK evaluates it (see docs/api.md)."""

    version: int = Field(description="Payload format version (1).")
    environment: str
    stages: dict[str, str] = Field(
        description="The current stage of each flag under an active rollout."
    )
    flagset: dict[str, Any] = Field(
        description="The flags-file document of this environment (FlagSet.model_validate reads it)."
    )


class WindowKey(BaseModel):
    """Where a window is aggregated: `OutcomeKey.to_dict()`."""

    model_config = ConfigDict(extra="forbid")

    flag: str = Field(min_length=1, max_length=64)
    environment: str = Field(min_length=1, max_length=64)
    arm: Literal["candidate", "control"]
    stage: str = Field(max_length=64)
    slot: int = Field(ge=0, le=2**40, description="Unix time // 10.")


class OutcomeWindow(BaseModel):
    """One closed window: its key and `Aggregate.to_dict()`."""

    model_config = ConfigDict(extra="forbid")

    key: WindowKey
    aggregate: dict[str, Any] = Field(
        description="requests, errors, fallbacks, retries, cost_usd, latency (sketch), "
        "metrics, users, units (per-unit records, optional)"
    )


class OutcomeBatch(BaseModel):
    """Windows shipped together; a retried batch keeps its `batch_id`."""

    model_config = ConfigDict(extra="forbid")

    batch_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    environment: str | None = Field(default=None, description="Must match the token's.")
    windows: list[OutcomeWindow] = Field(max_length=10_000)


class OutcomeBatchResult(BaseModel):
    """What the server did with a batch."""

    accepted: int = Field(description="Windows merged (0 for a duplicate).")
    duplicate: bool = Field(description="True when this batch id was seen before.")


def sdk_environment(state: ServerState, principal: Principal, requested: str | None) -> str:
    """The environment a request reads: the token's own, or the one asked for."""
    env = principal.environment_for(requested)
    if env is None:
        env = state.settings.env
    if env not in state.store.environments:
        raise ValidationError(
            f"unknown environment {env!r}; use one of: {', '.join(state.store.environments)}",
            field="environment",
        )
    return env


def flags_response(
    state: ServerState,
    authorization: str | None,
    if_none_match: str | None,
    environment: str | None,
) -> tuple[int, Payload | None]:
    """(304, payload) or (200, payload) for a flags request; raises on a bad token."""
    principal = state.tokens.authenticate(authorization)
    principal.require(Permission.SDK_READ)
    env = sdk_environment(state, principal, environment)
    payload = state.sdk.get(env)
    if payload is None:
        raise ValidationError(
            "the flag set is not loaded yet; retry in a second", field="environment"
        )
    if state.sdk.matches(env, if_none_match):
        return 304, payload
    return 200, payload


_FLAGS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The flag set; the ETag header identifies it."},
    304: {"description": "Not modified: the If-None-Match ETag is current."},
}


@router.get(
    "/flags", operation_id="sdk_flags", response_model=SdkFlagSet, responses=_FLAGS_RESPONSES
)
async def sdk_flags(
    request: Request,
    state: StateDep,
    environment: str | None = Query(default=None, description="Defaults to the token's."),
    if_none_match: str | None = Header(default=None),
) -> Response:
    """The compiled flag set of one environment, with an ETag; `If-None-Match` → 304.

    Served from memory: the payload is rebuilt only when the store changes.
    """
    code, payload = flags_response(
        state, request.headers.get("authorization"), if_none_match, environment
    )
    assert payload is not None
    headers = {"ETag": payload.etag, "Cache-Control": "no-cache"}
    if code == 304:
        return Response(status_code=304, headers=headers)
    return Response(payload.body, media_type="application/json", headers=headers)


def _event(payload: Payload) -> str:
    data = json.dumps({"etag": payload.etag, "version": payload.revision})
    return f"event: flags\nid: {payload.revision}\ndata: {data}\n\n"


@router.get(
    "/stream",
    operation_id="sdk_stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "`event: flags` with `{etag, version}` now and on every change.",
        }
    },
)
async def sdk_stream(
    state: StateDep,
    who: SdkReader,
    environment: str | None = Query(default=None, description="Defaults to the token's."),
) -> StreamingResponse:
    """Server-sent events: the current ETag at once, then a new one within a second of a change.

    An SDK whose ETag differs fetches `GET /sdk/flags` with `If-None-Match`.
    """
    env = sdk_environment(state, who, environment)
    heartbeat = state.settings.sse_heartbeat_seconds

    async def events() -> AsyncIterator[str]:
        state.metrics.sdk_streams.inc()
        try:
            sent: str | None = None
            while True:
                # Take the wake-up before reading the payload so a change in
                # between is never missed.
                changed = state.sdk.event(env)
                payload = state.sdk.get(env)
                if payload is not None and payload.etag != sent:
                    sent = payload.etag
                    yield _event(payload)
                try:
                    await asyncio.wait_for(changed.wait(), heartbeat)
                except TimeoutError:
                    yield ": ping\n\n"
        finally:
            state.metrics.sdk_streams.dec()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("/outcomes", operation_id="sdk_post_outcomes")
async def post_outcomes(
    body: OutcomeBatch, store: StoreDep, state: StateDep, who: SdkWriter
) -> OutcomeBatchResult:
    """Merge a batch of outcome windows; a batch id seen before is not counted again."""
    env = who.environment_for(body.environment)
    windows = []
    for i, window in enumerate(body.windows):
        if env is not None and window.key.environment != env:
            raise PermissionDeniedError(
                f"windows[{i}].key.environment is {window.key.environment!r} but this token "
                f"writes {env!r} only",
                field=f"windows[{i}].key.environment",
            )
        try:
            key = OutcomeKey.from_dict(window.key.model_dump())
            aggregate = Aggregate.from_dict(window.aggregate)
        except ValidationError as exc:
            raise ValidationError(exc.message, field=f"windows[{i}].{exc.field}") from None
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise ValidationError(
                f"malformed aggregate ({type(exc).__name__}: {exc})",
                field=f"windows[{i}].aggregate",
            ) from None
        windows.append((key, aggregate))
    result = await run_in_threadpool(outcome_service.ingest, store, body.batch_id, windows)
    state.metrics.outcome_batches.labels(
        result="duplicate" if result.duplicate else "accepted"
    ).inc()
    return OutcomeBatchResult(accepted=result.windows, duplicate=result.duplicate)
