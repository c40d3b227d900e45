"""OFREP, the OpenFeature Remote Evaluation Protocol: any language's OpenFeature SDK, unchanged.

``POST /ofrep/v1/evaluate/flags/{key}`` evaluates one flag for one context,
``POST /ofrep/v1/evaluate/flags`` evaluates every flag of the environment
(``ETag`` / ``If-None-Match`` → 304). Both take phased's SDK tokens, as
``Authorization: Bearer <token>`` or ``X-API-Key: <token>``; a token bound to
an environment evaluates that environment, another token the one named by the
``X-Phased-Environment`` header (else the server's default).

The evaluation is the SDK's own (:class:`~phased.core.evaluate.CompiledFlagSet`,
compiled from the very payload ``GET /api/v1/sdk/flags`` serves) and the
mapping to the protocol is pure (:mod:`phased.core.ofrep`). Bad input is a
protocol error (``PARSE_ERROR``, ``INVALID_CONTEXT``, ``TARGETING_KEY_MISSING``)
with a message, never a 500. See docs/ofrep.md.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse
from starlette.types import Scope

from phased.core import ofrep
from phased.core.evaluate import CompiledFlagSet
from phased.errors import PhasedError, ValidationError
from phased.sdk.remote import parse_payload
from phased.server import tracing
from phased.server.api.routes.sdk import sdk_environment
from phased.server.auth import Permission
from phased.server.sdk_cache import Payload
from phased.server.state import ServerState

router = APIRouter(prefix="/ofrep/v1", tags=["ofrep"])

ENVIRONMENT_HEADER = "x-phased-environment"

_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "context": {
                        "type": "object",
                        "properties": {"targetingKey": {"type": "string"}},
                        "additionalProperties": True,
                    }
                },
            },
            "example": {"context": {"targetingKey": "user-123", "role": "admin"}},
        }
    },
}


@dataclass(frozen=True, slots=True)
class Compiled:
    """One environment's flag set compiled for evaluation, and the payload it came from."""

    etag: str
    flags: CompiledFlagSet
    stages: dict[str, str]


class CompiledSets:
    """Compiled flag sets by environment, recompiled when the SDK payload's ETag moves."""

    def __init__(self) -> None:
        self._by_env: dict[str, Compiled] = {}

    def get(self, payload: Payload) -> Compiled:
        """The compiled set of ``payload`` (compiled on first use after a change)."""
        held = self._by_env.get(payload.environment)
        if held is not None and held.etag == payload.etag:
            return held
        flagset, stages = parse_payload(json.loads(payload.body), "sdk payload")
        # env={}: the server's own process environment must not pin anyone's flags.
        flags = CompiledFlagSet(flagset, payload.environment, env={}, clock=time.time)
        held = self._by_env[payload.environment] = Compiled(payload.etag, flags, stages)
        return held


Answer = tuple[int, dict[str, str], bytes]
"""(status, headers, body) of one OFREP answer; routes and the fast path send it as it is."""

_NO_HEADERS: dict[str, str] = {}


def compiled_for(
    state: ServerState, sets: CompiledSets, scope: Scope, headers: Mapping[str, str]
) -> Compiled | Answer:
    """Authenticate, pick the environment, and return its compiled flag set (or the refusal)."""
    authorization = headers.get("authorization")
    api_key = headers.get("x-api-key")
    if not authorization and api_key:
        authorization = f"Bearer {api_key}"
    try:
        with tracing.authenticate(scope, mutation=False) as auth:
            principal = state.tokens.authenticate(authorization)
            auth.identify(principal)
            principal.require(Permission.SDK_READ)
        env = sdk_environment(state, principal, headers.get(ENVIRONMENT_HEADER))
    except ValidationError as exc:
        return _json(ofrep.failure(None, "GENERAL", str(exc)).body, 400)
    except PhasedError as exc:
        # 401 / 403: the providers read the status; the body says what to fix.
        return _json({"errorCode": "GENERAL", "errorDetails": str(exc)}, exc.http_status)
    payload = state.sdk.get(env)
    if payload is None:
        return _json(
            {"errorCode": "GENERAL", "errorDetails": "the flag set is not loaded yet; retry"},
            503,
            {"Retry-After": "1"},
        )
    return sets.get(payload)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    data = json.dumps(body, separators=(",", ":")).encode()
    return status, {"content-type": "application/json", **(headers or _NO_HEADERS)}, data


