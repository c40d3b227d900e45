"""The one place errors become HTTP responses.

Every failure is ``{"error": {"code", "message", "field"}}`` with the status
of its :class:`~phased.errors.PhasedError` class; request validation errors
are 422 in the same shape; unknown routes are 404 and wrong methods 405 in
the same shape too. Only a bug answers 500 (and its details stay in the log).
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from phased.errors import PhasedError, RateLimitedError
from phased.obs.log import get_logger
from phased.obs.redact import redact_text
from phased.server import tracing

log = get_logger("phased.server")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


class ErrorDetail(BaseModel):
    """What went wrong, in a form a script can branch on."""

    code: str = Field(description="Stable machine code, e.g. not_found, conflict, invalid.")
    message: str = Field(description="One line naming the field, the value and the fix.")
    field: str | None = Field(default=None, description="The input the error is about, if any.")


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


def _doc(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _doc("The request was refused (a rule of the domain, not its syntax)."),
    401: _doc("No token, or an unknown or revoked one."),
    403: _doc("The token's role does not allow this."),
    404: _doc("The named flag, segment, plan or entry does not exist."),
    409: _doc("A stale write or a duplicate: reload and retry."),
    422: _doc("The request is malformed or a value is out of range."),
    429: _doc("Too many mutations from this token; see Retry-After."),
}
"""Documented on every API route so /openapi.json describes each failure."""


class RetryAfterError(RateLimitedError):
    """Rate limited, with the seconds until the next attempt may succeed."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, field="token")
        self.retry_after = retry_after


def error_response(
    status: int, code: str, message: str, field: str | None = None, **headers: str
) -> JSONResponse:
    """The JSON error response (security headers are added by the middleware).

    The message is redacted: it often quotes the request's own values back.
    """
    body = {"error": {"code": code, "message": redact_text(message), "field": field}}
    return JSONResponse(body, status_code=status, headers=headers or None)


def _field(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or (str(loc[0]) if loc else None)


async def _phased_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PhasedError)
    headers: dict[str, str] = {}
    if isinstance(exc, RetryAfterError):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    if exc.http_status >= 500:
        log.error("request_failed", code=exc.code, message=str(exc))
    tracing.record_error(f"{exc.code}: {exc}")
    return error_response(exc.http_status, exc.code, str(exc), exc.field, **headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if not errors:
        return error_response(422, "invalid", "the request is malformed")
    first = errors[0]
    field = _field(tuple(first.get("loc", ())))
    message = str(first.get("msg", "invalid value"))
    if first.get("type") == "missing":
        message = "is required"
    elif first.get("type") == "json_invalid":
        # pydantic's loc is ("body", <character offset>): the field is the body itself.
        where = first.get("loc", ())
        at = where[-1] if where and isinstance(where[-1], int) else None
        field = "body"
        message = "is not valid JSON" + (f" (at character {at})" if at is not None else "")
        message += "; send a JSON object with Content-Type: application/json"
    elif first.get("type") == "extra_forbidden":
        message = "is not a known field"
    text = f"{field}: {message}" if field else message
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more)"
    tracing.fail_step("validate", text)
    return error_response(422, "invalid", text, field)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    message = str(exc.detail) if exc.detail else code.replace("_", " ")
    if exc.status_code == 404 and message == "Not Found":
        message = "no such endpoint; see /docs or /openapi.json"
    headers = dict(exc.headers or {})
    return error_response(exc.status_code, code, message, None, **headers)


def internal_error(_exc: BaseException | None = None) -> JSONResponse:
    """The 500 answer to a bug: nothing about it leaves the process but the trace id."""
    return error_response(500, "internal", "internal error; the server log has the details")


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", error=type(exc).__name__)
    return internal_error(exc)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(PhasedError, _phased_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