def answer_single(
    state: ServerState,
    sets: CompiledSets,
    scope: Scope,
    headers: Mapping[str, str],
    *,
    key: str,
    body: bytes,
) -> Answer:
    """The answer to ``POST /ofrep/v1/evaluate/flags/{key}``."""
    compiled = compiled_for(state, sets, scope, headers)
    if not isinstance(compiled, Compiled):
        return compiled
    ctx = ofrep.parse_request(body)
    if isinstance(ctx, ofrep.OfrepError):
        return _json(ofrep.failure(key, ctx.code, ctx.details).body, 400)
    result = ofrep.evaluate(compiled.flags, key, ctx, stage=compiled.stages.get(key))
    return _json(result.body, result.status)


def answer_bulk(
    state: ServerState,
    sets: CompiledSets,
    scope: Scope,
    headers: Mapping[str, str],
    *,
    body: bytes,
) -> Answer:
    """The answer to ``POST /ofrep/v1/evaluate/flags`` (304 when If-None-Match is current)."""
    compiled = compiled_for(state, sets, scope, headers)
    if not isinstance(compiled, Compiled):
        return compiled
    ctx = ofrep.parse_request(body)
    if isinstance(ctx, ofrep.OfrepError):
        return _json(ofrep.failure(None, ctx.code, ctx.details).body, 400)
    data = json.dumps(
        ofrep.evaluate_all(compiled.flags, ctx, compiled.stages), separators=(",", ":")
    ).encode()
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    out = {"etag": etag, "cache-control": "no-cache"}
    if_none_match = headers.get("if-none-match")
    if if_none_match and _etag_matches(etag, if_none_match):
        return 304, out, b""
    return 200, {"content-type": "application/json", **out}, data


def sets_of(app_state: Any) -> CompiledSets:
    """The app's compiled sets (made on first use)."""
    sets: CompiledSets | None = getattr(app_state, "ofrep_sets", None)
    if sets is None:
        sets = app_state.ofrep_sets = CompiledSets()
    return sets


def _response(answer: Answer) -> Response:
    status, headers, body = answer
    return Response(body, status_code=status, headers=headers)


def _content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


_CODES = ["PARSE_ERROR", "TARGETING_KEY_MISSING", "INVALID_CONTEXT", "GENERAL", "FLAG_NOT_FOUND"]
_METADATA = {
    "type": "object",
    "additionalProperties": {"type": ["boolean", "string", "number"]},
    "description": "`reason` (phased's own), `environment`, `stage` (under a rollout).",
}
SUCCESS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["key", "reason", "value"],
    "properties": {
        "key": {"type": "string"},
        "value": {"description": "true/false, the variant name, or the variant's payload"},
        "reason": {
            "type": "string",
            "enum": ["STATIC", "TARGETING_MATCH", "SPLIT", "DISABLED", "DEFAULT", "UNKNOWN"],
        },
        "variant": {"type": "string"},
        "metadata": _METADATA,
    },
}
FAILURE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["key", "errorCode"],
    "properties": {
        "key": {"type": "string"},
        "errorCode": {"type": "string", "enum": _CODES},
        "errorDetails": {"type": "string"},
    },
}
REQUEST_FAILURE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["errorCode"],
    "properties": {
        "errorCode": {"type": "string", "enum": _CODES},
        "errorDetails": {"type": "string"},
    },
}
_REFUSED: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "No token, or an unknown or revoked one.",
        **_content(REQUEST_FAILURE_SCHEMA),
    },
    403: {
        "description": "The token is bound to another environment than X-Phased-Environment.",
        **_content(REQUEST_FAILURE_SCHEMA),
    },
    503: {
        "description": "The flag set is not loaded yet (just after start); see Retry-After.",
        **_content(REQUEST_FAILURE_SCHEMA),
    },
}

_SINGLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "`{key, value, reason, variant, metadata}`.", **_content(SUCCESS_SCHEMA)},
    400: {
        "description": "`{key, errorCode, errorDetails}`: PARSE_ERROR, INVALID_CONTEXT, "
        "TARGETING_KEY_MISSING or GENERAL.",
        **_content(FAILURE_SCHEMA),
    },
    404: {
        "description": "`{key, errorCode: FLAG_NOT_FOUND, errorDetails}`.",
        **_content(FAILURE_SCHEMA),
    },
    **_REFUSED,
}


@router.post(
    "/evaluate/flags/{key}",
    operation_id="ofrep_evaluate_flag",
    response_class=JSONResponse,
    responses=_SINGLE_RESPONSES,
    openapi_extra={"requestBody": _REQUEST_BODY},
)
async def evaluate_flag(key: str, request: Request) -> Response:
    """Evaluate one flag for the context in the body (OFREP `evaluateFlag`).

    Usually answered by :class:`phased.server.ofrep_fast.OfrepFastPath` before
    routing, with the same function.
    """
    state: ServerState = request.app.state.phased
    body = await request.body()
    sets = sets_of(request.app.state)
    return _response(answer_single(state, sets, request.scope, request.headers, key=key, body=body))


_BULK_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`{flags: [...], metadata}`; the ETag identifies this answer.",
        "headers": {"ETag": {"schema": {"type": "string"}}},
        **_content(
            {
                "type": "object",
                "required": ["flags"],
                "properties": {
                    "flags": {
                        "type": "array",
                        "items": {"anyOf": [SUCCESS_SCHEMA, FAILURE_SCHEMA]},
                    },
                    "metadata": _METADATA,
                },
            }
        ),
    },
    304: {"description": "Not modified: the If-None-Match ETag is this context's current answer."},
    400: {
        "description": "`{errorCode, errorDetails}`: PARSE_ERROR or INVALID_CONTEXT.",
        **_content(REQUEST_FAILURE_SCHEMA),
    },
    **_REFUSED,
}


@router.post(
    "/evaluate/flags",
    operation_id="ofrep_evaluate_flags",
    response_class=JSONResponse,
    responses=_BULK_RESPONSES,
    openapi_extra={"requestBody": _REQUEST_BODY},
)
async def evaluate_flags(
    request: Request,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Evaluate every flag of the environment for one context (OFREP `evaluateFlagsBulk`).

    The ETag is a hash of the answer itself, so a 304 means exactly "this
    context would get the same values": a changed flag set, an expired override
    or another context all produce a new answer.
    """
    state: ServerState = request.app.state.phased
    body = await request.body()
    sets = sets_of(request.app.state)
    return _response(answer_bulk(state, sets, request.scope, request.headers, body=body))


def _etag_matches(etag: str, if_none_match: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    return etag in (t.strip().removeprefix("W/") for t in if_none_match.split(","))


CONFIGURATION = {
    "name": "phased",
    "capabilities": {
        "cacheInvalidation": {"polling": {"enabled": True, "minPollingIntervalMs": 1000}},
        "flagEvaluation": {"supportedTypes": ["boolean", "string", "int", "float", "object"]},
    },
}
_CONFIGURATION_ETAG = (
    '"' + hashlib.sha256(json.dumps(CONFIGURATION).encode()).hexdigest()[:16] + '"'
)


@router.get(
    "/configuration",
    operation_id="ofrep_configuration",
    response_class=JSONResponse,
    responses={
        200: {
            "description": "Name and capabilities.",
            "headers": {"ETag": {"schema": {"type": "string"}}},
        },
        304: {"description": "Not modified."},
        **_REFUSED,
    },
)
async def configuration(
    request: Request,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """What this server supports, for providers written against OFREP before v0.2.

    The endpoint left the protocol in May 2025 (open-feature/protocol#38);
    phased still answers it so that older providers that ask start cleanly.
    """
    state: ServerState = request.app.state.phased
    sets = sets_of(request.app.state)
    compiled = compiled_for(state, sets, request.scope, request.headers)
    if not isinstance(compiled, Compiled):
        return _response(compiled)
    headers = {"ETag": _CONFIGURATION_ETAG}
    if if_none_match and _etag_matches(_CONFIGURATION_ETAG, if_none_match):
        return Response(status_code=304, headers=headers)
    return _response(_json(CONFIGURATION, headers=headers))
